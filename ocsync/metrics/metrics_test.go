package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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
)

// errFailed is the error of a run that could not list.
var errFailed = &ocsync.ListError{Side: "source", Err: errors.New("platform down")}

var phases = ocsync.Phases{List: 700 * time.Millisecond, Plan: 50 * time.Millisecond, Apply: 750 * time.Millisecond}

func TestExposition(t *testing.T) {
	rep, err := guardReport(t, false)
	m := ocsync.RunOutcome{Report: rep, Err: err, Duration: 1500 * time.Millisecond, Phases: phases, Retries: ocsync.Retries{Source: 2, Registry: 1}, Finished: now}
	// The Go version is the toolchain's: the golden file holds a stand-in.
	text := strings.ReplaceAll(string(metrics.Exposition("v1.2.3", m)), `goversion="`+runtime.Version()+`"`, `goversion="go"`)
	golden(t, "metrics.txt", []byte(text))

	// A run without a plan still sets every per-run family, to zero, so
	// that a push replaces what an earlier run left in the Pushgateway.
	none := string(metrics.Exposition("v1.2.3", ocsync.RunOutcome{Err: errFailed, Finished: now}))
	assert.Contains(t, none, "ocjob_last_run_exit_code 1\n")
	assert.Contains(t, none, `ocjob_last_run_changes{result="created"} 0`+"\n")
	assert.Contains(t, none, `ocjob_items{kind="create",result="applied"} 0`+"\n")
	assert.Contains(t, none, `ocjob_phase_duration_seconds{phase="apply"} 0`+"\n")
	assert.NotContains(t, none, "ocjob_last_success_timestamp_seconds")

	ok := string(metrics.Exposition("v1.2.3", ocsync.RunOutcome{Report: &ocsync.Report{Plan: &ocsync.Plan{}}, Finished: now}))
	assert.Contains(t, ok, "ocjob_last_success_timestamp_seconds 1.7723664e+09\n")
	dry := string(metrics.Exposition("v1.2.3", ocsync.RunOutcome{Report: &ocsync.Report{DryRun: true, Plan: &ocsync.Plan{}}, Finished: now}))
	assert.NotContains(t, dry, "ocjob_last_success_timestamp_seconds", "a dry run is no success of the sync")
	assert.Contains(t, dry, "ocjob_last_run_dry_run 1\n")
}

func TestPushMetrics(t *testing.T) {
	tests := []struct {
		name    string
		owner   string
		status  int
		path    string
		group   string
		wantErr string
	}{
		{"ok", "", http.StatusOK, "/metrics/job/ocjob", "job=ocjob", ""},
		{"accepted with owner", "shard-a", http.StatusAccepted, "/metrics/job/ocjob/owner/shard-a", "job=ocjob,owner=shard-a", ""},
		{"owner encoded by the library", "a/b", http.StatusOK, "/metrics/job/ocjob/owner@base64/YS9i", "job=ocjob,owner=a/b", ""},
		{"refused", "", http.StatusBadRequest, "/metrics/job/ocjob", "job=ocjob", "unexpected status code 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg := newPushgateway(t)
			pg.setStatus(tt.status, "")
			rep, rerr := guardReport(t, false)
			m := ocsync.RunOutcome{Report: rep, Err: rerr, Phases: phases, Finished: now}
			err := pushMetrics(context.Background(), pg.Client(), pg.URL, tt.owner, m)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			reqs := pg.pushes()
			require.Len(t, reqs, 1)
			assert.Equal(t, http.MethodPost, reqs[0].method, "Add: only the families pushed are replaced")
			assert.Equal(t, tt.path, reqs[0].path)
			assert.Equal(t, tt.group, reqs[0].group)
			assert.Contains(t, reqs[0].contentType, "application/vnd.google.protobuf")
			fams := reqs[0].families
			v, ok := sample(fams["ocjob_last_run_exit_code"])
			assert.True(t, ok)
			assert.Equal(t, float64(ocsync.ExitItemsFailed), v)
			v, _ = sample(fams["ocjob_last_run_changes"], "result", "withheld")
			assert.Equal(t, 4.0, v)
			v, _ = sample(fams["ocjob_items"], "kind", "delete", "result", "withheld")
			assert.Equal(t, 4.0, v)
			v, _ = sample(fams["ocjob_items"], "kind", "create", "result", "failed")
			assert.Equal(t, 1.0, v)
			v, _ = sample(fams["ocjob_phase_duration_seconds"], "phase", "list")
			assert.Equal(t, 0.7, v)
			v, _ = sample(fams["ocjob_last_run_spec_fetches"])
			assert.Equal(t, float64(rep.Summary.SpecFetches), v)
			assert.NotContains(t, fams, "ocjob_last_success_timestamp_seconds", "exit 3 is no success")
			for name, mf := range fams {
				assert.Equal(t, dto.MetricType_GAUGE, mf.GetType(), name)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		assert.Error(t, pushMetrics(context.Background(), nil, url, "", ocsync.RunOutcome{}))
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := pushMetrics(ctx, nil, "http://127.0.0.1:1", "", ocsync.RunOutcome{})
		assert.ErrorIs(t, err, context.Canceled)
	})
}

// The Pushgateway keeps a group's families between pushes: Add replaces
// what a push carries, so the success timestamp of an earlier run survives
// a failed one while every per-run family is replaced.
func TestPushKeepsLastSuccessAcrossFailures(t *testing.T) {
	pg := newPushgateway(t)
	ctx := context.Background()
	const group = "job=ocjob,owner=shard-a"
	success := now.Add(-time.Hour)

	rep, err := guardReport(t, false)
	first := ocsync.RunOutcome{Report: rep, Err: err, Finished: success.Add(-time.Hour)}
	require.NoError(t, pushMetrics(ctx, pg.Client(), pg.URL, "shard-a", first))
	_, ok := pg.value(group, "ocjob_last_success_timestamp_seconds")
	assert.False(t, ok, "no success yet")

	ok2 := ocsync.RunOutcome{Report: &ocsync.Report{Plan: &ocsync.Plan{}, Results: []ocsync.Result{{Kind: ocsync.KindUnchanged, Outcome: ocsync.OutcomeNone}}},
		Finished: success}
	require.NoError(t, pushMetrics(ctx, pg.Client(), pg.URL, "shard-a", ok2))
	v, _ := pg.value(group, "ocjob_items", "kind", "delete", "result", "withheld")
	assert.Zero(t, v, "the items of the first run are replaced")

	failed := ocsync.RunOutcome{Err: errFailed, Finished: now, Phases: ocsync.Phases{List: time.Second}}
	require.NoError(t, pushMetrics(ctx, pg.Client(), pg.URL, "shard-a", failed))
	v, ok = pg.value(group, "ocjob_last_success_timestamp_seconds")
	assert.True(t, ok)
	assert.Equal(t, float64(success.Unix()), v, "the last success is kept")
	v, _ = pg.value(group, "ocjob_last_run_exit_code")
	assert.Equal(t, 1.0, v)
	v, _ = pg.value(group, "ocjob_last_run_timestamp_seconds")
	assert.Equal(t, float64(now.Unix()), v)
	v, ok = pg.value(group, "ocjob_items", "kind", "unchanged", "result", "none")
	assert.True(t, ok)
	assert.Zero(t, v, "nothing of the successful run is left in the items")
	v, _ = pg.value(group, "ocjob_phase_duration_seconds", "phase", "list")
	assert.Equal(t, 1.0, v)
	v, ok = pg.value(group, "ocjob_phase_duration_seconds", "phase", "apply")
	assert.True(t, ok)
	assert.Zero(t, v)
	_, ok = pg.value("job=ocjob", "ocjob_last_run_exit_code")
	assert.False(t, ok, "the owner's group only")
}

func TestPushErrorIsBoundedAndScrubbed(t *testing.T) {
	const secret = "push-SECRET-51d0"
	pg := newPushgateway(t)
	pg.setStatus(http.StatusBadGateway, "upstream said "+secret+"\n"+strings.Repeat("x", 4<<20))
	m := metrics.NewMetrics("v1.2.3")
	m.Observe(ocsync.RunOutcome{})
	err := m.Push(context.Background(), pg.Client(), pg.URL, "", redact.NewScrubber(secret))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "502")
	assert.Contains(t, err.Error(), "upstream said [redacted] ")
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, err.Error(), "\n")
	assert.LessOrEqual(t, len(err.Error()), redact.MaxQuotedBytes+64)
}

func TestServiceMetrics(t *testing.T) {
	m := metrics.NewServiceMetrics("v1.2.3")
	families := func() map[string]*dto.MetricFamily {
		mfs, err := m.Registry.Gather()
		require.NoError(t, err)
		out := map[string]*dto.MetricFamily{}
		for _, mf := range mfs {
			out[mf.GetName()] = mf
		}
		return out
	}
	assert.NotContains(t, families(), "ocjob_last_success_timestamp_seconds", "no run succeeded yet")
	assert.Contains(t, families(), "go_goroutines")
	assert.Contains(t, families(), "process_start_time_seconds")

	ok := &ocsync.Report{Plan: &ocsync.Plan{}}
	m.Observe(ocsync.RunOutcome{Report: ok, Finished: now.Add(-time.Minute)})
	m.Observe(ocsync.RunOutcome{Err: errFailed, Finished: now})
	m.Observe(ocsync.RunOutcome{Err: errFailed, Finished: now})
	fams := families()
	v, _ := sample(fams["ocjob_runs_total"], "exit_code", "0")
	assert.Equal(t, 1.0, v)
	v, _ = sample(fams["ocjob_runs_total"], "exit_code", "1")
	assert.Equal(t, 2.0, v)
	v, ok2 := sample(fams["ocjob_last_success_timestamp_seconds"])
	assert.True(t, ok2)
	assert.Equal(t, float64(now.Add(-time.Minute).Unix()), v)
	v, _ = sample(fams["ocjob_last_run_exit_code"])
	assert.Equal(t, 1.0, v)
}

// pushMetrics pushes the metrics of one run recording o.
func pushMetrics(ctx context.Context, client *http.Client, url, owner string, o ocsync.RunOutcome) error {
	m := metrics.NewMetrics("v1.2.3")
	m.Observe(o)
	return m.Push(ctx, client, url, owner, nil)
}
