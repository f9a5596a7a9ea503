package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/prometheus/client_golang/prometheus"
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

// Handler serves the metrics and the health of a process that runs ctl:
//
//	/metrics  m's registry (Prometheus text or protobuf); nil serves an
//	          empty one
//	/healthz  200 while the process runs
//	/readyz   200 once a run ended without a configuration, authentication
//	          or listing failure (ocsync.Controller.Ready), and 503 before
//	          the first run ended or after such a failure
func Handler(ctl *ocsync.Controller, m *Metrics) http.Handler {
	var reg prometheus.Gatherer = prometheus.NewRegistry()
	if m != nil {
		reg = m.Registry
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		MaxRequestsInFlight: maxScrapesInFlight,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		plain(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ctl.Ready() {
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

// Serve serves Handler(ctl, m) on ln and runs ctl.Run until ctx ends,
// then shuts the HTTP server down (waiting at most ShutdownTimeout for open
// requests) and closes ln. m, when set, observes every run besides
// ctl.Observer. It returns nil on a clean shutdown, or the server's error
// when serving failed (the runs are stopped then too). log nil discards.
func Serve(ctx context.Context, ln net.Listener, ctl *ocsync.Controller, m *Metrics, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m != nil {
		ctl.Observer = ocsync.Observers(ctl.Observer, m)
	}
	srv := &http.Server{
		Handler:           Handler(ctl, m),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
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
	log.LogAttrs(ctx, slog.LevelInfo, "serving /metrics, /healthz and /readyz", slog.String("address", ln.Addr().String()))
	loopErr := ctl.Run(ctx)
	shutdownCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer stop()
	shutErr := srv.Shutdown(shutdownCtx)
	if err := <-served; err != nil {
		return err
	}
	return errors.Join(loopErr, shutErr)
}
