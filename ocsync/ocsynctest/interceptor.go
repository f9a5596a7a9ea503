package ocsynctest

import (
	"context"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// RegistryFuncs intercepts the calls of a wrapped Registry, in the manner of
// controller-runtime's interceptor.Funcs. Each function that is set replaces
// the call and receives the wrapped Registry as next: it can fail before
// calling next, call it and fail afterwards (a change that was committed but
// whose answer was lost), change the arguments or the result. Functions left
// nil pass the call through.
type RegistryFuncs struct {
	// Applications intercepts Registry.Applications.
	Applications func(ctx context.Context, next ocsync.Registry) ([]ocsync.Registered, error)
	// Create intercepts Registry.Create.
	Create func(ctx context.Context, next ocsync.Registry, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error
	// Update intercepts Registry.Update.
	Update func(ctx context.Context, next ocsync.Registry, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error
	// Delete intercepts Registry.Delete.
	Delete func(ctx context.Context, next ocsync.Registry, cur ocsync.Registered) error
}

// SourceFuncs intercepts the calls of a wrapped Source (see RegistryFuncs).
type SourceFuncs struct {
	// Applications intercepts Source.Applications.
	Applications func(ctx context.Context, next ocsync.Source) ([]ocsync.Application, error)
	// Spec intercepts Source.Spec.
	Spec func(ctx context.Context, next ocsync.Source, app ocsync.Application) (ocsync.Spec, error)
}

// InterceptRegistry returns a Registry that sends every call through funcs
// to next. It keeps next's scope and names (ocsync.Scoped, ocsync.Names)
// when next has them.
func InterceptRegistry(next ocsync.Registry, funcs RegistryFuncs) *InterceptedRegistry {
	return &InterceptedRegistry{next: next, funcs: funcs}
}

// InterceptSource returns a Source that sends every call through funcs to
// next. It keeps next's scope when next has one.
func InterceptSource(next ocsync.Source, funcs SourceFuncs) *InterceptedSource {
	return &InterceptedSource{next: next, funcs: funcs}
}

// InterceptedRegistry is a Registry wrapped by InterceptRegistry.
type InterceptedRegistry struct {
	next  ocsync.Registry
	funcs RegistryFuncs
}

var (
	_ ocsync.Registry = (*InterceptedRegistry)(nil)
	_ ocsync.Scoped   = (*InterceptedRegistry)(nil)
	_ ocsync.Names    = (*InterceptedRegistry)(nil)
	_ ocsync.Source   = (*InterceptedSource)(nil)
	_ ocsync.Scoped   = (*InterceptedSource)(nil)
)

// Applications implements ocsync.Registry.
func (r *InterceptedRegistry) Applications(ctx context.Context) ([]ocsync.Registered, error) {
	if r.funcs.Applications != nil {
		return r.funcs.Applications(ctx, r.next)
	}
	return r.next.Applications(ctx)
}

// Create implements ocsync.Registry.
func (r *InterceptedRegistry) Create(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
	if r.funcs.Create != nil {
		return r.funcs.Create(ctx, r.next, app, spec, state)
	}
	return r.next.Create(ctx, app, spec, state)
}

// Update implements ocsync.Registry.
func (r *InterceptedRegistry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	if r.funcs.Update != nil {
		return r.funcs.Update(ctx, r.next, cur, app, u)
	}
	return r.next.Update(ctx, cur, app, u)
}

// Delete implements ocsync.Registry.
func (r *InterceptedRegistry) Delete(ctx context.Context, cur ocsync.Registered) error {
	if r.funcs.Delete != nil {
		return r.funcs.Delete(ctx, r.next, cur)
	}
	return r.next.Delete(ctx, cur)
}

// Scope returns the wrapped Registry's scope; the zero Scope (unknown) when
// it has none.
func (r *InterceptedRegistry) Scope() ocsync.Scope { return scopeOf(r.next) }

// NameKey applies the wrapped Registry's name rule; names are compared as
// they are when it has none.
func (r *InterceptedRegistry) NameKey(name string) string {
	if k, ok := r.next.(ocsync.Names); ok {
		return k.NameKey(name)
	}
	return name
}

// Taken asks the wrapped Registry; nothing is taken when it cannot look
// names up.
func (r *InterceptedRegistry) Taken(ctx context.Context, names []string) ([]ocsync.Registered, error) {
	if c, ok := r.next.(ocsync.Names); ok {
		return c.Taken(ctx, names)
	}
	return nil, nil
}

// InterceptedSource is a Source wrapped by InterceptSource.
type InterceptedSource struct {
	next  ocsync.Source
	funcs SourceFuncs
}

// Applications implements ocsync.Source.
func (s *InterceptedSource) Applications(ctx context.Context) ([]ocsync.Application, error) {
	if s.funcs.Applications != nil {
		return s.funcs.Applications(ctx, s.next)
	}
	return s.next.Applications(ctx)
}

// Spec implements ocsync.Source.
func (s *InterceptedSource) Spec(ctx context.Context, app ocsync.Application) (ocsync.Spec, error) {
	if s.funcs.Spec != nil {
		return s.funcs.Spec(ctx, s.next, app)
	}
	return s.next.Spec(ctx, app)
}

// Scope returns the wrapped Source's scope; the zero Scope (unknown) when it
// has none.
func (s *InterceptedSource) Scope() ocsync.Scope { return scopeOf(s.next) }

// scopeOf is the scope of a wrapped side; the zero Scope when it has none.
func scopeOf(side any) ocsync.Scope {
	if s, ok := side.(ocsync.Scoped); ok {
		return s.Scope()
	}
	return ocsync.Scope{}
}
