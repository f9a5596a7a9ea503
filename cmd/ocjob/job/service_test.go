package job_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// scrape reads /metrics in the text format and returns the value of one
// sample.
func scrape(t *testing.T, base, name string, labels ...string) (float64, bool) {
	t.Helper()
	_, body := get(t, base+"/metrics")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	return sample(fams[name], labels...)
}

func TestServiceRunsEveryIntervalAndServesMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := listen(t)
	base := "http://" + ln.Addr().String()
	metrics := job.NewServiceMetrics()
	var (
		runs     int
		observed float64
		ready    int
	)
	svc := &job.Service{Interval: 1, Metrics: metrics, Run: func(context.Context) int {
		runs++
		if runs == 3 {
			// Two runs have ended and been recorded; stop after this one.
			observed, _ = scrape(t, base, "ocjob_runs_total", "exit_code", "0")
			ready, _ = get(t, base+"/readyz")
			cancel()
		}
		metrics.Observe(job.RunMetrics{Report: &ocsync.Report{Plan: &ocsync.Plan{}}, ExitCode: job.ExitOK})
		return job.ExitOK
	}}
	require.NoError(t, svc.Serve(ctx, ln))
	assert.Equal(t, 3, runs, "no run starts after the context ended")
	assert.Equal(t, 3, svc.Runs())
	assert.Equal(t, 2.0, observed)
	assert.Equal(t, http.StatusOK, ready)
	_, err := http.Get(base + "/healthz")
	assert.Error(t, err, "the server is shut down")
}

func TestServiceCancelsTheRunningRunAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered := make(chan struct{})
	var runs atomic.Int32
	svc := &job.Service{Interval: 1, Run: func(ctx context.Context) int {
		if runs.Add(1) == 1 {
			close(entered)
		}
		<-ctx.Done() // a run that lasts until it is cancelled
		return job.ExitItemsFailed
	}}
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, listen(t)) }()
	<-entered
	cancel()
	require.NoError(t, <-done, "a clean shutdown")
	assert.EqualValues(t, 1, runs.Load())
	assert.Equal(t, job.ExitItemsFailed, svc.LastExitCode())
}

func TestServiceNeverOverlapsRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	var inFlight, most, runs atomic.Int32
	svc := &job.Service{
		Interval: 1, // every run outlasts it
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		Run: func(context.Context) int {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > most.Load() {
				most.Store(n)
			}
			if runs.Add(1) == 5 {
				cancel()
			}
			return job.ExitOK
		},
	}
	require.NoError(t, svc.Loop(ctx))
	assert.EqualValues(t, 5, runs.Load())
	assert.EqualValues(t, 1, most.Load(), "one run at a time")
	assert.Equal(t, 4, strings.Count(logs.String(), "the run took longer than the interval; the next run starts now"))
}

func TestServiceReadiness(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := listen(t)
	base := "http://" + ln.Addr().String()
	codes := []int{job.ExitOK, job.ExitItemsFailed, job.ExitFailed, job.ExitGuard}
	// ready[i] is /readyz while run i runs: after run i-1 ended.
	var ready, healthy []int
	svc := &job.Service{Interval: 1}
	svc.Run = func(context.Context) int {
		n := len(ready)
		status, _ := get(t, base+"/readyz")
		ready = append(ready, status)
		status, _ = get(t, base+"/healthz")
		healthy = append(healthy, status)
		if n == len(codes) {
			cancel()
			return job.ExitOK
		}
		return codes[n]
	}
	require.NoError(t, svc.Serve(ctx, ln))
	assert.Equal(t, []int{
		http.StatusServiceUnavailable, // no run ended yet
		http.StatusOK,                 // after exit 0
		http.StatusOK,                 // after exit 3: items failed, listing worked
		http.StatusServiceUnavailable, // after exit 1
		http.StatusOK,                 // after exit 4
	}, ready)
	assert.Equal(t, []int{200, 200, 200, 200, 200}, healthy)
}

func TestServiceOnce(t *testing.T) {
	runs := 0
	svc := &job.Service{Run: func(context.Context) int { runs++; return job.ExitGuard }}
	require.NoError(t, svc.Serve(context.Background(), listen(t)))
	assert.Equal(t, 1, runs)
	assert.Equal(t, job.ExitGuard, svc.LastExitCode())
	assert.Error(t, (&job.Service{Interval: -1, Run: svc.Run}).Loop(context.Background()))
	assert.Error(t, (&job.Service{Interval: 1}).Loop(context.Background()))
}

func TestServiceHandler(t *testing.T) {
	svc := &job.Service{Interval: 1, Run: func(context.Context) int { return 0 }}
	ln := listen(t)
	srv := &http.Server{Handler: svc.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + ln.Addr().String()
	status, body := get(t, base+"/metrics")
	assert.Equal(t, http.StatusOK, status)
	assert.NotContains(t, body, "ocjob_runs_total", "an empty registry without Metrics")
	status, _ = get(t, base+"/nothing")
	assert.Equal(t, http.StatusNotFound, status)
	resp, err := http.Post(base+"/healthz", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
