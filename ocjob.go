package ocjob

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

// Config is the synchronisation of one Open Connectors tenant into one
// Compass Director, from Go values: the three parts New puts together.
type Config struct {
	// OpenConnectors is the platform client.
	OpenConnectors openconnectors.Config
	// Source names the applications: the prefix and the owner.
	Source openconnectors.SourceOptions
	// Compass is the Director registry. Leave its Scope empty: New
	// derives it from the source, so the registry can only ever own the
	// applications this source describes.
	Compass compass.Config
	// Logger receives the records of the engine and, unless their part
	// sets its own, of both clients (with a component attribute); nil
	// discards them.
	Logger *slog.Logger
	// RequestObserver, when set, is told about every attempt of every
	// request of both clients, unless their part sets its own (for
	// example metrics.Metrics.ObserveRequest).
	RequestObserver remote.RequestObserver
}

// PartError is a problem with one part of a Config: Part is
// "openConnectors", "source" or "compass"; Err is the part's own error
// (one or more *remote.FieldError, for errors.As).
type PartError struct {
	// Part names the part.
	Part string
	// Err is the part's error.
	Err error
}

// Error names the part and the problem.
func (e *PartError) Error() string { return e.Part + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *PartError) Unwrap() error { return e.Err }

// scope is the one derivation of the applications a Config syncs: the
// platform context of OpenConnectors.Host and the source's owner. The
// source reports the same (ocsync.NewEngine checks it).
func (c Config) scope() ocsync.Scope {
	_, hostContext, _ := openconnectors.ParseHost(c.OpenConnectors.Host)
	return ocsync.Scope{Context: hostContext, Owner: c.Source.Owner}
}

// compass is the registry's configuration with the derived scope.
func (c Config) compass() (compass.Config, error) {
	cc, scope := c.Compass, c.scope()
	if cc.Scope != (ocsync.Scope{}) && cc.Scope != scope {
		return cc, fmt.Errorf("%w: Compass.Scope is derived from the source; leave it empty", ocsync.ErrScopeMismatch)
	}
	cc.Scope = scope
	return cc, nil
}

// Validate checks every part without sending anything and returns every
// problem, each a *PartError, joined with errors.Join. No configured
// value is quoted.
func (c Config) Validate() error {
	var errs []error
	part := func(name string, err error) {
		if err != nil {
			errs = append(errs, &PartError{Part: name, Err: err})
		}
	}
	// The range of a timeout comes first: a negative one is out of it too.
	part("openConnectors", errors.Join(checkTimeouts(c.OpenConnectors.Timeout, c.OpenConnectors.SpecTimeout), c.OpenConnectors.Validate()))
	part("source", c.Source.Validate())
	cc, err := c.compass()
	if err == nil {
		err = cc.Validate() // an invalid host is reported as the scope's too
	}
	part("compass", errors.Join(checkTimeouts(c.Compass.Timeout, c.Compass.SpecTimeout), err))
	return errors.Join(errs...)
}

// NewScrubber returns a Scrubber that knows the secrets of both clients'
// configurations (see openconnectors.Config.RegisterSecrets and
// compass.Config.RegisterSecrets); give it to both, to the log handler
// (redact.NewHandler) and to the output (ocsync.Report.Scrub).
func (c Config) NewScrubber() *redact.Scrubber {
	s := redact.NewScrubber()
	c.OpenConnectors.RegisterSecrets(s)
	c.Compass.RegisterSecrets(s)
	return s
}

// New builds the Open Connectors source, the Compass registry of the same
// scope and the engine over both, and returns the Controller that runs it
// (refusing intervals below MinInterval),
// with the engine's defaults (tune ctl.Engine and ctl itself before the
// first run). It sends no request. When neither client has a Scrubber,
// both share one from NewScrubber. Errors are *PartError values (or wrap
// ocsync.ErrScopeMismatch).
func New(cfg Config) (*ocsync.Controller, error) {
	if err := checkTimeouts(cfg.OpenConnectors.Timeout, cfg.OpenConnectors.SpecTimeout); err != nil {
		return nil, &PartError{Part: "openConnectors", Err: err}
	}
	if err := checkTimeouts(cfg.Compass.Timeout, cfg.Compass.SpecTimeout); err != nil {
		return nil, &PartError{Part: "compass", Err: err}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	occ, cc := cfg.OpenConnectors, cfg.Compass
	if occ.Scrubber == nil && cc.Scrubber == nil {
		occ.Scrubber = cfg.NewScrubber()
		cc.Scrubber = occ.Scrubber
	}
	if occ.RequestObserver == nil {
		occ.RequestObserver = cfg.RequestObserver
	}
	if cc.RequestObserver == nil {
		cc.RequestObserver = cfg.RequestObserver
	}
	if occ.Logger == nil {
		occ.Logger = log.With(slog.String("component", "openconnectors"))
	}
	if cc.Logger == nil {
		cc.Logger = log.With(slog.String("component", "compass"))
	}
	client, err := openconnectors.NewClient(occ)
	if err != nil {
		return nil, &PartError{Part: "openConnectors", Err: err}
	}
	src, err := openconnectors.NewSource(client, cfg.Source)
	if err != nil {
		return nil, &PartError{Part: "source", Err: err}
	}
	cfg.Compass = cc
	if cc, err = cfg.compass(); err != nil {
		return nil, &PartError{Part: "compass", Err: err}
	}
	reg, err := compass.NewRegistry(cc)
	if err != nil {
		return nil, &PartError{Part: "compass", Err: err}
	}
	e, err := ocsync.NewEngine(src, reg)
	if err != nil {
		return nil, err
	}
	e.Logger = log
	return &ocsync.Controller{Engine: e, MinInterval: MinInterval}, nil
}

// Version is the version of the running program: the module version it
// was built as, else the VCS revision the go command recorded ("devel-"
// and 12 hex digits, "-dirty" for a modified tree), else "devel". A
// release build sets its own with -ldflags instead (see README).
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "-dirty"
	}
	return "devel-" + rev
}
