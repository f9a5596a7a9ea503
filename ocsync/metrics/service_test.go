package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/metrics"
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

// scripted is a Source and a Registry whose runs end with the exit code run
// returns when the run lists: ExitOK (the one owned application is brought
// up to date), ExitFailed (the source's listing fails), ExitItemsFailed (an
// unusable instance besides) or ExitGuard (the source is empty while the
// job owns an application).
type scripted struct{ run func(ctx context.Context) int }

func (s scripted) Applications(ctx context.Context) ([]ocsync.Application, error) {
	owned := ocsync.Application{Name: "oc-9", Key: "9"}
	switch s.run(ctx) {
	case ocsync.ExitFailed:
		return nil, errors.New("platform down")
	case ocsync.ExitItemsFailed:
		return []ocsync.Application{owned, {Name: "oc-1", Unusable: "no token"}}, nil
	case ocsync.ExitGuard:
		return nil, nil
	}
	return []ocsync.Application{owned}, nil
}

func (scripted) Spec(context.Context, ocsync.Application) (ocsync.Spec, error) {
	return ocsync.Spec{Type: "OPEN_API", Format: "JSON", Data: []byte("{}")}, nil
}

// registry always lists the one owned application and accepts every change.
type registry struct{}

func (registry) Applications(context.Context) ([]ocsync.Registered, error) {
	return []ocsync.Registered{{ID: "9", Name: "oc-9", Key: "9", Owned: true}}, nil
}
func (registry) Create(context.Context, ocsync.Application, ocsync.Spec, ocsync.State) error {
	return nil
}
func (registry) Update(context.Context, ocsync.Registered, ocsync.Application, ocsync.Update) error {
	return nil
}
func (registry) Delete(context.Context, ocsync.Registered) error { return nil }

// controller runs the script every interval.
func controller(interval time.Duration, run func(ctx context.Context) int) *ocsync.Controller {
	return &ocsync.Controller{Engine: &ocsync.Engine{Source: scripted{run: run}, Registry: registry{}}, Interval: interval}
}

func TestServiceRunsEveryIntervalAndServesMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := listen(t)
	base := "http://" + ln.Addr().String()
	var (
		runs     int
		observed float64
		ready    int
	)
	ctl := controller(1, func(context.Context) int {
		runs++
		if runs == 3 {
			// Two runs have ended and been recorded; stop after this one.
			observed, _ = scrape(t, base, "ocjob_runs_total", "exit_code", "0")
			ready, _ = get(t, base+"/readyz")
			cancel()
		}
		return ocsync.ExitOK
	})
	require.NoError(t, metrics.Serve(ctx, ln, ctl, metrics.NewServiceMetrics("v1.2.3"), nil))
	assert.Equal(t, 3, runs, "no run starts after the context ended")
	assert.Equal(t, 3, ctl.Runs())
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
	ctl := controller(1, func(ctx context.Context) int {
		if runs.Add(1) == 1 {
			close(entered)
		}
		<-ctx.Done() // a run that lasts until it is cancelled
		return ocsync.ExitOK
	})
	done := make(chan error, 1)
	go func() { done <- metrics.Serve(ctx, listen(t), ctl, nil, nil) }()
	<-entered
	cancel()
	require.NoError(t, <-done, "a clean shutdown")
	assert.EqualValues(t, 1, runs.Load())
	assert.Equal(t, ocsync.ExitItemsFailed, ctl.LastExitCode(), "the cancelled run started no change")
}

func TestServiceNeverOverlapsRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	var inFlight, most, runs atomic.Int32
	ctl := controller(1, func(context.Context) int { // every run outlasts the interval
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		if runs.Add(1) == 5 {
			cancel()
		}
		return ocsync.ExitOK
	})
	ctl.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	require.NoError(t, ctl.Run(ctx))
	assert.EqualValues(t, 5, runs.Load())
	assert.EqualValues(t, 1, most.Load(), "one run at a time")
	assert.Equal(t, 4, strings.Count(logs.String(), "the run took longer than the interval; the next run starts now"))
}

func TestRunOnceNeverOverlaps(t *testing.T) {
	var inFlight, most atomic.Int32
	ctl := controller(0, func(context.Context) int {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		runtime.Gosched()
		return ocsync.ExitOK
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { ctl.RunOnce(context.Background()) })
	}
	wg.Wait()
	assert.Equal(t, 8, ctl.Runs())
	assert.EqualValues(t, 1, most.Load(), "callers of RunOnce wait for each other")
}

func TestServiceReadiness(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := listen(t)
	base := "http://" + ln.Addr().String()
	codes := []int{ocsync.ExitOK, ocsync.ExitItemsFailed, ocsync.ExitFailed, ocsync.ExitGuard}
	// ready[i] is /readyz while run i runs: after run i-1 ended.
	var ready, healthy []int
	ctl := controller(1, func(context.Context) int {
		n := len(ready)
		status, _ := get(t, base+"/readyz")
		ready = append(ready, status)
		status, _ = get(t, base+"/healthz")
		healthy = append(healthy, status)
		if n == len(codes) {
			cancel()
			return ocsync.ExitOK
		}
		return codes[n]
	})
	require.NoError(t, metrics.Serve(ctx, ln, ctl, nil, nil))
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
	ctl := controller(0, func(context.Context) int { runs++; return ocsync.ExitGuard })
	require.NoError(t, metrics.Serve(context.Background(), listen(t), ctl, nil, nil))
	assert.Equal(t, 1, runs)
	assert.Equal(t, ocsync.ExitGuard, ctl.LastExitCode())
	assert.Error(t, (&ocsync.Controller{Engine: ctl.Engine, Interval: -1}).Run(context.Background()))
	assert.Error(t, (&ocsync.Controller{Interval: 1}).Run(context.Background()))
}

func TestServiceHandler(t *testing.T) {
	ln := listen(t)
	srv := &http.Server{Handler: metrics.Handler(controller(1, nil), nil)}
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
