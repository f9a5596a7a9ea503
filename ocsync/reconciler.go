package ocsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Source provides the desired applications.
type Source interface {
	// Applications lists every desired application. It returns all of them or
	// an error: a partial list is never returned.
	Applications(ctx context.Context) ([]Application, error)
	// Spec loads the spec document of one desired application. It is called
	// only when the spec is needed: for creates and updates.
	Spec(ctx context.Context, app Application) (Spec, error)
}

// Registry is the target: it lists the applications in scope, owned or not,
// and creates, updates and deletes owned ones.
type Registry interface {
	// Applications lists the registered applications in scope, all of them or
	// an error. Applications with Owned false are never changed; they are
	// listed so that name clashes are found at plan time.
	Applications(ctx context.Context) ([]Registered, error)
	// Create registers app with its spec and state. A name already taken by
	// an application the job does not own is an error wrapping ErrConflict.
	Create(ctx context.Context, app Application, spec Spec, state State) error
	// Update brings the registered application cur to app. It writes only
	// what Update.Fields lists, replaces the spec only when Update.Spec is
	// set, repairs a missing bundle or API, and records Update.State last.
	Update(ctx context.Context, cur Registered, app Application, u Update) error
	// Delete unregisters cur. An application that is already gone is not an
	// error.
	Delete(ctx context.Context, cur Registered) error
}

// Update is what Registry.Update is asked to write. A Registry writes
// Pending (when set) before anything else, then the changed fields and the
// spec, and State last, so that an update interrupted anywhere leaves a
// stored state that claims nothing that was not written: the next run then
// brings every stored part back to the source's value.
type Update struct {
	// Fields are the fields to write, as in Change.Fields. A field whose
	// write depends on a spec that could not be loaded is left out.
	Fields []string
	// Spec is the new spec document, or nil when the stored one is kept.
	Spec *Spec
	// Pending, when not nil, is the state to record first: the stored
	// state without the hashes of Fields (and without the spec hash when
	// Spec is set), marked Pending. Nil when the stored state claims
	// nothing that the update changes.
	Pending *State
	// State is the state to record once everything else is written.
	State State
}

// NameKeyer is implemented by a Registry whose target compares application
// names under a normalisation (the Director lower-cases and rewrites them).
// NewEngine takes Engine.NameKey from it, so name clashes with applications
// the sync does not own are found at plan time.
type NameKeyer interface {
	// NameKey maps a name to the key the target compares.
	NameKey(name string) string
}

// NameChecker is implemented by a Registry that can look up, by name,
// applications that Applications does not list (those the sync does not
// own). Plan calls Taken with the names it would create and turns every name
// taken into a conflict, so a known clash costs no download and no refused
// create. A failed lookup fails the plan like a failed listing.
type NameChecker interface {
	// Taken returns the registered applications whose names clash (under
	// the target's name rule) with any of names.
	Taken(ctx context.Context, names []string) ([]Registered, error)
}

// Reconciler plans and applies.
type Reconciler interface {
	// Plan lists both sides and computes the plan. It changes nothing.
	Plan(ctx context.Context) (*Plan, error)
	// Apply carries the plan out and reports a result per change.
	Apply(ctx context.Context, plan *Plan) (*Report, error)
}

var _ Reconciler = (*Engine)(nil)

// DefaultConcurrency is how many changes Apply carries out at once when
// Engine.Concurrency is not set.
const DefaultConcurrency = 8

// Engine is the Reconciler. Its zero values are documented defaults; Source
// and Registry are required.
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
	// NameKey is passed to Calculate (see PlanOptions.NameKey).
	NameKey func(string) string
	// Logger receives one record per applied change; nil discards.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
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
// If either listing fails, it returns a *ListError (ErrListFailed) and no plan.
func (e *Engine) Plan(ctx context.Context) (*Plan, error) {
	if e.Source == nil || e.Registry == nil {
		return nil, errors.New("ocsync: Engine needs a Source and a Registry")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg         sync.WaitGroup
		desired    []Application
		registered []Registered
		srcErr     error
		regErr     error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if desired, srcErr = e.Source.Applications(ctx); srcErr != nil {
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		if registered, regErr = e.Registry.Applications(ctx); regErr != nil {
			cancel()
		}
	}()
	wg.Wait()
	// Report the side that failed first; a cancellation caused by the other
	// side's failure is not the cause.
	switch {
	case srcErr != nil && (regErr == nil || !errors.Is(srcErr, context.Canceled)):
		return nil, &ListError{Side: "source", Err: srcErr}
	case regErr != nil:
		return nil, &ListError{Side: "registry", Err: regErr}
	}
	plan := Calculate(desired, registered, PlanOptions{
		Policy:              e.Policy,
		MaxDeletePercent:    e.MaxDeletePercent,
		Force:               e.Force,
		ApproveDigest:       e.ApproveDigest,
		SpecRefreshInterval: e.SpecRefreshInterval,
		Now:                 e.now(),
		NameKey:             e.NameKey,
	})
	return plan, nil
}

// Outcome is what happened to one change.
type Outcome string

// The outcomes.
const (
	// OutcomeApplied: the change was carried out.
	OutcomeApplied Outcome = "applied"
	// OutcomeFailed: the change was tried and failed.
	OutcomeFailed Outcome = "failed"
	// OutcomeConflict: the create was refused because the name is taken, or
	// the plan found the clash.
	OutcomeConflict Outcome = "conflict"
	// OutcomeWithheld: a deletion held back by the guard.
	OutcomeWithheld Outcome = "withheld"
	// OutcomeNone: nothing to do (unchanged or skipped).
	OutcomeNone Outcome = "none"
	// OutcomePlanned: a dry run; the change was not carried out.
	OutcomePlanned Outcome = "planned"
	// OutcomeNotStarted: the run was cancelled or aborted before the change
	// started.
	OutcomeNotStarted Outcome = "not-started"
)

// Result is the outcome of one change.
type Result struct {
	// Kind and Name identify the change.
	Kind ChangeKind `json:"kind"`
	// Name is the application name.
	Name string `json:"name"`
	// Outcome is what happened.
	Outcome Outcome `json:"outcome"`
	// SpecReplaced is true when a create or update wrote a spec document.
	SpecReplaced bool `json:"specReplaced,omitempty"`
	// Error is the failure, when Outcome is failed, conflict or not-started.
	Error string `json:"error,omitempty"`

	err error
}

// Err returns the failure of the change, or nil.
func (r *Result) Err() error { return r.err }

// Summary counts the results of a run.
type Summary struct {
	// Created counts the creates applied (in a dry run, planned).
	Created int `json:"created"`
	// Updated counts the updates applied (in a dry run, planned).
	Updated int `json:"updated"`
	// Deleted counts the deletions applied (in a dry run, planned).
	Deleted int `json:"deleted"`
	// Unchanged counts applications already in sync.
	Unchanged int `json:"unchanged"`
	// Skipped counts items left alone by policy, status or unusable input.
	Skipped int `json:"skipped"`
	// Conflicts counts name clashes with applications not owned.
	Conflicts int `json:"conflicts"`
	// Failed counts changes that were tried and failed.
	Failed int `json:"failed"`
	// Withheld counts deletions held back by the deletion guard.
	Withheld int `json:"withheld"`
	// NotStarted counts changes not started after a cancellation or a
	// fatal error.
	NotStarted int `json:"notStarted"`
	// SpecFetches is how many spec documents were loaded from the Source.
	SpecFetches int `json:"specFetches"`
}

// String renders the summary as one line.
func (s Summary) String() string {
	return fmt.Sprintf("%d created, %d updated, %d deleted, %d unchanged, %d skipped, %d conflicts, %d failed, %d withheld, %d not started",
		s.Created, s.Updated, s.Deleted, s.Unchanged, s.Skipped, s.Conflicts, s.Failed, s.Withheld, s.NotStarted)
}

// Report is the outcome of Apply.
type Report struct {
	// DryRun is true when nothing was applied.
	DryRun bool `json:"dryRun"`
	// Plan is the plan that was applied.
	Plan *Plan `json:"plan"`
	// Results, one per change, in plan order.
	Results []Result `json:"results"`
	// Summary counts the results.
	Summary Summary `json:"summary"`
}

// Apply carries out the plan with at most Concurrency changes at once and
// returns a result per change. The error joins every item error (*ItemError,
// with *ConflictError causes for conflicts), a *GuardError when deletions were
// withheld, and the context's error when the run was cancelled; after a
// cancellation or an error marked ErrFatal no new change starts. In a dry run
// Apply calls neither the Registry nor the Source.
func (e *Engine) Apply(ctx context.Context, plan *Plan) (*Report, error) {
	if plan == nil {
		return nil, errors.New("ocsync: Apply needs a plan")
	}
	rep := &Report{DryRun: e.DryRun, Plan: plan, Results: make([]Result, len(plan.Changes))}
	for i := range plan.Changes {
		c := &plan.Changes[i]
		rep.Results[i] = Result{Kind: c.Kind, Name: c.Name, Outcome: OutcomeNone}
	}
	var (
		errs    []error
		fetches int
	)
	if e.DryRun {
		for i := range plan.Changes {
			if settle(&plan.Changes[i], &rep.Results[i]) {
				rep.Results[i].Outcome = OutcomePlanned
			}
		}
	} else {
		errs, fetches = e.apply(ctx, plan, rep)
	}
	if plan.Guard.Tripped {
		errs = append(errs, &GuardError{Deletes: plan.Guard.Deletes, Owned: plan.Guard.Owned, MaxPercent: plan.Guard.MaxPercent,
			Digest: plan.DeletionsDigest, Refused: plan.Guard.Refused})
	}
	rep.Summary = summarise(plan, rep.Results)
	rep.Summary.SpecFetches = fetches
	return rep, errors.Join(errs...)
}

// settle gives a change that calls no Registry method its outcome (conflict,
// withheld or none) and reports whether the change mutates instead.
func settle(c *Change, r *Result) bool {
	switch {
	case c.Kind == KindConflict:
		r.Outcome = OutcomeConflict
	case c.Withheld:
		r.Outcome = OutcomeWithheld
	default:
		return c.mutates()
	}
	return false
}

// ConflictError reports a desired application whose name is taken by an
// application the job does not own.
type ConflictError struct {
	// Name is the application name.
	Name string
	// Reason is what the plan or the target said.
	Reason string
}

// Error names the application and the reason.
func (e *ConflictError) Error() string { return fmt.Sprintf("conflict on %s: %s", e.Name, e.Reason) }

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// apply carries out the mutating changes and returns the item errors in plan
// order and how many specs were loaded.
func (e *Engine) apply(ctx context.Context, plan *Plan, rep *Report) ([]error, int) {
	limit := e.Concurrency
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	var (
		mu      sync.Mutex
		fatal   error
		fetches int
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, limit)
	stopped := func() error {
		mu.Lock()
		defer mu.Unlock()
		if fatal != nil {
			return fmt.Errorf("not started after a fatal error: %w", fatal)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return nil
	}
	for i := range plan.Changes {
		c := &plan.Changes[i]
		r := &rep.Results[i]
		if !settle(c, r) {
			if c.Kind == KindConflict {
				r.err = &ItemError{Name: c.Name, Kind: c.Kind, Err: &ConflictError{Name: c.Name, Reason: c.Reason}}
				r.Error = r.err.Error()
			}
			continue
		}
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if err := stopped(); err != nil {
			if acquired {
				<-sem
			}
			r.Outcome, r.Error = OutcomeNotStarted, err.Error()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fetched, err := e.applyOne(ctx, c, r)
			mu.Lock()
			defer mu.Unlock()
			if fetched {
				fetches++
			}
			if err == nil {
				r.Outcome = OutcomeApplied
				e.logger().LogAttrs(ctx, slog.LevelInfo, "applied", slog.String("kind", string(c.Kind)),
					slog.String("application", c.Name), slog.Any("fields", c.Fields), slog.Bool("specReplaced", r.SpecReplaced))
				return
			}
			r.err = &ItemError{Name: c.Name, Kind: c.Kind, Err: err}
			r.Error = r.err.Error()
			r.Outcome = OutcomeFailed
			if errors.Is(err, ErrConflict) {
				r.Outcome = OutcomeConflict
			}
			if errors.Is(err, ErrFatal) && fatal == nil {
				fatal = err
			}
			e.logger().LogAttrs(ctx, slog.LevelError, "change failed", slog.String("kind", string(c.Kind)),
				slog.String("application", c.Name), slog.String("error", err.Error()))
		}()
	}
	wg.Wait()
	// Item errors in plan order, so the joined error is deterministic.
	var ordered []error
	for i := range rep.Results {
		if rep.Results[i].err != nil {
			ordered = append(ordered, rep.Results[i].err)
		}
	}
	if err := ctx.Err(); err != nil {
		ordered = append(ordered, fmt.Errorf("apply interrupted: %w", err))
	}
	return ordered, fetches
}

// applyOne carries out one change and reports whether a spec was fetched.
func (e *Engine) applyOne(ctx context.Context, c *Change, r *Result) (bool, error) {
	switch c.Kind {
	case KindCreate:
		spec, err := e.Source.Spec(ctx, *c.desired)
		if err != nil {
			return true, fmt.Errorf("load spec: %w", err)
		}
		state := State{Fields: c.desired.Fingerprint(), SpecSHA256: SpecSHA256(spec.Data), SpecFetchedAt: e.now().UTC()}
		if err := e.Registry.Create(ctx, *c.desired, spec, state); err != nil {
			return true, err
		}
		r.SpecReplaced = true
		return true, nil
	case KindUpdate:
		spec, err := e.Source.Spec(ctx, *c.desired)
		if err != nil {
			return true, fmt.Errorf("load spec: %w", err)
		}
		sum := SpecSHA256(spec.Data)
		u := Update{Fields: c.Fields, State: State{Fields: c.desired.Fingerprint(), SpecSHA256: sum, SpecFetchedAt: e.now().UTC()}}
		if c.current.State == nil || c.current.State.SpecSHA256 != sum || c.current.Incomplete {
			u.Spec = &spec
		}
		if err := e.Registry.Update(ctx, *c.current, *c.desired, u); err != nil {
			return true, err
		}
		r.SpecReplaced = u.Spec != nil
		return true, nil
	case KindDelete:
		return false, e.Registry.Delete(ctx, *c.current)
	}
	return false, nil
}

func summarise(plan *Plan, results []Result) Summary {
	var s Summary
	for i := range results {
		r := &results[i]
		switch r.Outcome {
		case OutcomeFailed:
			s.Failed++
			continue
		case OutcomeConflict:
			s.Conflicts++
			continue
		case OutcomeWithheld:
			s.Withheld++
			continue
		case OutcomeNotStarted:
			s.NotStarted++
			continue
		}
		switch plan.Changes[i].Kind {
		case KindCreate:
			s.Created++
		case KindUpdate:
			s.Updated++
		case KindDelete:
			s.Deleted++
		case KindUnchanged:
			s.Unchanged++
		case KindSkipped:
			s.Skipped++
		}
	}
	return s
}
