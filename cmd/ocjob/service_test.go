package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	ocjob "github.com/kyma-incubator/open-connectors-job"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// service is ocjob running in service mode in the background.
type service struct {
	addr           string
	cancel         context.CancelFunc
	done           chan int
	stdout, stderr *lockedBuffer
}

// startService runs ocjob with args and -listen on a free loopback port,
// and returns once it listens.
func startService(t *testing.T, args ...string) *service {
	t.Helper()
	listening := make(chan net.Addr, 1)
	onListen = func(a net.Addr) { listening <- a }
	t.Cleanup(func() { onListen = nil })
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{cancel: cancel, done: make(chan int, 1), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	go func() {
		s.done <- run(ctx, append(args, "-listen", "127.0.0.1:0"), func(string) string { return "" }, s.stdout, s.stderr)
	}()
	select {
	case a := <-listening:
		s.addr = "http://" + a.String()
	case code := <-s.done:
		cancel()
		t.Fatalf("ocjob exited %d before listening: %s", code, s.stderr)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		default:
		}
	})
	return s
}

// stop is SIGTERM: it cancels the context and returns the exit code.
func (s *service) stop() int {
	s.cancel()
	return <-s.done
}

func (s *service) metrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(s.addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

func value(mf *dto.MetricFamily, name, val string) (float64, bool) {
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name && l.GetValue() == val {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue(), true
				}
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// waitFor polls cond until it holds; it fails the test after a minute,
// which only a broken service takes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
	}
}

func TestServiceModeRunsRepeatedlyAndStopsCleanly(t *testing.T) {
	f := newFixture(t, 3)
	f.cp.SetLatency(2 * time.Millisecond)
	s := startService(t, "-config", writeConfig(t, f.document()), "-interval", "10ms", "-output", "json")

	waitFor(t, "two runs", func() bool {
		v, _ := value(s.metrics(t)["ocjob_runs_total"], "exit_code", "0")
		return v >= 2
	})
	fams := s.metrics(t)
	assert.Zero(t, gaugeValue(t, fams["ocjob_last_run_exit_code"]))
	assert.Positive(t, gaugeValue(t, fams["ocjob_last_success_timestamp_seconds"]))
	unchanged, _ := value(fams["ocjob_items"], "kind", "unchanged")
	assert.Equal(t, 3.0, unchanged, "the runs after the first find everything in sync")
	assert.Contains(t, fams, "go_goroutines")
	resp, err := http.Get(s.addr + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Equal(t, ocsync.ExitOK, s.stop(), "stderr: %s", s.stderr)
	assert.Len(t, f.appNames(), 3)
	// One JSON document per run on stdout.
	dec := jsonDocuments(t, s.stdout.String())
	assert.GreaterOrEqual(t, len(dec), 2)
	assert.Equal(t, 3, dec[0].Summary.Created)
	assert.Equal(t, 3, dec[1].Summary.Unchanged)
	assert.Contains(t, s.stderr.String(), "service stopping")
	assertNoSecrets(t, result{stdout: s.stdout.String(), stderr: s.stderr.String()}, 3)
}

func jsonDocuments(t *testing.T, stdout string) []ocjob.Document {
	t.Helper()
	var docs []ocjob.Document
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	for {
		var doc ocjob.Document
		err := dec.Decode(&doc)
		if err == io.EOF {
			return docs
		}
		require.NoError(t, err)
		docs = append(docs, doc)
	}
}

// gate is a proxy in front of the fake platform that holds every document
// request until its client gives up, and says when the first one arrived.
type gate struct {
	arrived chan struct{}
	once    sync.Once
}

func newGate(t *testing.T, target string) (*gate, string) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	g := &gate{arrived: make(chan struct{})}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/docs") {
			g.once.Do(func() { close(g.arrived) })
			<-r.Context().Done()
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return g, srv.URL
}

func TestServiceModeShutdownMidRun(t *testing.T) {
	f := newFixture(t, 3)
	g, proxied := newGate(t, f.oc.URL)
	doc := f.document()
	doc["openConnectors"].(map[string]any)["hostname"] = proxied
	doc["sync"] = map[string]any{"concurrency": 1}
	s := startService(t, "-config", writeConfig(t, doc), "-interval", "1h")

	<-g.arrived // the first create is loading its document
	assert.Equal(t, ocsync.ExitOK, s.stop(), "a clean shutdown; stderr: %s", s.stderr)
	assert.Zero(t, f.cp.Count("registerApplication"), "no change started after the cancellation")
	assert.Empty(t, f.appNames())
	out := s.stdout.String()
	assert.Equal(t, 1, strings.Count(out, "Summary:"), "one run, reported: %s", out)
	assert.Contains(t, out, "2 not started")
	assert.Contains(t, out, "not-started")
}

func TestServiceModeFailures(t *testing.T) {
	t.Run("configuration cannot be loaded", func(t *testing.T) {
		r := runOcjob(t, nil, "-config", t.TempDir()+"/none.json", "-interval", "1m")
		assert.Equal(t, ocsync.ExitFailed, r.code)
	})
	t.Run("address taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		f := newFixture(t, 1)
		r := runOcjob(t, nil, "-config", writeConfig(t, f.document()), "-interval", "1m", "-listen", ln.Addr().String())
		assert.Equal(t, ocsync.ExitFailed, r.code)
		assert.Contains(t, r.stderr, "cannot listen")
		assert.Empty(t, f.appNames(), "no run without its server")
	})
	t.Run("listing fails: not ready, the service goes on", func(t *testing.T) {
		f := newFixture(t, 1)
		doc := f.document()
		doc["openConnectors"].(map[string]any)["userSecret"] = "wrong-" + userSecret
		s := startService(t, "-config", writeConfig(t, doc), "-interval", "10ms")
		waitFor(t, "two failed runs", func() bool {
			v, _ := value(s.metrics(t)["ocjob_runs_total"], "exit_code", "1")
			return v >= 2
		})
		resp, err := http.Get(s.addr + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.NotContains(t, s.metrics(t), "ocjob_last_success_timestamp_seconds")
		assert.Equal(t, ocsync.ExitOK, s.stop())
	})
	t.Run("run once with -listen", func(t *testing.T) {
		f := newFixture(t, 2)
		s := startService(t, "-config", writeConfig(t, f.document()))
		assert.Equal(t, ocsync.ExitOK, <-s.done, "stderr: %s", s.stderr)
		assert.Len(t, f.appNames(), 2)
	})
}
