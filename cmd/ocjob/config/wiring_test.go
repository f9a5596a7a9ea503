package config_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// fakes are a fake platform and a fake Director, and a configuration of
// the job pointing at them.
type fakes struct {
	oc  *octest.Server
	cp  *compasstest.Server
	cfg *config.Config
}

const fakeToken = "inst-SECRET-0c9e"

func newFakes(t *testing.T, n int, opts ...octest.Option) *fakes {
	t.Helper()
	var instances []octest.Instance
	for i := range n {
		instances = append(instances, octest.Instance{
			ID: int64(100 + i), Name: "crm", Token: fakeToken + string(rune('a'+i)),
			Element: octest.Element{ID: 1, Key: "sfdc", Name: "Salesforce"},
		})
	}
	oc := octest.NewServer(append([]octest.Option{octest.WithInstances(instances...)}, opts...)...)
	t.Cleanup(oc.Close)
	cp := compasstest.NewServer()
	t.Cleanup(cp.Close)
	cfg := &config.Config{
		Compass: compass.Config{
			DirectorURL: cp.GraphQLURL(), Tenant: compasstest.DefaultTenant, TokenURL: cp.TokenURL(),
			ClientID: compasstest.DefaultClientID, ClientSecret: compasstest.DefaultClientSecret,
			Timeout: 5 * time.Second, PageSize: 200,
		},
		Source: openconnectors.SourceOptions{ApplicationPrefix: "oc"},
		OpenConnectors: openconnectors.Config{
			Host:       oc.URL,
			UserSecret: redact.Secret(oc.UserSecret), OrganizationSecret: redact.Secret(oc.OrganizationSecret),
			Timeout: 5 * time.Second, PageSize: 200, MaxSpecBytes: config.DefaultMaxSpecBytes,
		},
		Sync: config.Sync{
			Policy: ocsync.PolicySync, Concurrency: 2, MaxDeletePercent: config.DefaultMaxDeletePercent,
			SpecRefreshInterval: config.DefaultSpecRefreshInterval, RunTimeout: config.DefaultRunTimeout,
		},
	}
	return &fakes{oc: oc, cp: cp, cfg: cfg}
}

// A Config made by hand with values config.Load would have refused: the
// library's field errors stay in the chain.
func TestNewEngineKeepsLibraryErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(cfg *config.Config)
		key   string
		field string
	}{
		{"page size", func(cfg *config.Config) { cfg.OpenConnectors.PageSize = 500 }, "openConnectors", "PageSize"},
		{"empty tag", func(cfg *config.Config) { cfg.OpenConnectors.Tags = []string{"a", ""} }, "openConnectors", "Tags[1]"},
		{"prefix", func(cfg *config.Config) { cfg.Source.ApplicationPrefix = "Bad_Prefix" }, "", "ApplicationPrefix"},
		{"owner", func(cfg *config.Config) { cfg.Source.Owner = "no spaces allowed" }, "", "Owner"},
		{"integration system", func(cfg *config.Config) { cfg.Compass.IntegrationSystemID = "not-a-uuid" }, "compass", "IntegrationSystemID"},
		{"compass page size", func(cfg *config.Config) { cfg.Compass.PageSize = 201 }, "compass", "PageSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakes(t, 1)
			tt.edit(f.cfg)
			_, err := config.NewController(f.cfg, config.Options{})
			require.Error(t, err)
			assert.ErrorIs(t, err, config.ErrInvalid)
			assert.Equal(t, ocsync.ExitFailed, ocsync.ExitCode(nil, err))
			var ce *config.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.key, ce.Key)
			var fe *remote.FieldError
			require.ErrorAs(t, err, &fe, "the library's error stays in the chain")
			assert.Equal(t, tt.field, fe.Field)
		})
	}
}

func TestNewEngineSharesTheScrubber(t *testing.T) {
	f := newFakes(t, 2)
	scrubber := config.NewScrubber(f.cfg)
	e, err := config.NewController(f.cfg, config.Options{Scrubber: scrubber})
	require.NoError(t, err)
	assert.Equal(t, fakeToken+"a", scrubber.Scrub(fakeToken+"a"), "not known before the listing")

	o := e.RunOnce(context.Background())
	require.NoError(t, o.Err)
	assert.Equal(t, 2, o.Report.Summary.Created)
	for _, secret := range []string{fakeToken + "a", fakeToken + "b", f.oc.UserSecret, compasstest.DefaultClientSecret} {
		assert.Equal(t, redact.Placeholder, scrubber.Scrub(secret), "the run's Scrubber knows %s", secret)
	}
	assert.Positive(t, o.Phases.List)
	assert.Positive(t, o.Phases.Plan)
	assert.Positive(t, o.Phases.Apply)
	assert.GreaterOrEqual(t, o.Duration, o.Phases.List+o.Phases.Plan+o.Phases.Apply)
}

func TestNewEngineScopes(t *testing.T) {
	f := newFakes(t, 1)
	f.cfg.Source.Owner = "shard-a"
	ctl, err := config.NewController(f.cfg, config.Options{})
	require.NoError(t, err)
	e := ctl.Engine
	u, err := url.Parse(f.oc.URL)
	require.NoError(t, err)
	want := ocsync.Scope{Context: u.Host, Owner: "shard-a"}
	for _, side := range []any{e.Source, e.Registry} {
		s, ok := side.(ocsync.Scoped)
		require.True(t, ok, "%T keeps the optional interfaces of what it wraps", side)
		assert.Equal(t, want, s.Scope())
	}
	_, ok := e.Registry.(ocsync.Names)
	assert.True(t, ok)
	assert.Equal(t, config.DefaultRunTimeout, ctl.RunTimeout)
}

func TestSyncCountsRetriesPerRemote(t *testing.T) {
	f := newFakes(t, 2)
	f.oc.AddFault(octest.EndpointInstances, octest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0", Times: 1})
	f.oc.AddFault(octest.EndpointDocs, octest.Fault{Status: http.StatusBadGateway, RetryAfter: "0", Times: 2})
	f.cp.AddFault("applications", compasstest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	e, err := config.NewController(f.cfg, config.Options{})
	require.NoError(t, err)
	o := e.RunOnce(context.Background())
	require.NoError(t, o.Err)
	assert.Equal(t, ocsync.Retries{Source: 3, Registry: 1}, o.Retries)

	// A second run counts its own retries only.
	o = e.RunOnce(context.Background())
	require.NoError(t, o.Err)
	assert.Equal(t, ocsync.Retries{}, o.Retries)
}

// An HTTP 413 from an ingress for one application fails that item only: the
// others are applied and the run exits 3, not 1.
func TestSyncOneRefusedBodyFailsOneItem(t *testing.T) {
	f := newFakes(t, 5)
	f.cfg.Sync.Concurrency = 1
	f.cp.AddFault("registerApplication", compasstest.Fault{Status: http.StatusRequestEntityTooLarge, Times: 1})
	e, err := config.NewController(f.cfg, config.Options{})
	require.NoError(t, err)
	o := e.RunOnce(context.Background())
	require.Error(t, o.Err)
	assert.Equal(t, ocsync.ExitItemsFailed, o.ExitCode())
	require.NotNil(t, o.Report)
	assert.Equal(t, 4, o.Report.Summary.Created)
	assert.Equal(t, 1, o.Report.Summary.Failed)
	assert.Zero(t, o.Report.Summary.NotStarted)
}

// A name taken by an application the job does not own is a conflict at
// plan time: every later run costs the list pages and one name look-up, no
// document download and no refused register.
func TestKnownClashCostsNoDownloadAndNoMutation(t *testing.T) {
	f := newFakes(t, 3)
	_, err := f.cp.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "OC_101", Labels: map[string]any{"team": "manual"}})
	require.NoError(t, err)
	for run := range 2 {
		e, err := config.NewController(f.cfg, config.Options{})
		require.NoError(t, err)
		f.oc.ResetCounts()
		f.cp.ResetCounts()
		o := e.RunOnce(context.Background())
		require.ErrorIs(t, o.Err, ocsync.ErrConflict)
		assert.Equal(t, 1, o.Report.Summary.Conflicts)
		if run == 0 {
			assert.Equal(t, 2, o.Report.Summary.Created)
			continue
		}
		assert.Equal(t, 2, o.Report.Summary.Unchanged)
		assert.Zero(t, f.oc.Count(octest.EndpointDocs), "no document download for the clash")
		counts := f.cp.Counts()
		delete(counts, compasstest.TokenOperation)
		assert.Equal(t, map[string]int{"applications": 2}, counts,
			"the listing page and the one look-up of the clashing name; no register")
	}
}
