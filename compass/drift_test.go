package compass

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// TestDriftFromTheSlimListing: the listing reads no bundles or API
// definitions, yet every change is still found (from the state label and
// the identity label), written, and converges.
func TestDriftFromTheSlimListing(t *testing.T) {
	now := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		change func(*ocsync.Application, *ocsync.Spec)
		seed   func(*testing.T, *compasstest.Server) // instead of a create by the engine
		field  string
		later  bool // the change is found when the spec is due for its refresh
		tamper func(t *testing.T, srv *compasstest.Server, id string)
	}{
		{name: "description", change: func(a *ocsync.Application, _ *ocsync.Spec) { a.Description = "new description" }, field: ocsync.FieldDescription},
		{name: "provider", change: func(a *ocsync.Application, _ *ocsync.Spec) { a.ProviderName = "Other provider" }, field: ocsync.FieldProviderName},
		{name: "status", change: func(a *ocsync.Application, _ *ocsync.Spec) { a.Status = ocsync.StatusFailed }, field: ocsync.FieldStatus},
		{name: "bundle name", change: func(a *ocsync.Application, _ *ocsync.Spec) { a.Bundle = "salesforce" }, field: ocsync.FieldBundle},
		{name: "API name", change: func(a *ocsync.Application, _ *ocsync.Spec) { a.API = "Salesforce: renamed" }, field: ocsync.FieldAPI},
		{name: "target URL", change: func(a *ocsync.Application, _ *ocsync.Spec) { a.TargetURL = "https://other.example.com/elements/api-v2" }, field: ocsync.FieldTargetURL},
		{name: "credential", change: func(a *ocsync.Application, _ *ocsync.Spec) { a.Credential = "User u, Organization o, Element rotated" }, field: ocsync.FieldCredential},
		{name: "spec hash", change: func(_ *ocsync.Application, s *ocsync.Spec) { s.Data = []byte(`{"openapi":"3.0.9"}`) },
			field: ocsync.FieldSpec, later: true},
		{name: "missing state label", field: ocsync.FieldDescription,
			seed: func(t *testing.T, srv *compasstest.Server) {
				seedApp(t, srv, "oc-1", map[string]any{IdentityLabel: map[string]any{"connectorInstanceContext": testContext, "connectorInstanceID": "1"}},
					[]map[string]any{{"name": "old", "apiDefinitions": []map[string]any{{"name": "old", "targetURL": "https://old.example.com"}}}})
			}},
		{name: "description edited by hand", field: ocsync.FieldDescription, tamper: func(t *testing.T, srv *compasstest.Server, id string) {
			rawGraphQL(t, srv, `mutation($id: ID!) { updateApplication(id: $id, in: {description: "edited by hand", providerName: "SAP Open Connectors", statusCondition: CONNECTED}) { id } }`,
				map[string]any{"id": id})
		}},
		{name: "status reset by hand", field: ocsync.FieldStatus, tamper: func(t *testing.T, srv *compasstest.Server, id string) {
			// An update without statusCondition resets it to INITIAL.
			rawGraphQL(t, srv, `mutation($id: ID!) { updateApplication(id: $id, in: {providerName: "SAP Open Connectors"}) { id } }`,
				map[string]any{"id": id})
		}},
		{name: "old identity label form", field: ocsync.FieldStructure, tamper: func(t *testing.T, srv *compasstest.Server, id string) {
			// As the original job wrote it: the instance id a number.
			rawGraphQL(t, srv, `mutation($id: ID!, $v: Any!) { setApplicationLabel(applicationID: $id, key: "open_connectors", value: $v) { key } }`,
				map[string]any{"id": id, "v": map[string]any{"connectorInstanceContext": testContext, "connectorInstanceID": 1}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			reg := newRegistry(t, testConfig(srv))
			app := desired("1")
			spec := testSpec(`{"openapi":"3.0.0"}`)
			src := newSource(app)
			engine, err := ocsync.NewEngine(src, reg)
			require.NoError(t, err)
			engine.Now = func() time.Time { return now }
			run := func() (*ocsync.Plan, ocsync.Summary) {
				t.Helper()
				plan, err := engine.Plan(t.Context())
				require.NoError(t, err)
				rep, err := engine.Apply(t.Context(), plan)
				require.NoError(t, err)
				return plan, rep.Summary
			}
			if tt.seed != nil {
				tt.seed(t, srv)
			} else {
				src.Put(app, spec)
				_, s := run()
				require.Equal(t, 1, s.Created)
			}
			if tt.tamper != nil {
				stored, _ := srv.Application(compasstest.DefaultTenant, app.Name)
				tt.tamper(t, srv, stored.ID)
			}
			if tt.change != nil {
				tt.change(&app, &spec)
			}
			src.Put(app, spec)
			if tt.later {
				engine.Now = func() time.Time { return now.Add(ocsync.DefaultSpecRefreshInterval + time.Hour) }
			}

			srv.ResetCounts()
			plan, s := run()
			require.Len(t, plan.Changes, 1)
			assert.Equal(t, ocsync.KindUpdate, plan.Changes[0].Kind)
			assert.Contains(t, plan.Changes[0].Fields, tt.field)
			assert.Equal(t, 1, s.Updated)
			assert.Equal(t, 1, srv.Count("application"), "the ids are read for the update only")

			assertStored(t, srv, app)
			assert.Equal(t, string(spec.Data), storedSpec(t, srv, plan.Changes[0].ID))
			stored, _ := srv.Application(compasstest.DefaultTenant, app.Name)
			assert.Equal(t, map[string]any{"connectorInstanceContext": testContext, "connectorInstanceID": "1"}, stored.Labels[IdentityLabel])

			srv.ResetCounts()
			_, s = run()
			assert.Equal(t, ocsync.Summary{Unchanged: 1}, s, "converged")
			assert.Zero(t, srv.Count("application"), "a no-op run reads no application")
		})
	}
}

// TestBundleDeletedByHandIsRepairedInOneRun: the slim listing cannot see a
// missing bundle; the update that finds it loads the spec through
// ocsync.Update.LoadSpec and adds the bundle at once.
func TestBundleDeletedByHandIsRepairedInOneRun(t *testing.T) {
	now := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	app := desired("1")
	spec := testSpec(`{"openapi":"3.0.0"}`)
	src := newSource(app)
	src.Put(app, spec)
	engine, err := ocsync.NewEngine(src, reg)
	require.NoError(t, err)
	engine.Now = func() time.Time { return now }
	plan, err := engine.Plan(t.Context())
	require.NoError(t, err)
	_, err = engine.Apply(t.Context(), plan)
	require.NoError(t, err)

	stored, _ := srv.Application(compasstest.DefaultTenant, app.Name)
	require.Len(t, stored.Bundles, 1)
	rawGraphQL(t, srv, `mutation($id: ID!) { deleteBundle(id: $id) { id } }`, map[string]any{"id": stored.Bundles[0].ID})
	app.Description = "renamed" // an update that does not need the spec
	src.Put(app, spec)

	plan, err = engine.Plan(t.Context())
	require.NoError(t, err)
	require.Equal(t, []string{ocsync.FieldDescription}, plan.Changes[0].Fields, "the listing cannot see the missing bundle")
	srv.ResetCounts()
	rep, err := engine.Apply(t.Context(), plan)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Summary.Updated)
	counts := srv.Counts()
	delete(counts, compasstest.TokenOperation)
	assert.Equal(t, map[string]int{"application": 1, "updateApplication": 1, "addBundle": 1, "setApplicationLabel": 3}, counts,
		"nothing is written or read twice: pending state, description, the spec-less state, the bundle and the final state")
	assertStored(t, srv, app)
	assert.Equal(t, string(spec.Data), storedSpec(t, srv, plan.Changes[0].ID))

	plan, err = engine.Plan(t.Context())
	require.NoError(t, err)
	assert.Equal(t, ocsync.KindUnchanged, plan.Changes[0].Kind, "converged")
}
