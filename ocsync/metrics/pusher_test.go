package metrics_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/metrics"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// A dry run pushes to a group of its own: whatever it finds, the real
// run's metrics (and so the timers of their alerts) stay as they were.
func TestDryRunLeavesTheRealRunsMetricsIntact(t *testing.T) {
	pg := newPushgateway(t)
	ctx := context.Background()
	const real, dry = "job=ocjob,owner=shard-a", "job=ocjob,mode=dry_run,owner=shard-a"
	p := &metrics.Pusher{URL: pg.URL, Owner: "shard-a", Version: "v1.2.3", Client: pg.Client()}

	succeeded := ocsync.RunOutcome{Report: &ocsync.Report{Plan: &ocsync.Plan{},
		Results: []ocsync.Result{{Kind: ocsync.KindUnchanged, Outcome: ocsync.OutcomeNone}}}, Finished: now.Add(-time.Hour)}
	require.NoError(t, p.Push(ctx, succeeded))
	// A dry run from a laptop that cannot list, and one that plans.
	failedDry := ocsync.RunOutcome{Err: errFailed, DryRun: true, Finished: now}
	require.NoError(t, p.Push(ctx, failedDry))
	rep, err := guardReport(t, true)
	require.NoError(t, p.Push(ctx, ocsync.RunOutcome{Report: rep, Err: err, DryRun: true, Finished: now}))

	v, _ := pg.value(real, "ocjob_last_run_exit_code")
	assert.Zero(t, v, "the real run's exit code")
	v, _ = pg.value(real, "ocjob_last_run_timestamp_seconds")
	assert.Equal(t, float64(now.Add(-time.Hour).Unix()), v)
	v, _ = pg.value(real, "ocjob_last_run_dry_run")
	assert.Zero(t, v)
	v, _ = pg.value(real, "ocjob_items", "kind", "unchanged", "result", "none")
	assert.Equal(t, 1.0, v)
	v, ok := pg.value(real, "ocjob_last_success_timestamp_seconds")
	assert.True(t, ok)
	assert.Equal(t, float64(now.Add(-time.Hour).Unix()), v)

	v, _ = pg.value(dry, "ocjob_last_run_dry_run")
	assert.Equal(t, 1.0, v)
	v, _ = pg.value(dry, "ocjob_items", "kind", "delete", "result", "withheld")
	assert.Equal(t, 4.0, v, "the dry run's own plan, in its own group")
	v, ok = pg.value(real, "ocjob_items", "kind", "delete", "result", "withheld")
	assert.True(t, ok)
	assert.Zero(t, v, "nothing of the dry run's plan in the real group")
	_, ok = pg.value(dry, "ocjob_last_success_timestamp_seconds")
	assert.False(t, ok, "a dry run is no success")

	// A real run after them replaces only the real group.
	require.NoError(t, p.Push(ctx, ocsync.RunOutcome{Err: errFailed, Finished: now}))
	v, _ = pg.value(real, "ocjob_last_run_exit_code")
	assert.Equal(t, 1.0, v)
	v, _ = pg.value(dry, "ocjob_last_run_dry_run")
	assert.Equal(t, 1.0, v)
	var groups []string
	for _, r := range pg.pushes() {
		groups = append(groups, r.group)
	}
	assert.Equal(t, []string{real, dry, dry, real}, groups)
}

func TestPusherAuthenticates(t *testing.T) {
	const password, token = "push-password-51d0", "push-token-7a2c9e"
	tests := []struct {
		name string
		p    metrics.Pusher
		want string
	}{
		{"none", metrics.Pusher{}, ""},
		{"basic", metrics.Pusher{Username: "ocjob", Password: password},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("ocjob:"+password))},
		{"bearer", metrics.Pusher{BearerToken: token}, "Bearer " + token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg := newPushgateway(t)
			p := tt.p
			p.URL, p.Client = pg.URL, pg.Client()
			require.NoError(t, p.Push(context.Background(), ocsync.RunOutcome{Finished: now}))
			reqs := pg.pushes()
			require.Len(t, reqs, 1)
			assert.Equal(t, tt.want, reqs[0].authorization)
		})
	}
}

func TestPusherScrubsItsCredentials(t *testing.T) {
	const password, token = "push-password-51d0", "push-token-7a2c9e"
	basic := base64.StdEncoding.EncodeToString([]byte("ocjob:" + password))
	for _, tt := range []struct {
		p       metrics.Pusher
		secrets []string
	}{
		{metrics.Pusher{Username: "ocjob", Password: password}, []string{password, basic}},
		{metrics.Pusher{BearerToken: token}, []string{token}},
	} {
		pg := newPushgateway(t)
		scrubber := redact.NewScrubber()
		p := tt.p
		p.URL, p.Client, p.Scrubber = pg.URL, pg.Client(), scrubber
		// A Pushgateway behind a proxy that echoes what it refused.
		pg.setStatus(http.StatusUnauthorized, "refused "+strings.Join(tt.secrets, " "))
		err := p.Push(context.Background(), ocsync.RunOutcome{Finished: now})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "401")
		for _, s := range tt.secrets {
			assert.NotContains(t, err.Error(), s)
			assert.NotContains(t, scrubber.Scrub("log: "+s), s, "the scrubber learnt it")
		}
	}
}

func TestPusherTrustsRootCAs(t *testing.T) {
	pg := newTLSPushgateway(t)
	pool := x509.NewCertPool()
	pool.AddCert(pg.Certificate())
	trusting := &metrics.Pusher{URL: pg.URL, BearerToken: "push-token-7a2c9e", RootCAs: pool}
	require.NoError(t, trusting.Push(context.Background(), ocsync.RunOutcome{Finished: now}))
	err := (&metrics.Pusher{URL: pg.URL}).Push(context.Background(), ocsync.RunOutcome{Finished: now})
	require.Error(t, err, "the system's authorities do not know the test's")
	assert.Contains(t, err.Error(), "certificate")
	assert.Len(t, pg.pushes(), 1)
}

func TestPusherValidate(t *testing.T) {
	const secret = "push-password-51d0"
	pool := x509.NewCertPool()
	tests := []struct {
		name   string
		p      metrics.Pusher
		fields []string
	}{
		{"plain http without credentials", metrics.Pusher{URL: "http://pushgateway.monitoring:9091/"}, nil},
		{"https with basic auth", metrics.Pusher{URL: "https://pg.example.org", Username: "u", Password: secret}, nil},
		{"plain http to loopback with a token", metrics.Pusher{URL: "http://127.0.0.1:9091", BearerToken: secret}, nil},
		{"missing URL", metrics.Pusher{}, []string{"URL"}},
		{"credentials in the URL", metrics.Pusher{URL: "https://u:" + secret + "@pg.example.org"}, []string{"URL"}},
		{"plain http with credentials", metrics.Pusher{URL: "http://pushgateway:9091", Username: "u", Password: secret}, []string{"URL"}},
		{"password without user", metrics.Pusher{URL: "https://pg.example.org", Password: secret}, []string{"Username"}},
		{"user without password", metrics.Pusher{URL: "https://pg.example.org", Username: "u"}, []string{"Password"}},
		{"colon in user", metrics.Pusher{URL: "https://pg.example.org", Username: "u:v", Password: secret}, []string{"Username"}},
		{"both kinds", metrics.Pusher{URL: "https://pg.example.org", Username: "u", Password: secret, BearerToken: secret}, []string{"BearerToken"}},
		{"newline in token", metrics.Pusher{URL: "https://pg.example.org", BearerToken: secret + "\n"}, []string{"BearerToken"}},
		{"CAs with a transport", metrics.Pusher{URL: "https://pg.example.org", RootCAs: pool,
			Client: &http.Client{Transport: http.DefaultTransport}}, []string{"RootCAs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			var fields []string
			if err != nil {
				assert.NotContains(t, err.Error(), secret)
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *remote.FieldError
					require.ErrorAs(t, e, &fe)
					fields = append(fields, fe.Field)
				}
			}
			assert.Equal(t, tt.fields, fields)
		})
	}
	u, err := metrics.ParseURL("HTTP://Pushgateway.Monitoring:9091/base/path/")
	require.NoError(t, err)
	assert.Equal(t, "http://Pushgateway.Monitoring:9091/base/path", u)
	// An invalid Pusher pushes nothing and says why.
	err = (&metrics.Pusher{URL: "pushgateway:9091"}).Push(context.Background(), ocsync.RunOutcome{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "URL")
}

// Every label value but the build's is snake_case, whatever the engine
// calls its outcomes.
var snakeCase = regexp.MustCompile(`^[a-z0-9_]*$`)

func TestLabelValuesAreSnakeCase(t *testing.T) {
	m := metrics.NewServiceMetrics("v1.2.3")
	rep, err := guardReport(t, false)
	m.Observe(ocsync.RunOutcome{Report: rep, Err: err, Finished: now})
	rep.Results = append(rep.Results, ocsync.Result{Kind: ocsync.KindDelete, Outcome: ocsync.OutcomeNotStarted})
	m.Observe(ocsync.RunOutcome{Report: rep, Err: err, Finished: now})
	m.ObserveRequest(remote.Request{Remote: remote.OpenConnectors, Status: 200})
	mfs, gerr := m.Registry.Gather()
	require.NoError(t, gerr)
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "ocjob_") || mf.GetName() == "ocjob_build_info" {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if mf.GetName() == "ocjob_requests_total" && l.GetName() == "outcome" {
					assert.Regexp(t, `^([2-5]xx|error)$`, l.GetValue())
					continue
				}
				assert.Regexp(t, snakeCase, l.GetValue(), "%s{%s}", mf.GetName(), l.GetName())
			}
		}
	}
	v, _ := sample(family(t, m, "ocjob_items"), "kind", "delete", "result", "not_started")
	assert.Equal(t, 1.0, v)
	v, _ = sample(family(t, m, "ocjob_changes_total"), "kind", "delete", "result", "not_started")
	assert.Equal(t, 1.0, v)
}

func TestServiceCountsChangesAndRequests(t *testing.T) {
	m := metrics.NewServiceMetrics("v1.2.3")
	_, ok := sample(family(t, m, "ocjob_requests_total"), "remote", "compass", "outcome", "5xx")
	assert.True(t, ok, "every series is there from the start")
	v, ok := sample(family(t, m, "ocjob_changes_total"), "kind", "create", "result", "applied")
	assert.True(t, ok)
	assert.Zero(t, v)

	rep, err := guardReport(t, false)
	for range 2 {
		m.Observe(ocsync.RunOutcome{Report: rep, Err: err, Finished: now})
	}
	v, _ = sample(family(t, m, "ocjob_changes_total"), "kind", "delete", "result", "withheld")
	assert.Equal(t, 8.0, v, "cumulative over the runs")
	v, _ = sample(family(t, m, "ocjob_changes_total"), "kind", "update", "result", "applied")
	assert.Equal(t, 2.0, v)
	_, ok = sample(family(t, m, "ocjob_changes_total"), "kind", "unchanged", "result", "none")
	assert.False(t, ok, "an unchanged application is no change")

	for _, r := range []remote.Request{
		{Remote: remote.OpenConnectors, Method: "GET", Status: 200, Duration: 30 * time.Millisecond},
		{Remote: remote.OpenConnectors, Method: "GET", Status: 503, Duration: 2 * time.Second},
		{Remote: remote.OpenConnectors, Method: "GET", Status: 200, Duration: 40 * time.Millisecond},
		{Remote: remote.Compass, Method: "POST", Duration: 5 * time.Second},
	} {
		m.ObserveRequest(r)
	}
	for _, c := range []struct {
		remote, outcome string
		want            float64
	}{{"openconnectors", "2xx", 2}, {"openconnectors", "5xx", 1}, {"compass", "error", 1}, {"compass", "2xx", 0}} {
		v, _ := sample(family(t, m, "ocjob_requests_total"), "remote", c.remote, "outcome", c.outcome)
		assert.Equal(t, c.want, v, c)
	}
	h := histogram(family(t, m, "ocjob_request_duration_seconds"), "openconnectors")
	require.NotNil(t, h)
	assert.EqualValues(t, 3, h.GetSampleCount())
	assert.InDelta(t, 2.07, h.GetSampleSum(), 1e-9)

	// The metrics of one run count no requests, and neither does nil.
	one := metrics.NewMetrics("v1.2.3")
	one.ObserveRequest(remote.Request{Remote: remote.Compass, Status: 200})
	assert.Nil(t, family(t, one, "ocjob_requests_total"))
	var none *metrics.Metrics
	none.ObserveRequest(remote.Request{Remote: remote.Compass, Status: 200})
}

func TestBuildInfo(t *testing.T) {
	for version, want := range map[string]string{"v1.2.3": "v1.2.3", "": "unknown"} {
		v, ok := sample(family(t, metrics.NewMetrics(version), "ocjob_build_info"), "version", want, "goversion", runtime.Version())
		assert.True(t, ok, version)
		assert.Equal(t, 1.0, v)
	}
}

func family(t *testing.T, m *metrics.Metrics, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// histogram is the histogram of mf whose remote label is remote.
func histogram(mf *dto.MetricFamily, remote string) *dto.Histogram {
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "remote" && l.GetValue() == remote {
				return m.GetHistogram()
			}
		}
	}
	return nil
}
