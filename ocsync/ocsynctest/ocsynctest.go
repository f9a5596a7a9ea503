package ocsynctest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/kyma-incubator/open-connectors-job/internal/faults"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Op names an operation of a Source or a Registry, for hooks, faults and
// counters.
type Op string

// The operations.
const (
	OpList   Op = "list"
	OpSpec   Op = "spec"
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Hook is called before every operation with the operation and the
// application name ("" for a listing). A non-nil error is returned by the
// operation instead of doing it.
type Hook func(ctx context.Context, op Op, name string) error

// ErrInjected is the error of a Fault without Err.
var ErrInjected = errors.New("ocsynctest: injected fault")

// Fault makes calls of one operation fail.
type Fault struct {
	// Err is the error the call returns; nil means ErrInjected.
	Err error
	// Name restricts the fault to calls about the application of this
	// name; empty matches every call. A listing is about no application,
	// so a fault with a Name never matches OpList.
	Name string
	// Times is how many matching calls the fault affects: 0 means every
	// one until ClearFaults, n > 0 the next n.
	Times int
	// After runs the call first and fails only its answer: a change is
	// stored although the caller sees Err (a change committed whose answer
	// was lost). Whatever the call answered is replaced by Err.
	After bool
}

// knobs holds the faults and call counters of a Source or a Registry. The
// zero value has none.
type knobs struct {
	mu     sync.Mutex
	calls  map[Op]int
	faults faults.Queue[Op, Fault]
}

func (k *knobs) addFault(op Op, f Fault) {
	if f.Err == nil {
		f.Err = ErrInjected
	}
	k.faults.Add(op, f, f.Times)
}

func (k *knobs) clearFaults() { k.faults.Clear() }

// takeFault returns the first fault of op that matches name, consuming one
// use.
func (k *knobs) takeFault(op Op, name string) (Fault, bool) {
	return k.faults.Take(op, func(f Fault) bool { return f.Name == "" || f.Name == name })
}

func (k *knobs) count(op Op) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.calls[op]
}

func (k *knobs) counts() map[Op]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[Op]int, len(k.calls))
	maps.Copy(out, k.calls)
	return out
}

func (k *knobs) resetCounts() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.calls)
}

// call runs do as one call of op about the application name: it counts the
// call, gives up when ctx is done, asks hook, then applies the first fault
// that matches, before or after do.
func (k *knobs) call(ctx context.Context, hook Hook, op Op, name string, do func() error) error {
	k.mu.Lock()
	if k.calls == nil {
		k.calls = map[Op]int{}
	}
	k.calls[op]++
	k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if hook != nil {
		if err := hook(ctx, op, name); err != nil {
			return err
		}
	}
	f, faulty := k.takeFault(op, name)
	if faulty && !f.After {
		return f.Err
	}
	err := do()
	if faulty {
		return f.Err
	}
	return err
}

// Source is an in-memory ocsync.Source. The zero value is an empty source.
type Source struct {
	// Hook, when set, can fail or delay any operation. It is read without
	// a lock: do not change it while calls run.
	Hook Hook

	knobs knobs

	mu    sync.Mutex
	apps  map[string]ocsync.Application
	specs map[string]ocsync.Spec
}

var _ ocsync.Source = (*Source)(nil)

// NewSource returns a source holding apps, each with a small JSON spec.
func NewSource(apps ...ocsync.Application) *Source {
	s := &Source{}
	for _, a := range apps {
		s.Put(a, DefaultSpec(a.Name))
	}
	return s
}

// DefaultSpec returns a small OpenAPI document naming name.
func DefaultSpec(name string) ocsync.Spec {
	return ocsync.Spec{Type: "OPEN_API", Format: "JSON",
		Data: fmt.Appendf(nil, `{"swagger":"2.0","info":{"title":%q,"version":"1"},"paths":{}}`, name)}
}

// Put adds or replaces an application and its spec.
func (s *Source) Put(app ocsync.Application, spec ocsync.Spec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps == nil {
		s.apps, s.specs = map[string]ocsync.Application{}, map[string]ocsync.Spec{}
	}
	s.apps[app.Name] = app
	s.specs[app.Name] = spec
}

// Remove deletes an application from the source.
func (s *Source) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.apps, name)
	delete(s.specs, name)
}

// AddFault adds a fault for the calls of op (OpList or OpSpec). Faults of
// one operation are matched in the order added: the first one left that
// matches applies to a call, so a fault for every call hides those added
// after it.
func (s *Source) AddFault(op Op, f Fault) { s.knobs.addFault(op, f) }

// ClearFaults removes every fault.
func (s *Source) ClearFaults() { s.knobs.clearFaults() }

// Count returns how often op was called, failed calls included.
func (s *Source) Count(op Op) int { return s.knobs.count(op) }

// Counts returns the count of every operation called so far.
func (s *Source) Counts() map[Op]int { return s.knobs.counts() }

// ResetCounts sets every call counter back to zero.
func (s *Source) ResetCounts() { s.knobs.resetCounts() }

// Applications implements ocsync.Source; the result is sorted by name.
func (s *Source) Applications(ctx context.Context) ([]ocsync.Application, error) {
	var out []ocsync.Application
	err := s.knobs.call(ctx, s.Hook, OpList, "", func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		out = make([]ocsync.Application, 0, len(s.apps))
		for _, a := range s.apps {
			out = append(out, a)
		}
		slices.SortFunc(out, func(a, b ocsync.Application) int { return strings.Compare(a.Name, b.Name) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Spec implements ocsync.Source.
func (s *Source) Spec(ctx context.Context, app ocsync.Application) (ocsync.Spec, error) {
	var spec ocsync.Spec
	err := s.knobs.call(ctx, s.Hook, OpSpec, app.Name, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		var ok bool
		if spec, ok = s.specs[app.Name]; !ok {
			return fmt.Errorf("spec of %s: %w", app.Name, remote.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return ocsync.Spec{}, err
	}
	return spec, nil
}

// Entry is one application stored in a Registry.
type Entry struct {
	// Registered is what Applications lists.
	ocsync.Registered
	// Credential is the stored credential.
	Credential redact.Secret
	// Spec is the stored spec document.
	Spec ocsync.Spec
}

// Registry is an in-memory ocsync.Registry. The zero value is empty.
type Registry struct {
	// Hook, when set, can fail or delay any operation. It is read without
	// a lock: do not change it while calls run.
	Hook Hook

	knobs knobs

	mu      sync.Mutex
	entries map[string]*Entry
	nextID  int
}

var _ ocsync.Registry = (*Registry)(nil)

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Seed stores an application as it is, owned or not, with a generated ID when
// it has none.
func (r *Registry) Seed(e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(&e)
}

func (r *Registry) put(e *Entry) {
	if r.entries == nil {
		r.entries = map[string]*Entry{}
	}
	if e.ID == "" {
		r.nextID++
		e.ID = fmt.Sprintf("app-%04d", r.nextID)
	}
	r.entries[e.Name] = e
}

// Get returns a copy of the stored application named name.
func (r *Registry) Get(name string) (Entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[name]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Names returns the names of all stored applications, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// AddFault adds a fault for the calls of op (OpList, OpCreate, OpUpdate or
// OpDelete). Faults of one operation are matched in the order added: the
// first one left that matches applies to a call, so a fault for every call
// hides those added after it.
func (r *Registry) AddFault(op Op, f Fault) { r.knobs.addFault(op, f) }

// ClearFaults removes every fault.
func (r *Registry) ClearFaults() { r.knobs.clearFaults() }

// Count returns how often op was called, failed calls included.
func (r *Registry) Count(op Op) int { return r.knobs.count(op) }

// Counts returns the count of every operation called so far.
func (r *Registry) Counts() map[Op]int { return r.knobs.counts() }

// ResetCounts sets every call counter back to zero.
func (r *Registry) ResetCounts() { r.knobs.resetCounts() }

// Mutations returns how many create, update and delete calls were made,
// failed calls included.
func (r *Registry) Mutations() int {
	return r.Count(OpCreate) + r.Count(OpUpdate) + r.Count(OpDelete)
}

// Applications implements ocsync.Registry; the result is sorted by name.
func (r *Registry) Applications(ctx context.Context) ([]ocsync.Registered, error) {
	var out []ocsync.Registered
	err := r.knobs.call(ctx, r.Hook, OpList, "", func() error { out = r.applications(); return nil })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Registry) applications() []ocsync.Registered {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ocsync.Registered, 0, len(r.entries))
	for _, e := range r.entries {
		reg := e.Registered
		if e.State != nil {
			st := *e.State
			reg.State = &st
		}
		out = append(out, reg)
	}
	slices.SortFunc(out, func(a, b ocsync.Registered) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Create implements ocsync.Registry. A name taken by any stored application
// is an error wrapping ocsync.ErrConflict.
func (r *Registry) Create(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
	return r.knobs.call(ctx, r.Hook, OpCreate, app.Name, func() error { return r.create(app, spec, state) })
}

func (r *Registry) create(app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.entries[app.Name]; ok {
		return fmt.Errorf("create %s: name not unique: %w", app.Name, ocsync.ErrConflict)
	}
	r.put(&Entry{
		Registered: ocsync.Registered{Name: app.Name, Key: app.Key, Owned: true, Attributes: app.Attributes, State: &state},
		Credential: app.Credential,
		Spec:       spec,
	})
	return nil
}

// Update implements ocsync.Registry: it writes only the fields u.Fields
// names (every field when the application had no state), the spec when
// u.Spec is set (or, for an application that lacks parts, the document
// u.LoadSpec loads), and u.State. One write under one lock cannot be
// interrupted, so it needs no pending state. It refuses applications not
// owned.
func (r *Registry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	return r.knobs.call(ctx, r.Hook, OpUpdate, cur.Name, func() error { return r.update(ctx, cur, app, u) })
}

func (r *Registry) update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[cur.Name]
	switch {
	case !ok:
		return fmt.Errorf("update %s: %w", cur.Name, remote.ErrNotFound)
	case !e.Owned:
		return fmt.Errorf("update %s: not owned: %w", cur.Name, ocsync.ErrConflict)
	}
	st := u.State
	if e.Incomplete && u.Spec == nil {
		if u.LoadSpec == nil {
			return fmt.Errorf("update %s: the application lacks parts and no document was given", cur.Name)
		}
		spec, loaded, err := u.LoadSpec(ctx)
		if err != nil {
			return fmt.Errorf("update %s: the application lacks parts and its document could not be loaded: %w", cur.Name, err)
		}
		u.Spec, st = &spec, loaded
	}
	all := cur.State == nil
	write := func(field string) bool { return all || slices.Contains(u.Fields, field) }
	a := &e.Attributes
	for _, f := range []struct {
		name string
		dst  *string
		src  string
	}{
		{ocsync.FieldDescription, &a.Description, app.Description},
		{ocsync.FieldProviderName, &a.ProviderName, app.ProviderName},
		{ocsync.FieldBundle, &a.Bundle, app.Bundle},
		{ocsync.FieldAPI, &a.API, app.API},
		{ocsync.FieldTargetURL, &a.TargetURL, app.TargetURL},
		{ocsync.FieldRevision, &a.Revision, app.Revision},
	} {
		if write(f.name) {
			*f.dst = f.src
		}
	}
	if write(ocsync.FieldStatus) {
		a.Status = app.Status
	}
	if write(ocsync.FieldCredential) {
		e.Credential = app.Credential
	}
	e.Key = app.Key
	e.Incomplete = false
	if u.Spec != nil {
		e.Spec = *u.Spec
	}
	e.State = &st
	return nil
}

// Delete implements ocsync.Registry. A missing application is not an error;
// an application not owned is refused.
func (r *Registry) Delete(ctx context.Context, cur ocsync.Registered) error {
	return r.knobs.call(ctx, r.Hook, OpDelete, cur.Name, func() error { return r.delete(cur) })
}

func (r *Registry) delete(cur ocsync.Registered) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[cur.Name]
	if !ok {
		return nil
	}
	if !e.Owned {
		return fmt.Errorf("delete %s: not owned: %w", cur.Name, ocsync.ErrConflict)
	}
	delete(r.entries, cur.Name)
	return nil
}
