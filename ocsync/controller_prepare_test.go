package ocsync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
)

// idleSource is a Source that counts the calls of CloseIdleConnections.
type idleSource struct {
	*ocsynctest.Source
	closed int
}

func (s *idleSource) CloseIdleConnections() { s.closed++ }

func TestControllerPrepare(t *testing.T) {
	src, reg := world(t, 2)
	t.Run("an error ends the run before listing", func(t *testing.T) {
		ctl := &ocsync.Controller{Engine: engine(src, reg), Prepare: func(context.Context) error {
			return errors.New("openConnectors.userSecretFile: cannot read it")
		}}
		o := ctl.RunOnce(context.Background())
		assert.Equal(t, ocsync.ExitFailed, o.ExitCode())
		assert.ErrorIs(t, o.Err, ocsync.ErrPrepare)
		assert.ErrorContains(t, o.Err, "openConnectors.userSecretFile: cannot read it")
		assert.Nil(t, o.Report)
		assert.Equal(t, 1, ctl.Runs())
		assert.False(t, ctl.Ready())
	})
	t.Run("it may replace the engine for this run and the next", func(t *testing.T) {
		idle := &idleSource{Source: src}
		ctl := &ocsync.Controller{Engine: engine(ocsynctest.NewSource(), reg)}
		replaced := engine(idle, reg)
		ctl.Prepare = func(context.Context) error { ctl.Engine = replaced; return nil }
		o := ctl.RunOnce(context.Background())
		require.NoError(t, o.Err)
		assert.Equal(t, 2, o.Report.Summary.Unchanged, "the replaced engine's source was listed")
		assert.Same(t, replaced, ctl.Engine)
		assert.Equal(t, 1, idle.closed, "idle connections are closed when the run ends")
	})
}

func TestControllerMinInterval(t *testing.T) {
	src, reg := world(t, 1)
	ctl := &ocsync.Controller{Engine: engine(src, reg), Interval: time.Second, MinInterval: 10 * time.Second}
	err := ctl.Run(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the interval 1s is shorter than the minimum of 10s")
	assert.Zero(t, ctl.Runs(), "no run starts")

	ctl.Interval = 0 // one run is always accepted
	require.NoError(t, ctl.CheckInterval())
	require.NoError(t, ctl.Run(context.Background()))
	assert.Equal(t, 1, ctl.Runs())
}
