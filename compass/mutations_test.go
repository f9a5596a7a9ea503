package compass

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// newSource is an in-memory source of apps, each with a small spec.
func newSource(apps ...ocsync.Application) *ocsynctest.Source {
	src := ocsynctest.NewSource()
	for _, app := range apps {
		src.Put(app, ocsynctest.DefaultSpec(app.Name))
	}
	return src
}

// TestMutationsConfirm: a mutation counts as applied only when its answer
// holds the object written; {"data": null} without errors, a null field or
// a missing id is an error, not a success.
func TestMutationsConfirm(t *testing.T) {
	spec := testSpec(`{"openapi":"3.0.0"}`)
	newSpec := testSpec(`{"openapi":"3.0.1"}`)
	update := func(fields []string, s *ocsync.Spec, mutate func(*ocsync.Application)) func(*Registry, ocsync.Registered) error {
		return func(r *Registry, cur ocsync.Registered) error {
			app := desired("1")
			mutate(&app)
			return r.Update(t.Context(), cur, app, ocsync.Update{Fields: fields, Spec: s, State: stateOf(app, spec)})
		}
	}
	ops := []struct {
		op  string
		run func(*Registry, ocsync.Registered) error
	}{
		{"updateApplication", update([]string{ocsync.FieldDescription}, nil, func(a *ocsync.Application) { a.Description = "d2" })},
		{"updateBundle", update([]string{ocsync.FieldCredential}, nil, func(a *ocsync.Application) { a.Credential = "User x, Organization y, Element z" })},
		{"updateAPIDefinition", update([]string{ocsync.FieldSpec}, &newSpec, func(*ocsync.Application) {})},
		{"setApplicationLabel", update([]string{ocsync.FieldRevision}, nil, func(a *ocsync.Application) { a.Revision = "r2" })},
		{"unregisterApplication", func(r *Registry, cur ocsync.Registered) error { return r.Delete(t.Context(), cur) }},
	}
	kinds := []struct {
		name string
		kind compasstest.Malformation
	}{
		{"data null", compasstest.DataNull},
		{"field null", compasstest.FieldNull},
		{"missing id", compasstest.MissingID},
	}
	for _, o := range ops {
		for _, k := range kinds {
			if o.op == "setApplicationLabel" && k.kind == compasstest.MissingID {
				continue // a Label has no id; its key is checked (field null covers it)
			}
			t.Run(o.op+"/"+k.name, func(t *testing.T) {
				srv := newServer(t)
				reg := newRegistry(t, testConfig(srv))
				app := desired("1")
				require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
				regs, err := reg.Applications(t.Context())
				require.NoError(t, err)
				require.Len(t, regs, 1)

				srv.ResetCounts()
				srv.AddFault(o.op, compasstest.Fault{Malformed: k.kind, After: true, Times: 1})
				err = o.run(reg, regs[0])
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrMalformed)
				assert.Equal(t, 1, srv.Count(o.op), "not sent again")
				assert.False(t, remote.Retryable(err))
			})
		}
	}
}

// TestMutationConfirmThroughEngine: an update whose answer is malformed is
// an item failure of the run.
func TestMutationConfirmThroughEngine(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	src := newSource(desired("1"))
	engine := &ocsync.Engine{Source: src, Registry: reg}
	plan, err := engine.Plan(t.Context())
	require.NoError(t, err)
	srv.AddFault("registerApplication", compasstest.Fault{Malformed: compasstest.DataNull, Times: 10})
	rep, err := engine.Apply(t.Context(), plan)
	require.ErrorIs(t, err, ocsync.ErrItemFailed)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Equal(t, 1, rep.Summary.Failed)
	assert.Empty(t, srv.Applications(compasstest.DefaultTenant))
}

// TestRegisterMalformedAnswerIsUncertain: a register answered malformed may
// have taken effect; the application is looked up before it is sent again.
func TestRegisterMalformedAnswerIsUncertain(t *testing.T) {
	spec := testSpec(`{}`)
	tests := []struct {
		name        string
		fault       compasstest.Fault
		wantCalls   int
		wantLookups int
	}{
		{"committed, answer null", compasstest.Fault{Malformed: compasstest.DataNull, After: true, Times: 1}, 1, 1},
		{"committed, no id", compasstest.Fault{Malformed: compasstest.MissingID, After: true, Times: 1}, 1, 1},
		{"not committed, answer null", compasstest.Fault{Malformed: compasstest.DataNull, Times: 1}, 2, 1},
		{"not committed, field null", compasstest.Fault{Malformed: compasstest.FieldNull, Times: 1}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			reg := newRegistry(t, testConfig(srv))
			srv.AddFault("registerApplication", tt.fault)
			app := desired("1")
			require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
			assert.Equal(t, tt.wantCalls, srv.Count("registerApplication"))
			assert.Equal(t, tt.wantLookups, srv.Count("applications"))
			assert.Len(t, srv.Applications(compasstest.DefaultTenant), 1, "registered exactly once")
		})
	}
	t.Run("always malformed", func(t *testing.T) {
		srv := newServer(t)
		cfg := testConfig(srv)
		cfg.MaxRetries = 2
		reg := newRegistry(t, cfg)
		srv.AddFault("registerApplication", compasstest.Fault{Malformed: compasstest.DataNull, Times: 10})
		app := desired("1")
		err := reg.Create(t.Context(), app, spec, stateOf(app, spec))
		require.ErrorIs(t, err, ErrMalformed)
		assert.Equal(t, 3, srv.Count("registerApplication"), "bounded by MaxRetries")
		assert.Equal(t, 3, srv.Count("applications"), "a look-up before each resend and before giving up")
	})
}
