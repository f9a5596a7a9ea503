package config

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
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
}

// NewScrubber returns the Scrubber of the runs of cfg, knowing the secrets
// of the configuration (see openconnectors.Config.RegisterSecrets and
// compass.Config.RegisterSecrets); the clients add what they learn.
func NewScrubber(cfg *Config) *redact.Scrubber {
	s := redact.NewScrubber()
	if cfg != nil {
		cfg.OpenConnectorsConfig().RegisterSecrets(s)
		cfg.CompassConfig().RegisterSecrets(s)
	}
	return s
}

// NewController maps cfg to the library values: an openconnectors.Source
// and a compass.Registry of the same scope sharing opts.Scrubber, an
// ocsync.Engine with the sync settings, and the ocsync.Controller that runs
// it with sync.runTimeout. It sends no request. Every error is an *Error
// naming the section (none for the source's options and the engine) with
// the library's error in its chain; Load has already reported such problems
// key by key, so only a Config made by hand gets here with them.
func NewController(cfg *Config, opts Options) (*ocsync.Controller, error) {
	if cfg == nil {
		return nil, &Error{Problem: "no configuration"}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	occ := cfg.OpenConnectorsConfig()
	occ.HTTPClient, occ.Scrubber = opts.HTTPClient, opts.Scrubber
	occ.Logger = log.With(slog.String("component", "openconnectors"))
	client, err := openconnectors.NewClient(occ)
	if err != nil {
		return nil, libraryError("openConnectors", err)
	}
	src, err := openconnectors.NewSource(client, cfg.SourceOptions())
	if err != nil {
		return nil, libraryError("", err) // compass.applicationPrefix and sync.owner
	}
	cc := cfg.CompassConfig()
	cc.HTTPClient, cc.Scrubber = opts.HTTPClient, opts.Scrubber
	cc.Logger = log.With(slog.String("component", "compass"))
	reg, err := compass.NewRegistry(cc)
	if err != nil {
		return nil, libraryError("compass", err)
	}
	e, err := ocsync.NewEngine(src, reg)
	if err != nil {
		return nil, libraryError("", err)
	}
	e.Policy = cfg.Sync.Policy
	e.Concurrency = cfg.Sync.Concurrency
	e.MaxDeletePercent = cfg.Sync.MaxDeletePercent
	e.Force = opts.Force
	e.ApproveDigest = opts.Approve
	e.SpecRefreshInterval = cfg.Sync.SpecRefreshInterval
	e.DryRun = opts.DryRun
	e.Logger = log
	e.Now = opts.Now
	return &ocsync.Controller{Engine: e, RunTimeout: cfg.Sync.RunTimeout}, nil
}

// libraryError is a library's refusal of the values of one section.
func libraryError(section string, err error) error {
	return &Error{Key: section, Problem: err.Error(), Err: err}
}
