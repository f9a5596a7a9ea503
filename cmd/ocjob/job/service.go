package job

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Timeouts of the service's HTTP server.
const (
	// ShutdownTimeout bounds how long the HTTP server waits for open
	// requests when the service stops.
	ShutdownTimeout = 5 * time.Second
	// readHeaderTimeout bounds reading a request's header, readTimeout the
	// whole request, writeTimeout writing an answer, idleTimeout a kept-alive
	// connection between two requests.
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	// maxHeaderBytes bounds a request's header.
	maxHeaderBytes = 16 << 10
	// maxScrapesInFlight bounds concurrent /metrics requests.
	maxScrapesInFlight = 4
)

// Service runs the sync every Interval until its context ends, one run at a
// time, and serves the process's metrics and health over HTTP:
//
//	/metrics  the Metrics registry (Prometheus text or protobuf)
//	/healthz  200 while the process runs
//	/readyz   200 once a run ended without a configuration, authentication
//	          or listing failure (exit code other than ExitFailed), and
//	          503 before the first run ended or after such a failure
//
// A run that outlasts the interval delays the next one, which then starts
// at once; the service says so in a log record. When the context ends the
// current run's context is cancelled (the engine starts no new change after
// that), the service waits for it to return, and stops.
type Service struct {
	// Interval is the time from the start of one run to the start of the
	// next; 0 runs once (the HTTP server then serves while that run lasts).
	Interval time.Duration
	// Run carries out one run under ctx and returns its exit code. Required.
	Run func(ctx context.Context) int
	// Metrics is served on /metrics; nil serves an empty registry.
	Metrics *Metrics
	// Logger receives the service's records; nil discards them.
	Logger *slog.Logger

	mu       sync.Mutex
	runs     int // runs ended
	ready    bool
	lastCode int
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Ready reports whether the last run ended without a configuration,
// authentication or listing failure; false before the first run ended.
func (s *Service) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// Runs returns how many runs have ended.
func (s *Service) Runs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs
}

// LastExitCode returns the exit code of the last run that ended, ExitOK
// when none did.
func (s *Service) LastExitCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastCode
}

// Handler serves /metrics, /healthz and /readyz.
func (s *Service) Handler() http.Handler {
	metrics := s.Metrics
	if metrics == nil {
		metrics = NewMetrics()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{
		MaxRequestsInFlight: maxScrapesInFlight,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		plain(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if s.Ready() {
			plain(w, http.StatusOK, "ready\n")
			return
		}
		plain(w, http.StatusServiceUnavailable, "not ready: no run has ended yet, or the last one failed to list, authenticate or load its configuration\n")
	})
	return mux
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Loop runs the sync every Interval until ctx ends (see Service), or once
// when Interval is 0, and returns nil then; it returns an error only when
// the Service is incomplete.
func (s *Service) Loop(ctx context.Context) error {
	if s.Interval < 0 || s.Run == nil {
		return errors.New("job: Service needs a Run and an Interval that is not negative")
	}
	log := s.logger()
	for ctx.Err() == nil {
		start := time.Now()
		code := s.Run(ctx)
		took := time.Since(start)
		s.mu.Lock()
		s.runs++
		s.ready = code != ExitFailed
		s.lastCode = code
		s.mu.Unlock()
		if ctx.Err() != nil || s.Interval == 0 {
			break
		}
		wait := s.Interval - took
		if wait <= 0 {
			log.LogAttrs(ctx, slog.LevelWarn, "the run took longer than the interval; the next run starts now",
				slog.Duration("took", took), slog.Duration("interval", s.Interval))
			continue
		}
		log.LogAttrs(ctx, slog.LevelDebug, "next run", slog.Time("at", start.Add(s.Interval)), slog.Int("exitCode", code))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	if s.Interval > 0 {
		log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "service stopping", slog.Int("runs", s.Runs()))
	}
	return nil
}

// Serve serves Handler on ln and runs Loop until ctx ends, then shuts the
// HTTP server down (waiting at most ShutdownTimeout for open requests) and
// closes ln. It returns nil on a clean shutdown, or the server's error when
// serving failed (the loop is stopped then too).
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		served <- err
		cancel() // a server that stopped on its own stops the loop
	}()
	s.logger().LogAttrs(ctx, slog.LevelInfo, "serving /metrics, /healthz and /readyz", slog.String("address", ln.Addr().String()))
	loopErr := s.Loop(ctx)
	shutdownCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer stop()
	shutErr := srv.Shutdown(shutdownCtx)
	if err := <-served; err != nil {
		return err
	}
	return errors.Join(loopErr, shutErr)
}
