package ocsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Exit codes of a run, as RunOutcome.ExitCode classifies it. When several
// apply, the first listed wins: ExitFailed, then ExitItemsFailed, then
// ExitGuard.
const (
	// ExitOK: converged, or a dry run made its plan.
	ExitOK = 0
	// ExitFailed: nothing changed because of a configuration,
	// authentication or listing failure, or a fatal error (rejected
	// credentials, unknown tenant) during apply stopped further changes.
	ExitFailed = 1
	// ExitUsage: the command line was wrong. The Controller never returns
	// it; it is reserved for programs that wrap one.
	ExitUsage = 2
	// ExitItemsFailed: some changes failed, were refused as conflicts, or
	// were not started because the run was interrupted or its deadline
	// passed; the rest were applied.
	ExitItemsFailed = 3
	// ExitGuard: the deletion guard withheld deletions; everything else was
	// applied.
	ExitGuard = 4
)

// Phases are how long the phases of one run took; a phase that did not run
// is zero.
type Phases struct {
	// List is listing both sides.
	List time.Duration
	// Plan is computing the plan once both listings are in, name look-ups
	// included.
	Plan time.Duration
	// Apply is carrying the plan out (settling it, in a dry run).
	Apply time.Duration
}

// Retries counts the requests of one run that were retried, per side.
type Retries struct {
	// Source counts the Source's retried requests.
	Source int64
	// Registry counts the Registry's retried requests.
	Registry int64
}

// RetryCounter is implemented by a Source or a Registry that counts the
// requests it retried (the openconnectors and compass clients do). The
// Controller reports the difference over each run in RunOutcome.Retries.
type RetryCounter interface {
	// Retries returns how many requests were retried so far.
	Retries() int64
}

// RunOutcome is what one run of a Controller produced.
type RunOutcome struct {
	// Report is the run's report; nil when no plan was made.
	Report *Report
	// Err joins the run's errors: item errors, the deletion guard's, a
	// cancellation, or the listing failure that prevented a plan.
	Err error
	// Phases are how long listing, planning and applying took.
	Phases Phases
	// Duration is how long the whole run took.
	Duration time.Duration
	// Retries are the requests the run retried, per side.
	Retries Retries
	// Finished is when the run ended.
	Finished time.Time
	// DryRun is true for a run of an engine that only plans (Engine.DryRun),
	// also when the run made no plan.
	DryRun bool
}

// ExitCode classifies the outcome (see ExitCode).
func (o RunOutcome) ExitCode() int { return ExitCode(o.Report, o.Err) }

// Succeeded reports whether the run changed what it had to and was not a
// dry run: the run a "last success" timestamp records.
func (o RunOutcome) Succeeded() bool {
	return o.ExitCode() == ExitOK && o.Report != nil && !o.Report.DryRun
}

// ExitCode maps a run's report (nil when no plan was made) and error to an
// exit code: ExitOK when err is nil or a dry run made its plan; ExitFailed
// for a listing failure (ErrListFailed), a fatal error (ErrFatal) or no
// plan; ExitItemsFailed for item failures (ErrItemFailed), a passed
// deadline (ErrDeadline) or a cancellation; ExitGuard for withheld
// deletions (ErrGuardTripped); ExitFailed for anything else.
func ExitCode(rep *Report, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrListFailed), errors.Is(err, ErrFatal), rep == nil:
		return ExitFailed
	case rep.DryRun:
		return ExitOK
	case errors.Is(err, ErrItemFailed), errors.Is(err, ErrDeadline),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ExitItemsFailed
	case errors.Is(err, ErrGuardTripped):
		return ExitGuard
	}
	return ExitFailed
}

// Observer is told about the runs of a Controller: use it for metrics,
// progress bars or reports. Its methods are called from the goroutine of
// the run (Progress from one of Apply's) and should return quickly.
type Observer interface {
	// Progress is called with every progress record of a run's Apply
	// (see Engine.ProgressInterval).
	Progress(ctx context.Context, p Progress)
	// Finished is called once a run ended, with its outcome.
	Finished(ctx context.Context, o RunOutcome)
}

// ObserverFuncs is an Observer made of functions; a nil function is not
// called.
type ObserverFuncs struct {
	// OnProgress is called as Observer.Progress.
	OnProgress func(ctx context.Context, p Progress)
	// OnFinished is called as Observer.Finished.
	OnFinished func(ctx context.Context, o RunOutcome)
}

// Progress calls OnProgress.
func (f ObserverFuncs) Progress(ctx context.Context, p Progress) {
	if f.OnProgress != nil {
		f.OnProgress(ctx, p)
	}
}

// Finished calls OnFinished.
func (f ObserverFuncs) Finished(ctx context.Context, o RunOutcome) {
	if f.OnFinished != nil {
		f.OnFinished(ctx, o)
	}
}

// Observers returns an Observer that tells each of obs in turn; nil
// entries are skipped.
func Observers(obs ...Observer) Observer { return observers(obs) }

type observers []Observer

func (os observers) Progress(ctx context.Context, p Progress) {
	for _, o := range os {
		if o != nil {
			o.Progress(ctx, p)
		}
	}
}

func (os observers) Finished(ctx context.Context, o RunOutcome) {
	for _, ob := range os {
		if ob != nil {
			ob.Finished(ctx, o)
		}
	}
}

// Controller runs an Engine the way a CronJob or a long-running service
// does: RunOnce plans, applies (or only reports, in a dry run), logs the plan,
// the guard's verdict and the summary, and tells the Observer; Run does that
// every Interval until its context ends. Two runs never overlap, whoever
// calls them. The zero value is not usable: set Engine.
type Controller struct {
	// Engine is run; its settings (policy, dry run, guard, approval) hold
	// for every run. Required.
	Engine *Engine
	// Interval is the time from the start of one run of Run to the start
	// of the next; 0 makes Run run once.
	Interval time.Duration
	// RunTimeout, when positive, gives every run a deadline that long
	// after its start (see Engine.Deadline); it replaces the Engine's own
	// Deadline.
	RunTimeout time.Duration
	// Observer, when set, is told about every run.
	Observer Observer
	// Logger receives the controller's records; nil means Engine.Logger.
	Logger *slog.Logger
	// FieldName, when set, names the client configuration fields that a
	// run's error points at (see remote.ConfigError) in the records the
	// controller logs and in RunOutcome.Err's text, for a program whose
	// users know them by other names (ocjob: its configuration keys); the
	// error's chain is kept.
	FieldName func(config, field string) string
	// MinInterval, when positive, is the shortest Interval Run accepts
	// (an Interval of 0, one run, is always accepted): a loop that runs
	// again at once hammers both remotes. ocjob.New sets it.
	MinInterval time.Duration
	// Prepare, when set, is called at the start of every run, before the
	// Engine is read, with the run lock held: it may replace Engine (for
	// example with one built from credentials read afresh). An error ends
	// the run before anything is listed, with ExitFailed and the error in
	// RunOutcome.Err.
	Prepare func(ctx context.Context) error

	run      sync.Mutex // held for the whole of a run
	mu       sync.Mutex // guards the counters below
	runs     int
	lastCode int
}

func (c *Controller) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return c.Engine.logger()
}

// RunOnce runs the engine once: it plans, logs the plan, applies it,
// logs the deletion guard's verdict and the summary, and returns the
// outcome (tell it to Observer first). It waits for a run of another
// goroutine to end before it starts.
func (c *Controller) RunOnce(ctx context.Context) RunOutcome {
	c.run.Lock()
	defer c.run.Unlock()
	start := time.Now()
	if c.Prepare != nil {
		if err := c.Prepare(ctx); err != nil {
			c.logger().LogAttrs(ctx, slog.LevelError, "preparing the run failed, nothing changed", slog.String("error", err.Error()))
			return c.finish(ctx, RunOutcome{Err: fmt.Errorf("%w: %w", ErrPrepare, err), DryRun: c.Engine.DryRun}, start, Retries{})
		}
	}
	e := *c.Engine // the run's own deadline and hooks, the caller's engine untouched
	if c.RunTimeout > 0 {
		e.Deadline = start.Add(c.RunTimeout)
	}
	if c.Observer != nil {
		e.OnProgress = c.Observer.Progress
		if hook := c.Engine.OnProgress; hook != nil {
			e.OnProgress = func(ctx context.Context, p Progress) { hook(ctx, p); c.Observer.Progress(ctx, p) }
		}
	}
	retried := retriesOf(&e)
	o := c.runOnce(ctx, &e, start)
	o.DryRun = e.DryRun
	now := retriesOf(&e)
	closeIdle(e.Source)
	closeIdle(e.Registry)
	return c.finish(ctx, o, start, Retries{Source: now.Source - retried.Source, Registry: now.Registry - retried.Registry})
}

// finish completes the outcome of a run, counts it and tells the Observer.
func (c *Controller) finish(ctx context.Context, o RunOutcome, start time.Time, retries Retries) RunOutcome {
	o.Finished = time.Now()
	o.Duration = o.Finished.Sub(start)
	o.Retries = retries
	code := o.ExitCode()
	c.mu.Lock()
	c.runs++
	c.lastCode = code
	c.mu.Unlock()
	if c.Observer != nil {
		c.Observer.Finished(ctx, o)
	}
	return o
}

func (c *Controller) runOnce(ctx context.Context, e *Engine, start time.Time) (o RunOutcome) {
	log := c.logger()
	plan, err := e.Plan(ctx)
	planned := time.Now()
	o.Phases.List = planned.Sub(start)
	if plan != nil && !plan.listed.IsZero() && !plan.listed.Before(start) && !plan.listed.After(planned) {
		o.Phases.List, o.Phases.Plan = plan.listed.Sub(start), planned.Sub(plan.listed)
	}
	if err != nil {
		if !e.Deadline.IsZero() && !time.Now().Before(e.Deadline) {
			err = &lateListError{err: err}
		}
		if c.FieldName != nil {
			err = remote.Explain(err, c.FieldName)
		}
		log.LogAttrs(ctx, slog.LevelError, "planning failed, nothing changed", slog.String("error", err.Error()))
		o.Err = err
		return o
	}
	log.LogAttrs(ctx, slog.LevelInfo, "plan",
		slog.String("policy", string(plan.Policy)),
		slog.Int("create", plan.Count(KindCreate)),
		slog.Int("update", plan.Count(KindUpdate)),
		slog.Int("delete", plan.Count(KindDelete)),
		slog.Int("unchanged", plan.Count(KindUnchanged)),
		slog.Int("conflict", plan.Count(KindConflict)),
		slog.Int("skipped", plan.Count(KindSkipped)),
		slog.Bool("guardTripped", plan.Guard.Tripped),
		slog.String("deletionsDigest", plan.DeletionsDigest),
		slog.Bool("dryRun", e.DryRun))
	if log.Enabled(ctx, slog.LevelDebug) {
		for i := range plan.Changes {
			ch := &plan.Changes[i]
			log.LogAttrs(ctx, slog.LevelDebug, "planned change", slog.String("kind", string(ch.Kind)),
				slog.String("application", ch.Name), slog.String("instance", ch.Key),
				slog.Any("fields", ch.Fields), slog.String("reason", ch.Reason))
		}
	}
	rep, err := e.Apply(ctx, plan)
	o.Report, o.Err = rep, err
	o.Phases.Apply = time.Since(planned)
	if rep == nil {
		log.LogAttrs(ctx, slog.LevelError, "the plan was refused, nothing changed", slog.String("error", err.Error()))
		return o
	}
	logGuard(ctx, log, plan, e.DryRun)
	if errors.Is(err, ErrDeadline) {
		log.LogAttrs(ctx, slog.LevelWarn, "the run timeout passed: changes not started are left to the next run",
			slog.Int("notStarted", rep.Summary.NotStarted), slog.Time("deadline", e.Deadline))
	}
	level := slog.LevelInfo
	if ExitCode(rep, err) != ExitOK {
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, "run finished", slog.String("summary", rep.Summary.String()),
		slog.Int("specFetches", rep.Summary.SpecFetches), slog.Bool("dryRun", rep.DryRun),
		slog.Duration("duration", time.Since(start)))
	return o
}

// IdleCloser is implemented by a Source or a Registry that keeps
// connections open between requests (the openconnectors and compass
// clients do). The Controller closes them at the end of every run: a run
// leaves no connection, and no goroutine serving one, behind it, while the
// clients themselves (and a cached token) are kept for the next run.
type IdleCloser interface {
	// CloseIdleConnections closes the connections no request uses now.
	CloseIdleConnections()
}

func closeIdle(v any) {
	if c, ok := v.(IdleCloser); ok {
		c.CloseIdleConnections()
	}
}

// retriesOf reads the retry counters of e's two sides; zero for a side that
// does not count.
func retriesOf(e *Engine) Retries {
	var r Retries
	if c, ok := e.Source.(RetryCounter); ok {
		r.Source = c.Retries()
	}
	if c, ok := e.Registry.(RetryCounter); ok {
		r.Registry = c.Retries()
	}
	return r
}

// lateListError is a failed listing after the run's deadline passed: the
// listing error, which errors.Is also finds to be ErrDeadline.
type lateListError struct{ err error }

func (e *lateListError) Error() string {
	return "the run timeout passed while listing: " + e.err.Error()
}
func (e *lateListError) Unwrap() error        { return e.err }
func (e *lateListError) Is(target error) bool { return target == ErrDeadline }

// logGuard tells why deletions were withheld and how to apply them.
func logGuard(ctx context.Context, log *slog.Logger, plan *Plan, dryRun bool) {
	g := plan.Guard
	if !g.Tripped || dryRun {
		return
	}
	attrs := []slog.Attr{slog.Int("deletes", g.Deletes), slog.Int("owned", g.Owned),
		slog.Int("maxDeletePercent", g.MaxPercent), slog.String("deletionsDigest", plan.DeletionsDigest)}
	if g.Refused != "" {
		log.LogAttrs(ctx, slog.LevelWarn, "deletions withheld: the approved digest does not match the deletions of this plan; "+
			"review them in a dry run and approve the new digest", append(attrs, slog.String("approved", g.Refused))...)
		return
	}
	log.LogAttrs(ctx, slog.LevelWarn, "deletions withheld by the deletion guard; review them in a dry run and "+
		"approve their digest (or lift the guard with force)", attrs...)
}

// Run runs the engine every Interval until ctx ends, or once when Interval
// is 0, and returns nil then. A run that outlasts the interval delays the
// next one, which then starts at once (a log record says so). When ctx
// ends, the current run's context is cancelled (the engine starts no new
// change after that) and Run returns once it did. It returns an error only
// when the Controller is incomplete.
func (c *Controller) Run(ctx context.Context) error {
	if c.Engine == nil || c.Interval < 0 {
		return errors.New("ocsync: Controller needs an Engine and an Interval that is not negative")
	}
	if err := c.CheckInterval(); err != nil {
		return err
	}
	log := c.logger()
	for ctx.Err() == nil {
		start := time.Now()
		code := c.RunOnce(ctx).ExitCode()
		took := time.Since(start)
		if ctx.Err() != nil || c.Interval == 0 {
			break
		}
		wait := c.Interval - took
		if wait <= 0 {
			log.LogAttrs(ctx, slog.LevelWarn, "the run took longer than the interval; the next run starts now",
				slog.Duration("took", took), slog.Duration("interval", c.Interval))
			continue
		}
		log.LogAttrs(ctx, slog.LevelDebug, "next run", slog.Time("at", start.Add(c.Interval)), slog.Int("exitCode", code))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	if c.Interval > 0 {
		log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "service stopping", slog.Int("runs", c.Runs()))
	}
	return nil
}

// CheckInterval returns an error when Interval is positive but below
// MinInterval, naming both; Run refuses to start then.
func (c *Controller) CheckInterval() error {
	if c.Interval > 0 && c.Interval < c.MinInterval {
		return fmt.Errorf("ocsync: the interval %v is shorter than the minimum of %v", c.Interval, c.MinInterval)
	}
	return nil
}

// Ready reports whether the last run ended without a configuration,
// authentication or listing failure (an exit code other than ExitFailed);
// false before the first run ended. A readiness probe reads it.
func (c *Controller) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs > 0 && c.lastCode != ExitFailed
}

// Runs returns how many runs have ended.
func (c *Controller) Runs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs
}

// LastExitCode returns the exit code of the last run that ended, ExitOK
// when none did.
func (c *Controller) LastExitCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastCode
}
