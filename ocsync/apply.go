package ocsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Outcome is what happened to one change.
type Outcome string

// The outcomes.
const (
	// OutcomeApplied: the change was carried out.
	OutcomeApplied Outcome = "applied"
	// OutcomeFailed: the change was tried and failed (in part: an update
	// whose spec could not be loaded still writes its other fields).
	OutcomeFailed Outcome = "failed"
	// OutcomeConflict: the create was refused because the name is taken, or
	// the plan found the clash.
	OutcomeConflict Outcome = "conflict"
	// OutcomeWithheld: a deletion held back by the guard.
	OutcomeWithheld Outcome = "withheld"
	// OutcomeUnusable: the source object cannot be mapped; its application
	// was left as it is.
	OutcomeUnusable Outcome = "unusable"
	// OutcomeNone: nothing to do (unchanged or skipped).
	OutcomeNone Outcome = "none"
	// OutcomePlanned: a dry run; the change was not carried out.
	OutcomePlanned Outcome = "planned"
	// OutcomeNotStarted: the run was cancelled, aborted or past its
	// deadline before the change started.
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
	// Error is the failure, when Outcome is failed, conflict, unusable or
	// not-started.
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
	// Skipped counts items left alone by policy or status.
	Skipped int `json:"skipped"`
	// Unusable counts source objects that cannot be mapped; their
	// applications were left as they are.
	Unusable int `json:"unusable"`
	// Conflicts counts name clashes with applications not owned.
	Conflicts int `json:"conflicts"`
	// Failed counts changes that were tried and failed.
	Failed int `json:"failed"`
	// Withheld counts deletions held back by the deletion guard.
	Withheld int `json:"withheld"`
	// NotStarted counts changes not started after a cancellation, a
	// fatal error or the deadline.
	NotStarted int `json:"notStarted"`
	// SpecFetches is how many spec documents were requested from the
	// Source, failed loads included.
	SpecFetches int `json:"specFetches"`
}

// String renders the summary as one line; the unusable count is shown only
// when there are any.
func (s Summary) String() string {
	unusable := ""
	if s.Unusable > 0 {
		unusable = fmt.Sprintf(", %d unusable", s.Unusable)
	}
	return fmt.Sprintf("%d created, %d updated, %d deleted, %d unchanged, %d skipped%s, %d conflicts, %d failed, %d withheld, %d not started",
		s.Created, s.Updated, s.Deleted, s.Unchanged, s.Skipped, unusable, s.Conflicts, s.Failed, s.Withheld, s.NotStarted)
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

// PlanError reports a plan that Apply refuses before any change: one it did
// not make (a plan decoded from JSON carries no applications, only their
// description) or one that was altered. It wraps ErrPlanInvalid.
type PlanError struct {
	// Index is the position of the first unusable change; -1 for the plan
	// as a whole.
	Index int
	// Name is that change's application name.
	Name string
	// Problem says what is wrong.
	Problem string
}

// Error names the change and the problem.
func (e *PlanError) Error() string {
	if e.Index < 0 {
		return "ocsync: plan cannot be applied: " + e.Problem
	}
	return fmt.Sprintf("ocsync: plan cannot be applied: change %d (%s): %s", e.Index, e.Name, e.Problem)
}

// Is makes errors.Is(err, ErrPlanInvalid) true.
func (e *PlanError) Is(target error) bool { return target == ErrPlanInvalid }

// check reports the first change Apply could not carry out. A Plan holds the
// desired and registered applications of its changes only in memory: a plan
// that went through JSON (to be reviewed, say) describes the changes but can
// no longer be applied, because the credentials and registry references it
// would need were never serialised.
func (p *Plan) check() error {
	if p == nil {
		return &PlanError{Index: -1, Problem: "no plan"}
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		bad := func(problem string) error { return &PlanError{Index: i, Name: c.Name, Problem: problem} }
		switch c.Kind {
		case KindCreate:
			if c.desired == nil {
				return bad("a create without its desired application (was the plan decoded from JSON?)")
			}
		case KindUpdate:
			if c.desired == nil || c.current == nil {
				return bad("an update without its desired and registered applications (was the plan decoded from JSON?)")
			}
		case KindDelete:
			if c.current == nil {
				return bad("a delete without its registered application (was the plan decoded from JSON?)")
			}
		case KindUnchanged, KindConflict, KindSkipped:
			continue
		default:
			return bad(fmt.Sprintf("unknown kind %q", c.Kind))
		}
		if c.desired != nil && c.desired.Name != c.Name || c.current != nil && c.current.Name != c.Name {
			return bad("the change's name does not match its application")
		}
		if c.current != nil && !c.current.Owned {
			return bad("the registered application is not owned")
		}
	}
	return nil
}

// Apply carries out the plan with at most Concurrency changes at once and
// returns a result per change. A plan that Plan or Calculate did not make
// (see PlanError) is refused before any change. The error joins every item
// error (*ItemError, with *ConflictError causes for conflicts and
// *UnusableError causes for unusable source objects), a *GuardError when
// deletions were withheld, and the context's error when the run was
// cancelled; after a cancellation, an error marked ErrFatal or the Deadline
// no new change starts. In a dry run Apply calls neither the Registry nor the
// Source.
func (e *Engine) Apply(ctx context.Context, plan *Plan) (*Report, error) {
	if err := plan.check(); err != nil {
		return nil, err
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
		errs = append(errs, &GuardError{Deletes: plan.Guard.Deletes, Owned: plan.Guard.Owned, MaxPercent: plan.Guard.MaxPercent, SourceEmpty: plan.Guard.SourceEmpty,
			Digest: plan.DeletionsDigest, Refused: plan.Guard.Refused})
	}
	rep.Summary = summarise(plan, rep.Results)
	rep.Summary.SpecFetches = fetches
	return rep, errors.Join(errs...)
}

// settle gives a change that calls no Registry method its outcome (conflict,
// withheld, unusable or none) and reports whether the change mutates
// instead.
func settle(c *Change, r *Result) bool {
	switch {
	case c.Kind == KindConflict:
		r.Outcome = OutcomeConflict
	case c.Unusable:
		r.Outcome = OutcomeUnusable
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
		mu       sync.Mutex
		fatal    error
		fetches  int
		wg       sync.WaitGroup
		late     bool
		progress = newProgress(plan.Mutations(), e.now())
	)
	stopProgress := e.logProgress(ctx, progress)
	defer stopProgress()
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
		if !e.Deadline.IsZero() && !e.now().Before(e.Deadline) {
			late = true
			return fmt.Errorf("not started: %w at %s", ErrDeadline, e.Deadline.UTC().Format(time.RFC3339))
		}
		return nil
	}
	for i := range plan.Changes {
		c := &plan.Changes[i]
		r := &rep.Results[i]
		if !settle(c, r) {
			switch {
			case c.Kind == KindConflict:
				r.err = &ItemError{Name: c.Name, Kind: c.Kind, Err: &ConflictError{Name: c.Name, Reason: c.Reason}}
			case c.Unusable:
				r.err = &ItemError{Name: c.Name, Kind: c.Kind, Err: &UnusableError{Name: c.Name, Reason: strings.TrimPrefix(c.Reason, "unusable: ")}}
			}
			if r.err != nil {
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
			progress.done(false)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fetched, err := e.applyOne(ctx, c, r)
			progress.done(err != nil)
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
	if late {
		ordered = append(ordered, fmt.Errorf("apply stopped: %w (%s); the changes not started are retried by the next run",
			ErrDeadline, e.Deadline.UTC().Format(time.RFC3339)))
	}
	return ordered, fetches
}

// progress counts the mutating changes of one Apply as they end.
type progress struct {
	mu           sync.Mutex
	total, count int
	failed       int
	start        time.Time
}

func newProgress(total int, start time.Time) *progress { return &progress{total: total, start: start} }

func (p *progress) done(failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count++
	if failed {
		p.failed++
	}
}

// Progress is how far one Apply has come: what a "progress" record logs
// and Engine.OnProgress receives.
type Progress struct {
	// Done counts the mutating changes that ended, Failed those of them
	// that failed, Total all the plan's mutating changes.
	Done, Failed, Total int
	// Rate is changes per second so far.
	Rate float64
	// ETA is the estimated time left.
	ETA time.Duration
}

// at is the progress at now.
func (p *progress) at(now time.Time) Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := now.Sub(p.start)
	out := Progress{Done: p.count, Failed: p.failed, Total: p.total}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.count) / elapsed.Seconds()
	}
	out.Rate = float64(int(rate*100)) / 100
	if rate > 0 {
		out.ETA = time.Duration(float64(p.total-p.count) / rate * float64(time.Second)).Round(time.Second)
	}
	return out
}

// logProgress logs the progress every ProgressInterval until the returned
// function is called.
func (e *Engine) logProgress(ctx context.Context, p *progress) (stop func()) {
	every := e.ProgressInterval
	if every == 0 {
		every = DefaultProgressInterval
	}
	if every < 0 || p.total == 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				now := p.at(e.now())
				e.logger().LogAttrs(ctx, slog.LevelInfo, "progress", slog.Int("done", now.Done), slog.Int("total", now.Total),
					slog.Int("failed", now.Failed), slog.Float64("rate", now.Rate), slog.Duration("eta", now.ETA))
				if e.OnProgress != nil {
					e.OnProgress(ctx, now)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
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
		return e.update(ctx, c, r)
	case KindDelete:
		return false, e.Registry.Delete(ctx, *c.current)
	}
	return false, nil
}

// specFields are the fields whose change makes an update load the spec: the
// spec is due, the source object's revision changed (its document may have
// too), or a missing bundle or API must be added again with the document.
var specFields = []string{FieldSpec, FieldRevision, FieldStructure}

// update carries out one update. The spec is loaded only when the update
// needs it (see specFields), and then sent only when its hash changed. When
// it cannot be loaded, every other field is still written, the stored spec
// and its revision stay as they are (so the spec is due again on the next
// run), and the error is returned as the item's failure.
func (e *Engine) update(ctx context.Context, c *Change, r *Result) (bool, error) {
	cur, d := c.current, c.desired
	old := cur.State
	fetched := slices.ContainsFunc(c.Fields, func(f string) bool { return slices.Contains(specFields, f) }) || old == nil
	var (
		spec    *Spec
		specErr error
	)
	if fetched {
		s, err := e.Source.Spec(ctx, *d)
		if err != nil {
			specErr = fmt.Errorf("load spec: %w", err)
		} else {
			spec = &s
		}
	}

	u := Update{Fields: c.Fields, State: State{Fields: d.Fingerprint()}}
	switch {
	case spec != nil:
		sum := SpecSHA256(spec.Data)
		u.State.SpecSHA256, u.State.SpecFetchedAt = sum, e.now().UTC()
		if old == nil || old.SpecSHA256 != sum || cur.Incomplete {
			u.Spec = spec
		}
	case old != nil:
		u.State.SpecSHA256, u.State.SpecFetchedAt = old.SpecSHA256, old.SpecFetchedAt
	}
	if specErr != nil {
		// The revision tells that the document may have changed: keep the
		// stored hash, so the spec stays due until it is loaded.
		if h, ok := old.fieldHash(FieldRevision); ok {
			u.State.Fields[FieldRevision] = h
		} else {
			delete(u.State.Fields, FieldRevision)
		}
		u.Fields = slices.DeleteFunc(slices.Clone(c.Fields), func(f string) bool { return f == FieldSpec || f == FieldRevision })
		if len(u.Fields) == 0 {
			return true, specErr
		}
	}
	// A registry that finds parts missing loads the document through
	// LoadSpec (once; it is sent whatever its hash, since the parts that
	// held it are gone).
	loaded := false
	u.LoadSpec = func(ctx context.Context) (Spec, State, error) {
		if specErr != nil {
			return Spec{}, State{}, specErr
		}
		if spec == nil {
			s, err := e.Source.Spec(ctx, *d)
			if err != nil {
				specErr = fmt.Errorf("load spec: %w", err)
				return Spec{}, State{}, specErr
			}
			spec, fetched = &s, true
		}
		loaded = true
		st := u.State
		st.SpecSHA256, st.SpecFetchedAt = SpecSHA256(spec.Data), e.now().UTC()
		return *spec, st, nil
	}

	if err := e.Registry.Update(ctx, *cur, *d, u); err != nil {
		if specErr != nil && !errors.Is(err, specErr) {
			err = errors.Join(err, specErr)
		}
		return fetched, err
	}
	r.SpecReplaced = u.Spec != nil || loaded
	if specErr != nil {
		return fetched, fmt.Errorf("fields %s written, spec not refreshed: %w", strings.Join(u.Fields, ", "), specErr)
	}
	return fetched, nil
}

// fieldHash returns the stored hash of field, if any.
func (s *State) fieldHash(field string) (string, bool) {
	if s == nil {
		return "", false
	}
	h, ok := s.Fields[field]
	return h, ok
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
		case OutcomeUnusable:
			s.Unusable++
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
