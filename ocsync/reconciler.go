package ocsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultConcurrency is how many changes Apply carries out at once when
// Engine.Concurrency is not set.
const DefaultConcurrency = 8

// Engine is the Reconciler. Its zero values are documented defaults; Source
// and Registry are required. NewEngine builds one and checks that the two
// sides fit together.
type Engine struct {
	// Source provides the desired applications.
	Source Source
	// Registry is the target.
	Registry Registry
	// Policy; empty means PolicySync.
	Policy Policy
	// Concurrency is how many changes are applied at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// MaxDeletePercent is the deletion guard's threshold; 0 means
	// DefaultMaxDeletePercent.
	MaxDeletePercent int
	// Force lifts the deletion guard.
	Force bool
	// ApproveDigest is passed to Calculate (see PlanOptions.ApproveDigest).
	ApproveDigest string
	// SpecRefreshInterval; 0 means DefaultSpecRefreshInterval.
	SpecRefreshInterval time.Duration
	// DryRun makes Apply report the plan without calling the Registry or
	// fetching specs. It is the only place where dry run is decided.
	DryRun bool
	// NameKey is passed to Calculate (see PlanOptions.NameKey). NewEngine
	// takes it from a Registry that implements Names.
	NameKey func(string) string
	// Deadline, when not zero, is the end of the run: Plan lists under it,
	// and Apply starts no change after it (such changes are not started,
	// and Apply's error wraps ErrDeadline). Changes already running finish
	// under their own request timeouts.
	Deadline time.Time
	// ProgressInterval is how often Apply logs a "progress" record (done,
	// total, failed, rate, eta) at Info while it runs; 0 means
	// DefaultProgressInterval, a negative value turns it off. A run
	// shorter than the interval logs none.
	ProgressInterval time.Duration
	// Logger receives one record per applied change and the progress
	// records; nil discards.
	Logger *slog.Logger
	// OnProgress, when set, is called with every progress record Apply
	// logs (see ProgressInterval), from a goroutine of Apply's.
	OnProgress func(ctx context.Context, p Progress)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// DefaultProgressInterval is how often Apply logs its progress when
// Engine.ProgressInterval is not set.
const DefaultProgressInterval = 10 * time.Second

// NewEngine returns an Engine for source and registry with the defaults of
// every other field. It checks what an embedder could otherwise get wrong:
// both sides are given, and when both know their Scope they name the same one
// (an error wrapping ErrScopeMismatch otherwise; the zero Scope means
// unknown and is not compared). When the Registry
// implements Names, its name rule becomes Engine.NameKey.
func NewEngine(source Source, registry Registry) (*Engine, error) {
	if source == nil || registry == nil {
		return nil, errors.New("ocsync: NewEngine needs a Source and a Registry")
	}
	if s, ok := source.(Scoped); ok {
		if r, ok := registry.(Scoped); ok && s.Scope() != r.Scope() && s.Scope() != (Scope{}) && r.Scope() != (Scope{}) {
			return nil, fmt.Errorf("%w: source %+v, registry %+v", ErrScopeMismatch, s.Scope(), r.Scope())
		}
	}
	e := &Engine{Source: source, Registry: registry}
	if k, ok := registry.(Names); ok {
		e.NameKey = k.NameKey
	}
	return e, nil
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Plan lists the source and the registry concurrently and computes the plan.
// If a listing fails, it returns no plan and a *ListError (ErrListFailed)
// per failed side, joined: both sides always list to the end.
// When the Registry implements Names, the names the plan would create
// are looked up, and those taken become conflicts; a failed look-up fails the
// plan like a listing.
func (e *Engine) Plan(ctx context.Context) (*Plan, error) {
	if e.Source == nil || e.Registry == nil {
		return nil, errors.New("ocsync: Engine needs a Source and a Registry")
	}
	if !e.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, e.Deadline)
		defer cancel()
	}
	var (
		desired    []Application
		registered []Registered
	)
	// Both sides list to the end even when the other failed, so that a
	// run reports every listing problem at once (each side is bounded by
	// its own request timeouts and by the run's deadline).
	var srcErr, regErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		if desired, srcErr = e.Source.Applications(ctx); srcErr != nil {
			srcErr = &ListError{Side: "source", Err: srcErr}
		}
	})
	wg.Go(func() {
		if registered, regErr = e.Registry.Applications(ctx); regErr != nil {
			regErr = &ListError{Side: "registry", Err: regErr}
		}
	})
	wg.Wait()
	if err := errors.Join(srcErr, regErr); err != nil {
		return nil, err
	}
	listDone := e.now()
	opts := PlanOptions{
		Policy:              e.Policy,
		MaxDeletePercent:    e.MaxDeletePercent,
		Force:               e.Force,
		ApproveDigest:       e.ApproveDigest,
		SpecRefreshInterval: e.SpecRefreshInterval,
		Now:                 e.now(),
		NameKey:             e.NameKey,
	}
	plan := Calculate(desired, registered, opts)
	plan.listed = listDone
	checker, ok := e.Registry.(Names)
	if !ok {
		return plan, nil
	}
	var names []string
	for i := range plan.Changes {
		if c := &plan.Changes[i]; c.Kind == KindCreate {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return plan, nil
	}
	taken, err := checker.Taken(ctx, names)
	if err != nil {
		return nil, &ListError{Side: "registry", Err: fmt.Errorf("look up the names to create: %w", err)}
	}
	listed := make(map[string]bool, len(registered))
	for i := range registered {
		listed[registered[i].ID] = true
	}
	extra := 0
	for _, t := range taken {
		if t.Owned || (t.ID != "" && listed[t.ID]) {
			continue // listed already; only applications not owned are added
		}
		registered = append(registered, t)
		extra++
	}
	if extra == 0 {
		return plan, nil
	}
	return Calculate(desired, registered, opts), nil
}
