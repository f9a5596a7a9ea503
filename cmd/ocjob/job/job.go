package job

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

// Exit codes of a run (see the package documentation for precedence).
const (
	// ExitOK: converged, or a dry run completed.
	ExitOK = 0
	// ExitFailed: nothing changed because of a configuration, authentication
	// or listing failure (or a fatal error stopped the apply).
	ExitFailed = 1
	// ExitUsage: the command line was wrong.
	ExitUsage = 2
	// ExitItemsFailed: some items failed, the rest were applied.
	ExitItemsFailed = 3
	// ExitGuard: deletions were withheld by the deletion guard.
	ExitGuard = 4
)

// Options are the choices of one run besides the configuration.
type Options struct {
	// DryRun plans and reports without changing anything.
	DryRun bool
	// Force lifts the deletion guard for this run.
	Force bool
	// Approve, when set, lifts the deletion guard only for the deletions
	// whose digest it is (ocsync.Plan.DeletionsDigest, shown by a dry run);
	// any other set of deletions is withheld.
	Approve string
	// Logger receives the run's records; nil discards them.
	Logger *slog.Logger
	// Scrubber is shared by both clients of the run, which add the secrets
	// they learn to it (instance tokens, access tokens) and scrub every
	// text of a remote with it; nil means each client makes its own. Give
	// the same one to the run's log handler (NewScrubHandler) and its
	// output (ScrubReport).
	Scrubber *redact.Scrubber
	// HTTPClient is the base client for both APIs; nil means a default one.
	HTTPClient *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// NewEngine builds the engine cfg describes from the library values the
// configuration layer makes of it (config.Config.OpenConnectorsConfig,
// SourceOptions, CompassConfig): an openconnectors.Source over the
// configured tenant and a compass.Registry of the same scope (the Open
// Connectors host as configured, and sync.owner), both sharing
// opts.Scrubber, put together by ocsync.NewEngine with the sync settings.
// The run's deadline is sync.runTimeout from now: build the engine right
// before running it. It sends no request. Every error wraps
// config.ErrInvalid as a *config.Error naming the section (none for the
// source's options and the engine), with the
// library's error (*remote.FieldError values, or one wrapping
// ocsync.ErrScopeMismatch) kept in its chain for errors.Is and errors.As;
// config.Load has already reported such problems key by key, so only a
// Config made by hand gets here with them.
func NewEngine(cfg *config.Config, opts Options) (*ocsync.Engine, error) {
	if cfg == nil {
		return nil, &config.Error{Problem: "no configuration"}
	}
	log := opts.logger()
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
	cc.Scope = src.Scope()
	cc.HTTPClient, cc.Scrubber = opts.HTTPClient, opts.Scrubber
	cc.Logger = log.With(slog.String("component", "compass"))
	reg, err := compass.NewRegistry(cc)
	if err != nil {
		return nil, libraryError("compass", err)
	}
	clock := &listClock{}
	e, err := ocsync.NewEngine(timedSource{Source: src, clock: clock}, timedRegistry{Registry: reg, clock: clock})
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
	if cfg.Sync.RunTimeout > 0 {
		e.Deadline = time.Now().Add(cfg.Sync.RunTimeout)
	}
	e.Logger = log
	e.Now = opts.Now
	return e, nil
}

// libraryError is a library's refusal of the values of one section.
func libraryError(section string, err error) error {
	return &config.Error{Key: section, Problem: err.Error(), Err: err}
}

// Run builds the engine of cfg and runs it once (see RunEngine).
func Run(ctx context.Context, cfg *config.Config, opts Options) (*ocsync.Report, error) {
	engine, err := NewEngine(cfg, opts)
	if err != nil {
		return nil, err
	}
	return RunEngine(ctx, engine)
}

// Outcome is what one run produced.
type Outcome struct {
	// Report is the run's report; nil when no plan was made.
	Report *ocsync.Report
	// Err is the engine's error (see RunEngine).
	Err error
	// Phases are how long listing, planning and applying took.
	Phases Phases
	// Duration is how long the whole run took.
	Duration time.Duration
	// Retries are the requests the run retried, per remote.
	Retries Retries
}

// Retries counts the requests of one run that were retried, per remote.
type Retries struct {
	// OpenConnectors counts the retried platform requests.
	OpenConnectors int64
	// Compass counts the retried Director requests.
	Compass int64
}

// retryCounter is a Source or Registry that counts its retries (the
// openconnectors and compass clients do).
type retryCounter interface{ Retries() int64 }

// retriesOf reads the retry counters of e's two sides; zero for a side
// that does not count.
func retriesOf(e *ocsync.Engine) Retries {
	var r Retries
	if c, ok := e.Source.(retryCounter); ok {
		r.OpenConnectors = c.Retries()
	}
	if c, ok := e.Registry.(retryCounter); ok {
		r.Compass = c.Retries()
	}
	return r
}

// since is the retries counted after before.
func (r Retries) since(before Retries) Retries {
	return Retries{OpenConnectors: r.OpenConnectors - before.OpenConnectors, Compass: r.Compass - before.Compass}
}

// ExitCode is ExitCode(o.Report, o.Err).
func (o Outcome) ExitCode() int { return ExitCode(o.Report, o.Err) }

// RunEngine plans and applies once with e, logging the plan and the summary
// to e.Logger. The report is nil only when no plan could be made. The error
// is the engine's: it joins item errors, the deletion guard's error and a
// cancellation; pass it to ExitCode.
func RunEngine(ctx context.Context, e *ocsync.Engine) (*ocsync.Report, error) {
	o := Sync(ctx, e)
	return o.Report, o.Err
}

// Sync is RunEngine with the run's timings. The listing phase is measured
// apart from planning for engines made by NewEngine; for others, Phases.List
// covers both and Phases.Plan is zero.
func Sync(ctx context.Context, e *ocsync.Engine) (o Outcome) {
	log := e.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clock := clockOf(e)
	clock.reset()
	start := time.Now()
	retried := retriesOf(e)
	defer func() { o.Retries = retriesOf(e).since(retried) }()
	plan, err := e.Plan(ctx)
	planned := time.Now()
	o.Phases = Phases{List: planned.Sub(start)}
	if listed := clock.last(); !listed.IsZero() && !listed.Before(start) && !listed.After(planned) {
		o.Phases.List, o.Phases.Plan = listed.Sub(start), planned.Sub(listed)
	}
	if err != nil {
		if !e.Deadline.IsZero() && !time.Now().Before(e.Deadline) {
			err = &lateListError{err: err}
		}
		log.LogAttrs(ctx, slog.LevelError, "planning failed, nothing changed", slog.String("error", err.Error()))
		o.Err, o.Duration = err, time.Since(start)
		return o
	}
	log.LogAttrs(ctx, slog.LevelInfo, "plan",
		slog.String("policy", string(plan.Policy)),
		slog.Int("create", plan.Count(ocsync.KindCreate)),
		slog.Int("update", plan.Count(ocsync.KindUpdate)),
		slog.Int("delete", plan.Count(ocsync.KindDelete)),
		slog.Int("unchanged", plan.Count(ocsync.KindUnchanged)),
		slog.Int("conflict", plan.Count(ocsync.KindConflict)),
		slog.Int("skipped", plan.Count(ocsync.KindSkipped)),
		slog.Bool("guardTripped", plan.Guard.Tripped),
		slog.String("deletionsDigest", plan.DeletionsDigest),
		slog.Bool("dryRun", e.DryRun))
	if log.Enabled(ctx, slog.LevelDebug) {
		for i := range plan.Changes {
			c := &plan.Changes[i]
			log.LogAttrs(ctx, slog.LevelDebug, "planned change", slog.String("kind", string(c.Kind)),
				slog.String("application", c.Name), slog.String("instance", c.Key),
				slog.Any("fields", c.Fields), slog.String("reason", c.Reason))
		}
	}
	rep, err := e.Apply(ctx, plan)
	o.Report, o.Err = rep, err
	o.Phases.Apply = time.Since(planned)
	o.Duration = time.Since(start)
	if rep == nil {
		log.LogAttrs(ctx, slog.LevelError, "the plan was refused, nothing changed", slog.String("error", err.Error()))
		return o
	}
	logGuard(ctx, log, plan, e.DryRun)
	if errors.Is(err, ocsync.ErrDeadline) {
		log.LogAttrs(ctx, slog.LevelWarn, "the run timeout passed: changes not started are left to the next run",
			slog.Int("notStarted", rep.Summary.NotStarted), slog.Time("deadline", e.Deadline))
	}
	level := slog.LevelInfo
	if ExitCode(rep, err) != ExitOK {
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, "run finished", slog.String("summary", rep.Summary.String()),
		slog.Int("specFetches", rep.Summary.SpecFetches), slog.Bool("dryRun", rep.DryRun),
		slog.Duration("duration", o.Duration))
	return o
}

// lateListError is a failed listing after the run's deadline passed: the
// listing error, which errors.Is also finds to be ocsync.ErrDeadline.
type lateListError struct{ err error }

func (e *lateListError) Error() string {
	return "the run timeout passed while listing: " + e.err.Error()
}
func (e *lateListError) Unwrap() error        { return e.err }
func (e *lateListError) Is(target error) bool { return target == ocsync.ErrDeadline }

// logGuard tells why deletions were withheld and how to apply them.
func logGuard(ctx context.Context, log *slog.Logger, plan *ocsync.Plan, dryRun bool) {
	g := plan.Guard
	if !g.Tripped || dryRun {
		return
	}
	attrs := []slog.Attr{slog.Int("deletes", g.Deletes), slog.Int("owned", g.Owned),
		slog.Int("maxDeletePercent", g.MaxPercent), slog.String("deletionsDigest", plan.DeletionsDigest)}
	if g.Refused != "" {
		log.LogAttrs(ctx, slog.LevelWarn, "deletions withheld: the approved digest does not match the deletions of this plan; "+
			"review them with -dry-run and approve the new digest", append(attrs, slog.String("approved", g.Refused))...)
		return
	}
	log.LogAttrs(ctx, slog.LevelWarn, "deletions withheld by the deletion guard; review them with -dry-run and "+
		"approve their digest with -approve (or lift the guard with -force)", attrs...)
}

// listClock records when the listings of a run returned, so that the
// listing phase is measured apart from planning.
type listClock struct {
	mu   sync.Mutex
	done time.Time
}

func (c *listClock) reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = time.Time{}
}

func (c *listClock) listed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = time.Now()
}

func (c *listClock) last() time.Time {
	if c == nil {
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// clockOf returns the listClock of an engine made by NewEngine, else nil.
func clockOf(e *ocsync.Engine) *listClock {
	if s, ok := e.Source.(timedSource); ok {
		return s.clock
	}
	return nil
}

// timedSource is the Open Connectors source with its listing timed. It
// embeds the concrete type, so every method of it stays visible to the
// engine (ocsync.Scoped and any other optional interface).
type timedSource struct {
	*openconnectors.Source
	clock *listClock
}

// Applications lists the instances and records when the listing returned.
func (s timedSource) Applications(ctx context.Context) ([]ocsync.Application, error) {
	defer s.clock.listed()
	return s.Source.Applications(ctx)
}

// timedRegistry is the Compass registry with its listing timed; like
// timedSource it embeds the concrete type (ocsync.NameKeyer,
// ocsync.NameChecker and ocsync.Scoped stay visible).
type timedRegistry struct {
	*compass.Registry
	clock *listClock
}

// Applications lists the applications and records when the listing
// returned.
func (r timedRegistry) Applications(ctx context.Context) ([]ocsync.Registered, error) {
	defer r.clock.listed()
	return r.Registry.Applications(ctx)
}

// ExitCode maps the outcome of Run or RunEngine to an exit code. rep may be
// nil. A dry run that made its plan exits ExitOK.
func ExitCode(rep *ocsync.Report, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ocsync.ErrListFailed), errors.Is(err, ocsync.ErrFatal), errors.Is(err, config.ErrInvalid):
		return ExitFailed
	case rep == nil:
		return ExitFailed
	case rep.DryRun:
		return ExitOK
	case errors.Is(err, ocsync.ErrItemFailed), errors.Is(err, ocsync.ErrDeadline),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ExitItemsFailed
	case errors.Is(err, ocsync.ErrGuardTripped):
		return ExitGuard
	}
	return ExitFailed
}
