package config

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	ocjob "github.com/kyma-incubator/open-connectors-job"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Options are the choices of a run besides the configuration.
type Options struct {
	// DryRun plans and reports without changing anything.
	DryRun bool
	// Force lifts the deletion guard.
	Force bool
	// Approve, when set, lifts the deletion guard only for the deletions
	// whose digest it is (shown by a dry run).
	Approve string
	// Logger receives the records of the run; nil discards them.
	Logger *slog.Logger
	// Scrubber is shared by both clients, which add the secrets they learn
	// to it; nil means each client makes its own. Give the same one to the
	// log handler (redact.NewHandler) and the output (ocsync.Report.Scrub).
	Scrubber *redact.Scrubber
	// HTTPClient is the base client of both APIs; nil means a default one.
	HTTPClient *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// RequestObserver is told about every request of both clients.
	RequestObserver remote.RequestObserver
}

// NewScrubber returns the Scrubber of the runs of cfg, knowing the secrets
// of the configuration (see ocjob.Config.NewScrubber and
// metrics.Pusher.RegisterSecrets).
func NewScrubber(cfg *Config) *redact.Scrubber {
	if cfg == nil {
		return redact.NewScrubber()
	}
	s := cfg.Library().NewScrubber()
	cfg.Metrics.Pushgateway.RegisterSecrets(s)
	return s
}

// NewController builds the sync of cfg with ocjob.New, sharing
// opts.Scrubber and opts.HTTPClient between both clients, and applies the
// sync section and opts to the engine and sync.runTimeout to the
// controller. It sends no request. Every error is an *Error naming the
// section (none for the engine) with the library's error in its chain;
// Load has already reported such problems key by key, so only a Config
// made by hand gets here with them.
func NewController(cfg *Config, opts Options) (*ocsync.Controller, error) {
	if cfg == nil {
		return nil, &Error{Problem: "no configuration"}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	lib := cfg.Library()
	lib.Logger, lib.RequestObserver = opts.Logger, opts.RequestObserver
	lib.OpenConnectors.HTTPClient, lib.OpenConnectors.Scrubber = opts.HTTPClient, opts.Scrubber
	lib.Compass.HTTPClient, lib.Compass.Scrubber = opts.HTTPClient, opts.Scrubber
	ctl, err := ocjob.New(lib)
	if err != nil {
		section := ""
		var pe *ocjob.PartError
		if errors.As(err, &pe) && pe.Part != "source" {
			section = pe.Part // the source's options are compass.applicationPrefix and sync.owner
		}
		return nil, &Error{Key: section, Problem: err.Error(), Err: err}
	}
	e := ctl.Engine
	e.Policy = cfg.Sync.Policy
	e.Concurrency = cfg.Sync.Concurrency
	e.MaxDeletePercent = cfg.Sync.MaxDeletePercent
	e.SpecRefreshInterval = cfg.Sync.SpecRefreshInterval
	e.DryRun, e.Force, e.ApproveDigest = opts.DryRun, opts.Force, opts.Approve
	e.Now = opts.Now
	ctl.RunTimeout = cfg.Sync.RunTimeout
	if len(cfg.SecretFiles) > 0 {
		ctl.Prepare = reload(ctl, *cfg, opts)
	}
	return ctl, nil
}

// reload returns the Controller.Prepare of secrets read from files: before
// every run it reads them again and, only when one changed, replaces the
// engine by one with new clients. Rebuilding keeps the clients free of
// any notion of rotation (their credentials are fixed, their token cached,
// and an unchanged file costs one small read), and a rotated secret that
// fails its checks fails that run, naming its key, while the next run
// reads it again. The old clients' idle connections are closed as every
// run's are (ocsync.IdleCloser); the Scrubber keeps the old secrets.
func reload(ctl *ocsync.Controller, cur Config, opts Options) func(context.Context) error {
	return func(ctx context.Context) error {
		next := cur
		changed, err := next.ReadSecrets(ctx)
		for _, name := range next.Trimmed {
			opts.Logger.LogAttrs(ctx, slog.LevelDebug, "a trailing newline was removed from a secret", slog.String("source", name))
		}
		if err != nil || !changed {
			return err
		}
		files := next.SecretFiles
		next.SecretFiles = nil // the new engine's runs are prepared by this one
		fresh, err := NewController(&next, opts)
		if err != nil {
			return err
		}
		next.SecretFiles = files
		ctl.Engine, cur = fresh.Engine, next // every secret read is now the current one
		opts.Logger.LogAttrs(ctx, slog.LevelInfo, "a secret file changed: the clients use the new secret")
		return nil
	}
}
