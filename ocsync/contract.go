package ocsync

import (
	"context"
	"maps"
	"slices"
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
// and creates, updates and deletes owned ones, one at a time (the engine
// calls it from several goroutines). It stores the State the engine hands
// it next to each application and lists it back: that is how drift is found
// without reading everything. Each method reports a failure that concerns
// the whole run (rejected credentials, an unknown tenant) as an error
// marked ErrFatal; any other error fails that one item only.
//
// Optional: Scoped (the scope the Registry owns, checked by NewEngine) and
// Names (its own name rule and look-up, for conflicts at plan time).
type Registry interface {
	// Applications lists the registered applications in scope, all of them or
	// an error. Applications with Owned false are never changed; they are
	// listed so that name clashes are found at plan time.
	Applications(ctx context.Context) ([]Registered, error)
	// Create registers app with its spec and state. A name already taken by
	// an application the job does not own is an error wrapping ErrConflict.
	Create(ctx context.Context, app Application, spec Spec, state State) error
	// Update makes the registered application cur look like app. It writes
	// only what Update.Fields lists (everything when cur has no State),
	// replaces the spec only when Update.Spec is set, restores parts found
	// missing with the document Update.LoadSpec loads, and records
	// Update.State (or the state LoadSpec returned) last. A target written
	// in several steps records Update.PendingState first.
	Update(ctx context.Context, cur Registered, app Application, u Update) error
	// Delete unregisters cur. An application that is already gone is not an
	// error.
	Delete(ctx context.Context, cur Registered) error
}

// Update is what Registry.Update is asked to write: the changed fields, the
// new document when it changed, and the state to record last.
type Update struct {
	// Fields are the fields to write, as in Change.Fields. A field whose
	// write depends on a spec that could not be loaded is left out.
	Fields []string
	// Spec is the new spec document, or nil when the stored one is kept.
	Spec *Spec
	// LoadSpec loads the spec document, for a Registry that finds parts
	// missing which only the document can restore (a bundle or an API
	// definition deleted in the target) while Spec is nil. It returns the
	// document and the state to record with it in place of State. It is
	// never nil, loads at most once, and fails when the document could
	// not be loaded for this update.
	LoadSpec func(ctx context.Context) (Spec, State, error)
	// State is the state to record once everything else is written.
	State State
}

// PendingState is the state a Registry that writes an update in several
// steps records before the first one, so that an update interrupted
// anywhere leaves a stored state that claims nothing that was not written:
// old (the stored state) without the hashes of what u writes (every field
// when it repairs the structure; the spec hash when it sends a spec),
// marked Pending. The next run then brings every such part back to the
// source's value, even when the source changed back meanwhile. Nil when old
// claims nothing the update changes (no stored state, or an update that
// only records a new fetch time).
func (u Update) PendingState(old *State) *State {
	if old == nil || len(old.Fields) == 0 && (u.Spec == nil || old.SpecSHA256 == "") {
		return nil // the stored state claims nothing this update changes
	}
	writes := u.Spec != nil || slices.ContainsFunc(u.Fields, func(f string) bool { return f != FieldSpec })
	if !writes {
		return nil
	}
	p := &State{Fields: maps.Clone(old.Fields), SpecSHA256: old.SpecSHA256, SpecFetchedAt: old.SpecFetchedAt, Pending: true}
	if slices.Contains(u.Fields, FieldStructure) {
		clear(p.Fields)
	}
	for _, f := range u.Fields {
		delete(p.Fields, f)
	}
	if u.Spec != nil {
		p.SpecSHA256, p.SpecFetchedAt = "", time.Time{}
	}
	return p
}

// Names is the one optional capability of a Registry: a target with a name
// rule of its own and application names the listing does not show (those
// of applications the sync does not own). With it, name clashes are
// conflicts in the plan and in a dry run, not refused creates.
//
// NewEngine takes Engine.NameKey from NameKey. Plan calls Taken with the
// names it would create and turns every name taken into a conflict, so a
// known clash costs no download and no refused create; a failed look-up
// fails the plan like a failed listing. A look-up costs the target work for
// every name, and most names are free: Taken may answer for some names
// only, or none, when looking them up would cost the target more than the
// creates save (see compass.Registry.Taken). A clash it does not report is
// found when Create is refused, once: a run after it creates few, and Taken
// then looks those up.
type Names interface {
	// NameKey maps a name to the key the target compares (the Director
	// lower-cases and rewrites names).
	NameKey(name string) string
	// Taken returns registered applications whose names clash (under the
	// target's name rule) with names: all it found, which need not be all
	// there are.
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
