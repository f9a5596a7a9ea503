package compass

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// pendingOf is what the registry writes first: the stored state without
// the hashes of the fields the update changes, marked pending.
func pendingOf(st ocsync.State, fields ...string) *ocsync.State {
	p := st
	p.Fields = map[string]string{}
	for k, v := range st.Fields {
		p.Fields[k] = v
	}
	for _, f := range fields {
		delete(p.Fields, f)
	}
	p.Pending = true
	return &p
}

// labelWrites returns the values written by setApplicationLabel for key,
// in order.
func labelWrites(rec *recorder, key string) []map[string]any {
	var out []map[string]any
	for _, b := range rec.find("SetApplicationLabel") {
		vars := b["variables"].(map[string]any)
		if vars["key"] == key {
			v, _ := vars["value"].(map[string]any)
			out = append(out, v)
		}
	}
	return out
}

// operations returns the operation names of the recorded requests, in order.
func (r *recorder) operations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.bodies {
		out = append(out, b["operationName"].(string))
	}
	return out
}

func TestUpdateWritesPendingFirstAndStateLast(t *testing.T) {
	srv := newServer(t)
	rec := &recorder{next: http.DefaultTransport}
	cfg := testConfig(srv)
	cfg.HTTPClient = &http.Client{Transport: rec}
	reg := newRegistry(t, cfg)
	app := desired("1")
	spec := testSpec(`{"openapi":"3.0.0"}`)
	stored := stateOf(app, spec)
	require.NoError(t, reg.Create(t.Context(), app, spec, stored))
	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)

	app.Description = "d2"
	app.Credential = "User u2, Organization o2, Element e2"
	pending := pendingOf(stored, ocsync.FieldDescription, ocsync.FieldCredential)
	final := stateOf(app, spec)
	rec.bodies = nil
	require.NoError(t, reg.Update(t.Context(), regs[0], app, ocsync.Update{
		Fields: []string{ocsync.FieldCredential, ocsync.FieldDescription}, State: final}))
	assert.Equal(t, pending, ocsync.Update{Fields: []string{ocsync.FieldCredential, ocsync.FieldDescription}}.PendingState(&stored),
		"the pending state is the stored one without what the update writes")

	assert.Equal(t, []string{"GetApplication", "SetApplicationLabel", "UpdateApplication", "UpdateBundle", "SetApplicationLabel"}, rec.operations())
	writes := labelWrites(rec, StateLabel)
	require.Len(t, writes, 2)
	assert.Equal(t, true, writes[0]["pending"], "the pending state first")
	assert.NotContains(t, writes[0]["fields"], ocsync.FieldDescription)
	assert.NotContains(t, writes[0]["fields"], ocsync.FieldCredential)
	assert.NotContains(t, writes[1], "pending", "the final state last")

	regs, err = reg.Applications(t.Context())
	require.NoError(t, err)
	assert.Equal(t, final, *regs[0].State)
}

// TestUpdateInterruptedConverges: an update that fails after the pending
// state was written leaves a state that claims none of the fields it was
// writing, so the next plan writes them again.
func TestUpdateInterruptedConverges(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	app := desired("1")
	spec := testSpec(`{"openapi":"3.0.0"}`)
	stored := stateOf(app, spec)
	require.NoError(t, reg.Create(t.Context(), app, spec, stored))
	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)

	app.Description = "d2"
	app.Credential = "User u2, Organization o2, Element e2"
	fields := []string{ocsync.FieldCredential, ocsync.FieldDescription}
	srv.AddFault("updateBundle", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
	err = reg.Update(t.Context(), regs[0], app, ocsync.Update{Fields: fields, State: stateOf(app, spec)})
	require.ErrorIs(t, err, remote.ErrInvalidInput)

	regs, err = reg.Applications(t.Context())
	require.NoError(t, err)
	require.NotNil(t, regs[0].State)
	assert.True(t, regs[0].State.Pending, "the pending state is read back as the state it holds")
	plan := ocsync.Calculate([]ocsync.Application{app}, regs, ocsync.PlanOptions{Now: stored.SpecFetchedAt})
	require.Len(t, plan.Changes, 1)
	assert.Equal(t, ocsync.KindUpdate, plan.Changes[0].Kind)
	assert.Equal(t, fields, plan.Changes[0].Fields, "the interrupted fields are redone, no more")

	require.NoError(t, reg.Update(t.Context(), regs[0], app, ocsync.Update{Fields: plan.Changes[0].Fields, State: stateOf(app, spec)}))
	regs, err = reg.Applications(t.Context())
	require.NoError(t, err)
	plan = ocsync.Calculate([]ocsync.Application{app}, regs, ocsync.PlanOptions{Now: stored.SpecFetchedAt})
	assert.Equal(t, 0, plan.Mutations())
	assertStored(t, srv, app)
}

func TestUpdateWithoutSpecKeepsStoredSpec(t *testing.T) {
	srv := newServer(t)
	rec := &recorder{next: http.DefaultTransport}
	cfg := testConfig(srv)
	cfg.HTTPClient = &http.Client{Transport: rec}
	reg := newRegistry(t, cfg)
	app := desired("1")
	spec := testSpec(`{"openapi":"3.0.0","x":"kept"}`)
	require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)

	app.API = "Renamed API"
	require.NoError(t, reg.Update(t.Context(), regs[0], app, ocsync.Update{Fields: []string{ocsync.FieldAPI}, State: stateOf(app, spec)}))
	upd := rec.find("UpdateAPIDefinition")
	require.Len(t, upd, 1)
	in := upd[0]["variables"].(map[string]any)["in"].(map[string]any)
	assert.NotContains(t, in, "spec", "no spec means: keep the stored one")
	assert.Equal(t, string(spec.Data), storedSpec(t, srv, regs[0].ID))
	assertStored(t, srv, app)
}

// TestUpdateMissingPartsWithoutSpec: an application found without its
// bundle or API when no spec was given gets its other fields written, an
// error, and a state that makes the next run send the spec and repair it.
func TestUpdateMissingPartsWithoutSpec(t *testing.T) {
	identity := map[string]any{"connectorInstanceContext": testContext, "connectorInstanceID": "5"}
	spec := testSpec(`{"openapi":"3.0.0"}`)
	fetched := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		bundles   []map[string]any
		wantCalls map[string]int
		repairOp  string
	}{
		{"no bundle", nil, map[string]int{"application": 1, "updateApplication": 1, "setApplicationLabel": 2}, "addBundle"},
		{"bundle without API", []map[string]any{{"name": "old"}},
			map[string]int{"application": 1, "updateApplication": 1, "updateBundle": 1, "setApplicationLabel": 2}, "addAPIDefinitionToBundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			reg := newRegistry(t, testConfig(srv))
			app := desired("5")
			old := app
			old.Description, old.Credential = "old", "User a, Organization b, Element old"
			stored := ocsync.State{Fields: old.Fingerprint(), SpecSHA256: ocsync.SpecSHA256(spec.Data), SpecFetchedAt: fetched}
			seedApp(t, srv, "oc-5", map[string]any{IdentityLabel: identity, StateLabel: stored}, tt.bundles)
			regs, err := reg.Applications(t.Context())
			require.NoError(t, err)
			require.Len(t, regs, 1)

			plan := ocsync.Calculate([]ocsync.Application{app}, regs, ocsync.PlanOptions{Now: fetched})
			require.Len(t, plan.Changes, 1)
			fields := plan.Changes[0].Fields
			// The seeded application holds no provider name and no status:
			// read back, they are written again too.
			require.Equal(t, []string{ocsync.FieldCredential, ocsync.FieldDescription, ocsync.FieldProviderName, ocsync.FieldStatus}, fields,
				"the listing cannot see the missing parts")
			srv.ResetCounts()
			unavailable := errors.New("document unavailable")
			err = reg.Update(t.Context(), regs[0], app, ocsync.Update{Fields: fields, State: stateOf(app, spec),
				LoadSpec: func(context.Context) (ocsync.Spec, ocsync.State, error) {
					return ocsync.Spec{}, ocsync.State{}, unavailable
				}})
			require.ErrorIs(t, err, ErrIncomplete)
			require.ErrorIs(t, err, unavailable)
			calls := srv.Counts()
			delete(calls, compasstest.TokenOperation)
			assert.Equal(t, tt.wantCalls, calls, "the application fields and the pending and spec-less states are written; nothing is added without a spec")
			got, _ := srv.Application(compasstest.DefaultTenant, "oc-5")
			assert.Equal(t, app.Description, got.Description)

			// The next plan refreshes the spec, so the next update carries it.
			regs, err = reg.Applications(t.Context())
			require.NoError(t, err)
			require.NotNil(t, regs[0].State)
			assert.Empty(t, regs[0].State.SpecSHA256)
			plan = ocsync.Calculate([]ocsync.Application{app}, regs, ocsync.PlanOptions{Now: fetched})
			require.Len(t, plan.Changes, 1)
			assert.Contains(t, plan.Changes[0].Fields, ocsync.FieldSpec)
			srv.ResetCounts()
			require.NoError(t, reg.Update(t.Context(), regs[0], app, ocsync.Update{Fields: plan.Changes[0].Fields, Spec: &spec, State: stateOf(app, spec)}))
			assert.Equal(t, 1, srv.Count(tt.repairOp))
			assertStored(t, srv, app)
			regs, err = reg.Applications(t.Context())
			require.NoError(t, err)
			plan = ocsync.Calculate([]ocsync.Application{app}, regs, ocsync.PlanOptions{Now: fetched})
			assert.Equal(t, 0, plan.Mutations(), "converged")
		})
	}
}
