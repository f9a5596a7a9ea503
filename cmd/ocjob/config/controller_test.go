package config_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewController(t *testing.T) {
	cfg, err := config.Load(context.Background(), filepath.Join("testdata", "original.json"), nil)
	require.NoError(t, err)

	ctl, err := config.NewController(cfg, config.Options{DryRun: true, Force: true})
	require.NoError(t, err)
	assert.Equal(t, cfg.Sync.RunTimeout, ctl.RunTimeout)
	e := ctl.Engine
	assert.True(t, e.DryRun)
	assert.True(t, e.Force)
	assert.Equal(t, ocsync.PolicySync, e.Policy)
	assert.Equal(t, config.DefaultConcurrency, e.Concurrency)
	assert.Equal(t, config.DefaultMaxDeletePercent, e.MaxDeletePercent)
	assert.Equal(t, config.DefaultSpecRefreshInterval, e.SpecRefreshInterval)
	require.NotNil(t, e.NameKey)
	assert.Equal(t, e.NameKey("App Prefix_1"), e.NameKey("app-prefix-1"))
	assert.NotNil(t, e.Source)
	assert.NotNil(t, e.Registry)

	_, err = config.NewController(nil, config.Options{})
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.Equal(t, ocsync.ExitFailed, ocsync.ExitCode(nil, err))
}

func TestConfigErrorsExitFailed(t *testing.T) {
	assert.Equal(t, ocsync.ExitFailed, ocsync.ExitCode(nil, &config.Error{Key: "compass", Problem: "x"}))
}
