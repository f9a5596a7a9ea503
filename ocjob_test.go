package ocjob_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ocjob "github.com/kyma-incubator/open-connectors-job"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

func valid() ocjob.Config {
	return ocjob.Config{
		OpenConnectors: openconnectors.Config{Host: "api.example.org:8443", UserSecret: "user-secret", OrganizationSecret: "org-secret"},
		Source:         openconnectors.SourceOptions{ApplicationPrefix: "oc", Owner: "shard-a"},
		Compass: compass.Config{DirectorURL: "https://director.example.org/graphql", TokenURL: "https://auth.example.org/token",
			Tenant: "tenant-1", ClientID: "client", ClientSecret: "client-secret"},
	}
}

func TestNewDerivesTheScopeFromTheSource(t *testing.T) {
	ctl, err := ocjob.New(valid())
	require.NoError(t, err)
	want := ocsync.Scope{Context: "api.example.org:8443", Owner: "shard-a"}
	for _, side := range []any{ctl.Engine.Source, ctl.Engine.Registry} {
		scoped, ok := side.(ocsync.Scoped)
		require.True(t, ok)
		assert.Equal(t, want, scoped.Scope())
	}

	wrong := valid()
	wrong.Compass.Scope = ocsync.Scope{Context: "other.example.org"}
	_, err = ocjob.New(wrong)
	assert.ErrorIs(t, err, ocsync.ErrScopeMismatch)
	var pe *ocjob.PartError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "compass", pe.Part)

	same := valid()
	same.Compass.Scope = want
	_, err = ocjob.New(same)
	assert.NoError(t, err, "the derived scope itself is accepted")
}

func TestValidateNamesThePartAndTheField(t *testing.T) {
	cfg := valid()
	cfg.OpenConnectors.UserSecret = "a b"
	cfg.Source.ApplicationPrefix = "a--b"
	cfg.Compass.Tenant = ""
	err := cfg.Validate()
	require.Error(t, err)
	parts := map[string]string{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var pe *ocjob.PartError
		require.ErrorAs(t, e, &pe)
		var fe *remote.FieldError
		require.ErrorAs(t, e, &fe)
		parts[pe.Part] = fe.Field
	}
	assert.Equal(t, map[string]string{"openConnectors": "UserSecret", "source": "ApplicationPrefix", "compass": "Tenant"}, parts)
	assert.NotContains(t, err.Error(), "a b", "no value is quoted")
	assert.NoError(t, valid().Validate())

	_, err = ocjob.New(cfg)
	var pe *ocjob.PartError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "openConnectors", pe.Part)
}

func TestNewScrubberKnowsBothClients(t *testing.T) {
	s := valid().NewScrubber()
	for _, secret := range []string{"user-secret", "org-secret", "client-secret"} {
		assert.Equal(t, redact.Placeholder, s.Scrub(secret))
	}
	assert.Equal(t, "client", s.Scrub("client"), "the client id is no secret")
}

func TestVersion(t *testing.T) {
	v := ocjob.Version()
	assert.True(t, v == "devel" || strings.HasPrefix(v, "devel-") || strings.HasPrefix(v, "v"), v)
}

func TestTimeoutLimits(t *testing.T) {
	for _, d := range []time.Duration{time.Millisecond, ocjob.MinTimeout - 1, ocjob.MaxTimeout + 1, -time.Second} {
		cfg := valid()
		cfg.OpenConnectors.Timeout = d
		cfg.Compass.SpecTimeout = d
		err := cfg.Validate()
		require.Error(t, err, d)
		var pe *ocjob.PartError
		require.ErrorAs(t, err, &pe)
		assert.Contains(t, err.Error(), "openConnectors: Timeout: value out of range", d)
		assert.Contains(t, err.Error(), "compass: SpecTimeout: value out of range", d)
		_, err = ocjob.New(cfg)
		assert.ErrorContains(t, err, "value out of range", d)
	}
	for _, d := range []time.Duration{0, ocjob.MinTimeout, ocjob.MaxTimeout} {
		cfg := valid()
		cfg.OpenConnectors.Timeout, cfg.Compass.Timeout = d, d
		require.NoError(t, cfg.Validate(), d)
		ctl, err := ocjob.New(cfg)
		require.NoError(t, err, d)
		assert.Equal(t, ocjob.MinInterval, ctl.MinInterval)
	}
	assert.NoError(t, ocjob.CheckRunTimeout(ocjob.MinRunTimeout))
	assert.ErrorContains(t, ocjob.CheckRunTimeout(ocjob.MinRunTimeout-1), "value out of range")
	assert.Error(t, ocjob.CheckRunTimeout(ocjob.MaxRunTimeout+1))
}

func TestLeaves(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	assert.Nil(t, ocjob.Leaves(nil))
	assert.Equal(t, []error{a}, ocjob.Leaves(a))
	assert.Equal(t, []error{a, b, c}, ocjob.Leaves(errors.Join(a, errors.Join(b, nil, c))))
	wrapped := fmt.Errorf("wrapped: %w", errors.Join(a, b))
	assert.Equal(t, []error{wrapped}, ocjob.Leaves(wrapped), "a wrapped join is one problem")
}
