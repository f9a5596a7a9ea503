package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

// brokenSource is the real Source with Applications replaced. Embedding
// keeps its Scope, so the engine is built exactly as for the real one.
type brokenSource struct {
	*openconnectors.Source
	apps func(ctx context.Context) ([]ocsync.Application, error)
}

func (s brokenSource) Applications(ctx context.Context) ([]ocsync.Application, error) {
	return s.apps(ctx)
}

// brokenRegistry is the real Registry with some methods replaced; the
// others (Taken, NameKey, Scope included) are the real ones.
type brokenRegistry struct {
	*compass.Registry
	list   func(ctx context.Context) ([]ocsync.Registered, error)
	create func(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error
	update func(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error
}

func (r brokenRegistry) Applications(ctx context.Context) ([]ocsync.Registered, error) {
	if r.list != nil {
		return r.list(ctx)
	}
	return r.Registry.Applications(ctx)
}

func (r brokenRegistry) Create(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
	if r.create != nil {
		return r.create(ctx, app, spec, state)
	}
	return r.Registry.Create(ctx, app, spec, state)
}

func (r brokenRegistry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	if r.update != nil {
		return r.update(ctx, cur, app, u)
	}
	return r.Registry.Update(ctx, cur, app, u)
}

// recorder is a reporter that records violations instead of failing.
type recorder struct {
	t    *testing.T
	mu   sync.Mutex
	n    int
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if len(r.msgs) < 5 {
		r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
	}
}
func (r *recorder) Fatalf(format string, args ...any) { r.t.Fatalf(format, args...) }
func (r *recorder) Logf(string, ...any)               {}
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n > 0
}
func (r *recorder) Context() context.Context { return r.t.Context() }

// TestChaosDetects breaks the job in the ways the chaos test exists to
// catch and checks that it reports each as the right violation: a test
// that cannot fail proves nothing.
func TestChaosDetects(t *testing.T) {
	tests := []struct {
		name string
		// want are the violations that may show the sabotage first (the
		// loop stops after the first run with one).
		want     []string
		from     int
		sabotage sabotage
	}{
		{
			name: "a listing that leaves instances out", want: []string{vLost}, from: 3,
			sabotage: func(_ *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return brokenSource{src, func(ctx context.Context) ([]ocsync.Application, error) {
					apps, err := src.Applications(ctx)
					var kept []ocsync.Application
					for i, a := range apps {
						if i%5 != 0 {
							kept = append(kept, a)
						}
					}
					return kept, err
				}}, reg
			},
		},
		{
			name: "a failed listing taken for an empty one", want: []string{vInconsistent},
			sabotage: func(_ *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return brokenSource{src, func(ctx context.Context) ([]ocsync.Application, error) {
					apps, err := src.Applications(ctx)
					if err != nil {
						return nil, nil
					}
					return apps, nil
				}}, reg
			},
		},
		{
			name: "an update that writes nothing", want: []string{vWrong, vConverge},
			sabotage: func(_ *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return src, brokenRegistry{Registry: reg, update: func(context.Context, ocsync.Registered, ocsync.Application, ocsync.Update) error {
					return nil
				}}
			},
		},
		{
			name: "an update that writes the state label first", want: []string{vWrong, vConverge},
			sabotage: func(_ *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return src, brokenRegistry{Registry: reg, update: func(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
					if cur.State == nil {
						return reg.Update(ctx, cur, app, u)
					}
					if err := reg.Update(ctx, cur, app, ocsync.Update{State: u.State}); err != nil {
						return err
					}
					return errors.New("interrupted after the state label")
				}}
			},
		},
		{
			name: "a create that also deletes a foreign application", want: []string{vForeign},
			sabotage: func(w *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return src, brokenRegistry{Registry: reg, create: func(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
					for id, f := range w.dir.foreign {
						_ = reg.Delete(ctx, ocsync.Registered{ID: id, Name: f.Name, Owned: true})
						break
					}
					return reg.Create(ctx, app, spec, state)
				}}
			},
		},
		{
			name: "a create that registers a second copy", want: []string{vDuplicated},
			sabotage: func(_ *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return src, brokenRegistry{Registry: reg, create: func(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
					twin := app
					twin.Name += "-twin"
					_ = reg.Create(ctx, twin, spec, state)
					return reg.Create(ctx, app, spec, state)
				}}
			},
		},
		{
			name: "an error that quotes the credential", want: []string{vSecret},
			sabotage: func(_ *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return src, brokenRegistry{Registry: reg, create: func(_ context.Context, app ocsync.Application, _ ocsync.Spec, _ ocsync.State) error {
					return fmt.Errorf("refused %s", app.Credential.Reveal())
				}}
			},
		},
		{
			name: "unusable instances synchronised anyway", want: []string{vUnusable},
			sabotage: func(_ *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return brokenSource{src, func(ctx context.Context) ([]ocsync.Application, error) {
					apps, err := src.Applications(ctx)
					for i := range apps {
						if apps[i].Unusable != "" {
							apps[i] = src.Application(openconnectors.Instance{ID: mustID(apps[i].Key), Name: "x", Valid: true, Token: "sabotage-token",
								Element: openconnectors.Element{Key: "sfdc", Name: "Salesforce"}})
						}
					}
					return apps, err
				}}, reg
			},
		},
		{
			name: "stored specs always taken as stale", want: []string{vConverge},
			sabotage: func(_ *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry) {
				return src, brokenRegistry{Registry: reg, list: func(ctx context.Context) ([]ocsync.Registered, error) {
					regs, err := reg.Applications(ctx)
					for i := range regs {
						if st := regs[i].State; st != nil {
							stale := *st
							stale.SpecFetchedAt = time.Time{}
							regs[i].State = &stale
						}
					}
					return regs, err
				}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{t: t}
			w := newWorld(rec, 7)
			defer w.close()
			w.sabotage, w.sabotageFrom = tt.sabotage, tt.from
			w.loop(30)
			got := w.stats.violations
			if !slices.ContainsFunc(tt.want, func(k string) bool { return got[k] > 0 }) {
				t.Errorf("no violation of %q; found %v: %q", tt.want, got, rec.msgs)
			}
		})
	}
}

func mustID(key string) int64 {
	var id int64
	_, _ = fmt.Sscanf(key, "%d", &id)
	return id
}
