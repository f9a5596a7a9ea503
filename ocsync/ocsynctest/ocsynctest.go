// Package ocsynctest provides an in-memory ocsync.Source and ocsync.Registry
// for tests and for programs that embed the engine: seeded data, an error hook
// per operation and counters of calls. Both are safe for concurrent use.
package ocsynctest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Op names an operation of a Source or a Registry, for hooks and counters.
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

type counters struct {
	mu    sync.Mutex
	calls map[Op]int
}

func (c *counters) count(op Op) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[Op]int{}
	}
	c.calls[op]++
}

// Calls returns how often op was called, failed calls included.
func (c *counters) Calls(op Op) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// Source is an in-memory ocsync.Source. The zero value is an empty source.
type Source struct {
	counters
	// Hook, when set, can fail or delay any operation.
	Hook Hook

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

func (s *Source) hook(ctx context.Context, op Op, name string) error {
	s.count(op)
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.Hook != nil {
		return s.Hook(ctx, op, name)
	}
	return nil
}

// Applications implements ocsync.Source; the result is sorted by name.
func (s *Source) Applications(ctx context.Context) ([]ocsync.Application, error) {
	if err := s.hook(ctx, OpList, ""); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ocsync.Application, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b ocsync.Application) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Spec implements ocsync.Source.
func (s *Source) Spec(ctx context.Context, app ocsync.Application) (ocsync.Spec, error) {
	if err := s.hook(ctx, OpSpec, app.Name); err != nil {
		return ocsync.Spec{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	spec, ok := s.specs[app.Name]
	if !ok {
		return ocsync.Spec{}, fmt.Errorf("spec of %s: %w", app.Name, ocsync.ErrNotFound)
	}
	return spec, nil
}

// Entry is one application stored in a Registry.
type Entry struct {
	// Registered is what Applications lists.
	ocsync.Registered
	// Credential is the stored credential.
	Credential ocsync.Secret
	// Spec is the stored spec document.
	Spec ocsync.Spec
}

// Registry is an in-memory ocsync.Registry. The zero value is empty.
type Registry struct {
	counters
	// Hook, when set, can fail or delay any operation.
	Hook Hook

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

// Mutations returns how many create, update and delete calls were made.
func (r *Registry) Mutations() int {
	return r.Calls(OpCreate) + r.Calls(OpUpdate) + r.Calls(OpDelete)
}

func (r *Registry) hook(ctx context.Context, op Op, name string) error {
	r.count(op)
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.Hook != nil {
		return r.Hook(ctx, op, name)
	}
	return nil
}

// Applications implements ocsync.Registry; the result is sorted by name.
func (r *Registry) Applications(ctx context.Context) ([]ocsync.Registered, error) {
	if err := r.hook(ctx, OpList, ""); err != nil {
		return nil, err
	}
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
	return out, nil
}

// Create implements ocsync.Registry. A name taken by any stored application
// is an error wrapping ocsync.ErrConflict.
func (r *Registry) Create(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
	if err := r.hook(ctx, OpCreate, app.Name); err != nil {
		return err
	}
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

// Update implements ocsync.Registry as a target of several steps would: it
// records u.Pending first (when set), then writes only the fields u.Fields
// names (every field when the application had no state) and the spec when
// u.Spec is set, and records u.State last. It refuses applications not
// owned.
func (r *Registry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	if err := r.hook(ctx, OpUpdate, cur.Name); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[cur.Name]
	switch {
	case !ok:
		return fmt.Errorf("update %s: %w", cur.Name, ocsync.ErrNotFound)
	case !e.Owned:
		return fmt.Errorf("update %s: not owned: %w", cur.Name, ocsync.ErrConflict)
	}
	if u.Pending != nil {
		p := *u.Pending
		e.State = &p
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
	if e.Incomplete {
		if u.Spec == nil {
			return fmt.Errorf("update %s: the application lacks parts and no spec was given to add them: %w", cur.Name, ocsync.ErrInvalidInput)
		}
		e.Incomplete = false
	}
	if u.Spec != nil {
		e.Spec = *u.Spec
	}
	st := u.State
	e.State = &st
	return nil
}

// Delete implements ocsync.Registry. A missing application is not an error;
// an application not owned is refused.
func (r *Registry) Delete(ctx context.Context, cur ocsync.Registered) error {
	if err := r.hook(ctx, OpDelete, cur.Name); err != nil {
		return err
	}
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
