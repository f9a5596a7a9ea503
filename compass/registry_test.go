package compass

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testContext = "tenant.openconnectors.example.com"

// recorder keeps the bodies of GraphQL requests, by operation name.
type recorder struct {
	mu     sync.Mutex
	bodies []map[string]any
	next   http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && strings.HasSuffix(req.URL.Path, compasstest.GraphQLPath) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			r.mu.Lock()
			r.bodies = append(r.bodies, m)
			r.mu.Unlock()
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return r.next.RoundTrip(req)
}

func (r *recorder) find(op string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, b := range r.bodies {
		if b["operationName"] == op {
			out = append(out, b)
		}
	}
	return out
}

func newServer(t *testing.T, opts ...compasstest.Option) *compasstest.Server {
	t.Helper()
	srv := compasstest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func testConfig(srv *compasstest.Server) Config {
	return Config{
		DirectorURL:  srv.GraphQLURL(),
		TokenURL:     srv.TokenURL(),
		ClientID:     compasstest.DefaultClientID,
		ClientSecret: compasstest.DefaultClientSecret,
		Tenant:       compasstest.DefaultTenant,
		Scope:        ocsync.Scope{Context: testContext},
		Backoff:      func(int, time.Duration) time.Duration { return time.Millisecond },
	}
}

func newRegistry(t *testing.T, cfg Config) *Registry {
	t.Helper()
	r, err := NewRegistry(cfg)
	require.NoError(t, err)
	return r
}

func desired(id string) ocsync.Application {
	return ocsync.Application{
		Name: "oc-" + id,
		Key:  id,
		Attributes: ocsync.Attributes{
			Description:  "SAP Open Connectors HubSpot: instance " + id,
			ProviderName: "SAP Open Connectors",
			Status:       ocsync.StatusConnected,
			Bundle:       "hubspot",
			API:          "HubSpot: instance " + id,
			TargetURL:    "https://" + testContext + "/elements/api-v2",
			Revision:     "r1",
		},
		Credential: redact.Secret("User u-secret, Organization o-secret, Element e-" + id),
	}
}

func testSpec(body string) ocsync.Spec {
	return ocsync.Spec{Type: "OPEN_API", Format: "JSON", Data: []byte(body)}
}

func stateOf(app ocsync.Application, spec ocsync.Spec) ocsync.State {
	return ocsync.State{Fields: app.Fingerprint(), SpecSHA256: ocsync.SpecSHA256(spec.Data), SpecFetchedAt: time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)}
}

// rawGraphQL sends a request with a token holding the given scopes, bypassing
// the Registry, to seed or inspect the fake Director.
func rawGraphQL(t *testing.T, srv *compasstest.Server, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.GraphQLURL(), bytes.NewReader(EscapeLegacyStrings(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("tenant", compasstest.DefaultTenant)
	req.Header.Set("Authorization", "Bearer "+srv.Token(compasstest.DefaultClientID, "application:read", "application:write"))
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Empty(t, out.Errors)
	return out.Data
}

// seedApp registers an application directly, with the given labels and
// optional bundle, and returns its id.
func seedApp(t *testing.T, srv *compasstest.Server, name string, labels map[string]any, bundles []map[string]any) string {
	t.Helper()
	in := map[string]any{"name": name, "labels": labels}
	if bundles != nil {
		in["bundles"] = bundles
	}
	data := rawGraphQL(t, srv, `mutation($in: ApplicationRegisterInput!) { registerApplication(in: $in) { id } }`, map[string]any{"in": in})
	return data["registerApplication"].(map[string]any)["id"].(string)
}

// storedSpec reads back the spec data of the first API of the first bundle.
func storedSpec(t *testing.T, srv *compasstest.Server, id string) string {
	t.Helper()
	data := rawGraphQL(t, srv, `query($id: ID!) { application(id: $id) { bundles { data { apiDefinitions { data { spec { data } } } } } } }`, map[string]any{"id": id})
	app := data["application"].(map[string]any)
	b := app["bundles"].(map[string]any)["data"].([]any)
	require.NotEmpty(t, b)
	apis := b[0].(map[string]any)["apiDefinitions"].(map[string]any)["data"].([]any)
	require.NotEmpty(t, apis)
	return apis[0].(map[string]any)["spec"].(map[string]any)["data"].(string)
}

// listedAttributes are the attributes of app as the listing reads them:
// no bundle, API or target URL, and no revision.
func listedAttributes(app ocsync.Application) ocsync.Attributes {
	return ocsync.Attributes{Description: app.Description, ProviderName: app.ProviderName, Status: app.Status}
}

// assertStored checks the fake Director's record of app: one bundle with
// one API definition named and pointed as app says, holding its credential.
func assertStored(t *testing.T, srv *compasstest.Server, app ocsync.Application) {
	t.Helper()
	stored, ok := srv.Application(compasstest.DefaultTenant, app.Name)
	require.True(t, ok)
	assert.Equal(t, app.Description, stored.Description)
	assert.Equal(t, app.ProviderName, stored.ProviderName)
	assert.Equal(t, string(app.Status), stored.Status)
	require.Len(t, stored.Bundles, 1)
	assert.Equal(t, bundleName(app), stored.Bundles[0].Name)
	assert.Equal(t, map[string][]string{"Authorization": {app.Credential.Reveal()}}, stored.Bundles[0].AuthHeaders)
	require.Len(t, stored.Bundles[0].APIs, 1)
	assert.Equal(t, apiName(app), stored.Bundles[0].APIs[0].Name)
	assert.Equal(t, app.TargetURL, stored.Bundles[0].APIs[0].TargetURL)
}

func byName(regs []ocsync.Registered) map[string]ocsync.Registered {
	m := map[string]ocsync.Registered{}
	for _, r := range regs {
		m[r.Name] = r
	}
	return m
}

func TestRegistryCreateAndListPages(t *testing.T) {
	srv := newServer(t)
	cfg := testConfig(srv)
	cfg.PageSize = 2
	cfg.IntegrationSystemID = compasstest.DefaultIntegrationSystemID
	reg := newRegistry(t, cfg)
	ctx := t.Context()

	apps := []ocsync.Application{desired("1"), desired("2"), desired("3"), desired("4"), desired("5")}
	spec := testSpec(`{"openapi":"3.0.0"}`)
	for _, app := range apps {
		require.NoError(t, reg.Create(ctx, app, spec, stateOf(app, spec)))
	}
	srv.ResetCounts()
	got, err := reg.Applications(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, srv.Count("applications"), "5 applications in pages of 2")
	require.Len(t, got, len(apps))
	m := byName(got)
	for _, app := range apps {
		t.Run(app.Name, func(t *testing.T) {
			r, ok := m[app.Name]
			require.True(t, ok)
			assert.True(t, r.Owned)
			assert.Equal(t, app.Key, r.Key)
			assert.NotEmpty(t, r.ID)
			assert.False(t, r.Incomplete)
			assert.Equal(t, listedAttributes(app), r.Attributes)
			require.NotNil(t, r.State)
			assert.Equal(t, stateOf(app, spec), *r.State)
			ref, ok := r.Ref.(Ref)
			require.True(t, ok)
			assert.Empty(t, ref.BundleID, "the listing reads no bundles")
			assert.Empty(t, ref.APIID)
			assert.True(t, ref.IdentityCurrent)
			stored, ok := srv.Application(compasstest.DefaultTenant, app.Name)
			require.True(t, ok)
			require.Len(t, stored.Bundles, 1)
			assert.Equal(t, app.Bundle, stored.Bundles[0].Name)
			require.Len(t, stored.Bundles[0].APIs, 1)
			assert.Equal(t, app.API, stored.Bundles[0].APIs[0].Name)
			assert.Equal(t, app.TargetURL, stored.Bundles[0].APIs[0].TargetURL)
		})
	}
	// The plan finds nothing to do for the same desired applications.
	plan := ocsync.Calculate(apps, got, ocsync.PlanOptions{Now: time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC), NameKey: NormalizeName})
	assert.Equal(t, 0, plan.Mutations(), "%+v", plan.Changes)
	assert.Equal(t, 1, reg.TokenFetches())
}

func TestRegistryRequestJSON(t *testing.T) {
	srv := newServer(t)
	rec := &recorder{next: http.DefaultTransport}
	cfg := testConfig(srv)
	cfg.HTTPClient = &http.Client{Transport: rec}
	reg := newRegistry(t, cfg)
	app := desired("42")
	spec := testSpec(`{"swagger":"2.0"}`)
	require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))

	bodies := rec.find("RegisterApplication")
	require.Len(t, bodies, 1)
	in := bodies[0]["variables"].(map[string]any)["in"].(map[string]any)
	assert.NotContains(t, in, "localTenantID")
	assert.NotContains(t, in, "integrationSystemID", "not configured, so not sent")
	assertNoNulls(t, "in", in)
	assert.Equal(t, "CONNECTED", in["statusCondition"])
	labels := in["labels"].(map[string]any)
	assert.Equal(t, map[string]any{"connectorInstanceContext": testContext, "connectorInstanceID": "42"}, labels[IdentityLabel])
	assert.IsType(t, map[string]any{}, labels[StateLabel])
	bundle := in["bundles"].([]any)[0].(map[string]any)
	assert.Equal(t, "hubspot", bundle["name"])
	auth := bundle["defaultInstanceAuth"].(map[string]any)
	assert.Equal(t, map[string]any{"additionalHeadersSerialized": authorizationHeaders(app.Credential.Reveal())}, auth)
	api := bundle["apiDefinitions"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"type": "OPEN_API", "format": "JSON", "data": `{"swagger":"2.0"}`}, api["spec"])

	// An update sends only what changed and never null.
	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)
	require.Len(t, regs, 1)
	app.Description = "changed"
	require.NoError(t, reg.Update(t.Context(), regs[0], app, ocsync.Update{Fields: []string{ocsync.FieldDescription}, State: stateOf(app, spec)}))
	upd := rec.find("UpdateApplication")
	require.Len(t, upd, 1)
	uin := upd[0]["variables"].(map[string]any)["in"].(map[string]any)
	assert.NotContains(t, uin, "localTenantID")
	assertNoNulls(t, "in", uin)
	assert.Equal(t, "changed", uin["description"])
	assert.Equal(t, "CONNECTED", uin["statusCondition"], "always sent: the Director resets a missing status")
}

func assertNoNulls(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil:
		t.Errorf("%s is null", path)
	case map[string]any:
		for k, e := range v {
			assertNoNulls(t, path+"."+k, e)
		}
	case []any:
		for i, e := range v {
			assertNoNulls(t, fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}

func TestRegistrySpecByteForByte(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	body := `{"openapi":"3.0.0","paths":{"/x":{"get":{"parameters":[{"name":"packageID"}],` +
		`"x-op":"addPackage","x-yaml":" packages: [a]","x-mode":"mode: PACKAGE","x-pkg":"package(id: 1)"}}}}`
	app := desired("7")
	app.Description = "updatePackage packages: [ in a description"
	spec := testSpec(body)
	require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)
	require.Len(t, regs, 1)
	assert.Equal(t, body, storedSpec(t, srv, regs[0].ID))
	assert.Equal(t, app.Description, regs[0].Attributes.Description)

	// The same holds for a replaced spec.
	body2 := strings.Replace(body, "packageID", "deletePackage packageInstanceAuth", 1)
	spec2 := testSpec(body2)
	require.NoError(t, reg.Update(t.Context(), regs[0], app, ocsync.Update{Fields: []string{ocsync.FieldSpec}, Spec: &spec2, State: stateOf(app, spec2)}))
	assert.Equal(t, body2, storedSpec(t, srv, regs[0].ID))
}

func TestRegistryUpdateCalls(t *testing.T) {
	spec := testSpec(`{"openapi":"3.0.0"}`)
	newSpec := testSpec(`{"openapi":"3.0.1"}`)
	tests := []struct {
		name      string
		fields    []string
		spec      *ocsync.Spec
		noState   bool
		mutate    func(*ocsync.Application)
		wantCalls map[string]int
	}{
		{"description", []string{ocsync.FieldDescription}, nil, false, func(a *ocsync.Application) { a.Description = "d2" },
			map[string]int{"application": 1, "updateApplication": 1, "setApplicationLabel": 2}},
		{"status", []string{ocsync.FieldStatus}, nil, false, func(a *ocsync.Application) { a.Status = ocsync.StatusFailed },
			map[string]int{"application": 1, "updateApplication": 1, "setApplicationLabel": 2}},
		{"credential", []string{ocsync.FieldCredential}, nil, false, func(a *ocsync.Application) { a.Credential = "User x, Organization y, Element z" },
			map[string]int{"application": 1, "updateBundle": 1, "setApplicationLabel": 2}},
		{"target URL", []string{ocsync.FieldTargetURL}, nil, false, func(a *ocsync.Application) { a.TargetURL = "https://other.example.com/elements/api-v2" },
			map[string]int{"application": 1, "updateAPIDefinition": 1, "setApplicationLabel": 2}},
		{"spec", []string{ocsync.FieldSpec}, &newSpec, false, func(*ocsync.Application) {},
			map[string]int{"application": 1, "updateAPIDefinition": 1, "setApplicationLabel": 2}},
		{"revision only", []string{ocsync.FieldRevision, ocsync.FieldSpec}, nil, false, func(a *ocsync.Application) { a.Revision = "r2" },
			map[string]int{"application": 1, "setApplicationLabel": 2}},
		{"adopted without state", []string{ocsync.FieldDescription}, nil, true, func(*ocsync.Application) {},
			map[string]int{"application": 1, "updateApplication": 1, "updateBundle": 1, "updateAPIDefinition": 1, "setApplicationLabel": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			reg := newRegistry(t, testConfig(srv))
			app := desired("1")
			require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
			regs, err := reg.Applications(t.Context())
			require.NoError(t, err)
			require.Len(t, regs, 1)
			cur := regs[0]
			if tt.noState {
				cur.State = nil
			}
			tt.mutate(&app)
			used := spec
			if tt.spec != nil {
				used = *tt.spec
			}
			srv.ResetCounts()
			require.NoError(t, reg.Update(t.Context(), cur, app, ocsync.Update{Fields: tt.fields, Spec: tt.spec, State: stateOf(app, used)}))
			calls := srv.Counts()
			delete(calls, compasstest.TokenOperation)
			for op, n := range calls {
				if n == 0 {
					delete(calls, op)
				}
			}
			assert.Equal(t, tt.wantCalls, calls, "one application query for the ids, the pending state when a state is stored, then only what changed")

			regs, err = reg.Applications(t.Context())
			require.NoError(t, err)
			require.Len(t, regs, 1)
			assert.Equal(t, listedAttributes(app), regs[0].Attributes)
			assertStored(t, srv, app)
			require.NotNil(t, regs[0].State)
			assert.Equal(t, stateOf(app, used), *regs[0].State)
			assert.Equal(t, string(used.Data), storedSpec(t, srv, regs[0].ID))
		})
	}
}

func TestRegistryRepair(t *testing.T) {
	identity := map[string]any{"connectorInstanceContext": testContext, "connectorInstanceID": "5"}
	spec := testSpec(`{"openapi":"3.0.0","info":{"title":"packageID"}}`)
	tests := []struct {
		name    string
		bundles []map[string]any
		wantOp  string
	}{
		{"no bundle", nil, "addBundle"},
		{"bundle without API", []map[string]any{{"name": "old"}}, "addAPIDefinitionToBundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			reg := newRegistry(t, testConfig(srv))
			seedApp(t, srv, "oc-5", map[string]any{IdentityLabel: identity}, tt.bundles)
			regs, err := reg.Applications(t.Context())
			require.NoError(t, err)
			require.Len(t, regs, 1)
			cur := regs[0]
			assert.True(t, cur.Owned, "the original job's label without owner belongs to the job without owner")
			assert.False(t, cur.Incomplete, "the listing reads no bundles; the update finds the missing parts")
			assert.Nil(t, cur.State)

			app := desired("5")
			plan := ocsync.Calculate([]ocsync.Application{app}, regs, ocsync.PlanOptions{Now: time.Now()})
			require.Len(t, plan.Changes, 1)
			require.Equal(t, ocsync.KindUpdate, plan.Changes[0].Kind)
			srv.ResetCounts()
			require.NoError(t, reg.Update(t.Context(), cur, app, ocsync.Update{Fields: plan.Changes[0].Fields, Spec: &spec, State: stateOf(app, spec)}))
			assert.Equal(t, 1, srv.Count(tt.wantOp))
			assert.Equal(t, 1, srv.Count("application"), "the ids are read once, for this update")

			regs, err = reg.Applications(t.Context())
			require.NoError(t, err)
			require.Len(t, regs, 1)
			assert.False(t, regs[0].Incomplete)
			require.NotNil(t, regs[0].State)
			assertStored(t, srv, app)
			assert.Equal(t, string(spec.Data), storedSpec(t, srv, regs[0].ID))
		})
	}
}

func TestRegistryOwnership(t *testing.T) {
	srv := newServer(t)
	label := func(ctx, id, owner string) map[string]any {
		l := map[string]any{"connectorInstanceContext": ctx, "connectorInstanceID": id}
		if owner != "" {
			l["owner"] = owner
		}
		return map[string]any{IdentityLabel: l}
	}
	seedApp(t, srv, "oc-a", label(testContext, "a", ""), nil)
	seedApp(t, srv, "oc-b", label(testContext, "b", "shard-1"), nil)
	seedApp(t, srv, "oc-c", label("other.example.com", "c", ""), nil)
	seedApp(t, srv, "oc-d", map[string]any{"unrelated": "x"}, nil)

	tests := []struct {
		owner string
		want  map[string]bool
	}{
		{"", map[string]bool{"oc-a": true, "oc-b": false}},
		{"shard-1", map[string]bool{"oc-b": true}},
		{"shard-2", map[string]bool{}},
	}
	for _, tt := range tests {
		t.Run("owner="+tt.owner, func(t *testing.T) {
			cfg := testConfig(srv)
			cfg.Scope.Owner = tt.owner
			reg := newRegistry(t, cfg)
			regs, err := reg.Applications(t.Context())
			require.NoError(t, err)
			got := map[string]bool{}
			for _, r := range regs {
				got[r.Name] = r.Owned
				if !r.Owned {
					assert.ErrorIs(t, reg.Delete(t.Context(), r), ocsync.ErrConflict)
					assert.ErrorIs(t, reg.Update(t.Context(), r, desired("b"), ocsync.Update{}), ocsync.ErrConflict)
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRegistryCreateConflict(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	seedApp(t, srv, "OC_1", map[string]any{"unrelated": "x"}, nil)
	app := desired("1")
	spec := testSpec(`{}`)
	err := reg.Create(t.Context(), app, spec, stateOf(app, spec))
	require.ErrorIs(t, err, ocsync.ErrConflict)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "NotUniqueName", ce.Name)
	assert.Equal(t, 31, ce.Code)
	assert.Equal(t, NormalizeName("OC_1"), NormalizeName(app.Name))
}

func TestRegistryDelete(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	app := desired("1")
	spec := testSpec(`{}`)
	require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)
	require.Len(t, regs, 1)

	srv.AddFault("unregisterApplication", compasstest.Fault{Code: compasstest.InvalidOperation, Message: "System oc-1 is part of the following formations : f1", Times: 1})
	err = reg.Delete(t.Context(), regs[0])
	require.Error(t, err)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "InvalidOperation", ce.Name)
	assert.Contains(t, err.Error(), "formations")
	assert.False(t, remote.Retryable(err))
	assert.NotErrorIs(t, err, ocsync.ErrFatal)

	require.NoError(t, reg.Delete(t.Context(), regs[0]))
	require.NoError(t, reg.Delete(t.Context(), regs[0]), "already gone counts as done")
	regs, err = reg.Applications(t.Context())
	require.NoError(t, err)
	assert.Empty(t, regs)
}

func TestRegistryRetries(t *testing.T) {
	spec := testSpec(`{}`)
	tests := []struct {
		name        string
		op          string
		fault       compasstest.Fault
		run         func(*Registry) error
		wantErr     error
		wantCalls   int
		wantApps    int
		maxRetries  int
		seedCreated bool
	}{
		{name: "listing retried after 503", op: "applications", fault: compasstest.Fault{Status: 503, Times: 1},
			run: func(r *Registry) error { _, err := r.Applications(context.Background()); return err }, wantCalls: 2},
		{name: "listing gives up", op: "applications", fault: compasstest.Fault{Status: 502, Times: 10}, maxRetries: 2,
			run: func(r *Registry) error { _, err := r.Applications(context.Background()); return err }, wantErr: remote.ErrRetryable, wantCalls: 3},
		{name: "listing rate limited", op: "applications", fault: compasstest.Fault{Status: 429, Times: 1},
			run: func(r *Registry) error { _, err := r.Applications(context.Background()); return err }, wantCalls: 2},
		{name: "register committed but answer lost", op: "registerApplication", fault: compasstest.Fault{Code: compasstest.InternalError, After: true, Times: 1},
			run: func(r *Registry) error {
				app := desired("1")
				return r.Create(context.Background(), app, spec, stateOf(app, spec))
			}, wantCalls: 1, wantApps: 1},
		{name: "register failed before commit", op: "registerApplication", fault: compasstest.Fault{Status: 503, Times: 1},
			run: func(r *Registry) error {
				app := desired("1")
				return r.Create(context.Background(), app, spec, stateOf(app, spec))
			}, wantCalls: 2, wantApps: 1},
		{name: "register lost twice then clash with itself", op: "registerApplication", fault: compasstest.Fault{Status: 504, After: true, Times: 1},
			run: func(r *Registry) error {
				app := desired("1")
				return r.Create(context.Background(), app, spec, stateOf(app, spec))
			}, wantCalls: 1, wantApps: 1},
		{name: "label update retried", op: "setApplicationLabel", fault: compasstest.Fault{Code: compasstest.InternalError, Times: 1}, seedCreated: true,
			run: func(r *Registry) error {
				regs, err := r.Applications(context.Background())
				if err != nil {
					return err
				}
				app := desired("1")
				return r.Update(context.Background(), regs[0], app, ocsync.Update{Fields: []string{ocsync.FieldRevision}, State: stateOf(app, spec)})
			}, wantCalls: 3, wantApps: 1}, // the pending state (refused once, sent again), then the final one
		{name: "invalid data not retried", op: "updateApplication", fault: compasstest.Fault{Code: compasstest.InvalidData, Times: 1}, seedCreated: true,
			run: func(r *Registry) error {
				regs, err := r.Applications(context.Background())
				if err != nil {
					return err
				}
				app := desired("1")
				return r.Update(context.Background(), regs[0], app, ocsync.Update{Fields: []string{ocsync.FieldDescription}, State: stateOf(app, spec)})
			}, wantErr: remote.ErrInvalidInput, wantCalls: 1, wantApps: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			cfg := testConfig(srv)
			cfg.MaxRetries = tt.maxRetries
			reg := newRegistry(t, cfg)
			if tt.seedCreated {
				app := desired("1")
				require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
			}
			srv.ResetCounts()
			srv.AddFault(tt.op, tt.fault)
			err := tt.run(reg)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCalls, srv.Count(tt.op))
			srv.ClearFaults()
			regs, err := reg.Applications(t.Context())
			require.NoError(t, err)
			assert.Len(t, regs, tt.wantApps)
		})
	}
}

func TestRegistryAuthFailures(t *testing.T) {
	const secret = "compasstest-secret"
	tests := []struct {
		name     string
		server   []compasstest.Option
		mutate   func(*Config, *compasstest.Server)
		wantName string
		wantErr  error
	}{
		{name: "wrong client secret", mutate: func(c *Config, _ *compasstest.Server) { c.ClientSecret = "wrong-secret-value" },
			wantName: "invalid_client", wantErr: ocsync.ErrFatal},
		{name: "unknown client", mutate: func(c *Config, _ *compasstest.Server) { c.ClientID = "nobody" },
			wantName: "invalid_client", wantErr: ocsync.ErrFatal},
		{name: "scope not allowed", server: []compasstest.Option{compasstest.WithClients(compasstest.Client{ID: compasstest.DefaultClientID, Secret: secret, Scopes: []string{"application:read"}})},
			wantName: "invalid_scope", wantErr: ocsync.ErrFatal},
		{name: "unknown tenant", mutate: func(c *Config, _ *compasstest.Server) { c.Tenant = "00000000-0000-0000-0000-000000000000" },
			wantName: "TenantNotFound", wantErr: ocsync.ErrFatal},
		{name: "token endpoint down", mutate: func(c *Config, s *compasstest.Server) {
			s.AddFault(compasstest.TokenOperation, compasstest.Fault{Status: 503, Times: 10})
		}, wantErr: remote.ErrRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.server...)
			cfg := testConfig(srv)
			cfg.MaxRetries = -1
			if tt.mutate != nil {
				tt.mutate(&cfg, srv)
			}
			reg := newRegistry(t, cfg)
			_, err := reg.Applications(t.Context())
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantErr)
			var ce *Error
			require.ErrorAs(t, err, &ce)
			if tt.wantName != "" {
				assert.Equal(t, tt.wantName, ce.Name)
			}
			assert.NotContains(t, err.Error(), cfg.ClientSecret.Reveal())
			assert.NotContains(t, fmt.Sprintf("%+v %#v", cfg, cfg), cfg.ClientSecret.Reveal())
		})
	}
}

func TestRegistryTokenReuseAndRefresh(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	for range 3 {
		_, err := reg.Applications(t.Context())
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Count(compasstest.TokenOperation))
	srv.ExpireTokens()
	_, err := reg.Applications(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Count(compasstest.TokenOperation))
	assert.Equal(t, 2, reg.TokenFetches())
}

func TestRegistryInsufficientScopes(t *testing.T) {
	// A client that may only read: listing works, registering is refused
	// by the Director and the refusal is fatal.
	srv := newServer(t)
	cfg := testConfig(srv)
	reg := newRegistry(t, cfg)
	srv.AddFault("registerApplication", compasstest.Fault{Code: compasstest.InsufficientScopes, Times: 1})
	app := desired("1")
	spec := testSpec(`{}`)
	err := reg.Create(t.Context(), app, spec, stateOf(app, spec))
	require.ErrorIs(t, err, ocsync.ErrFatal)
	assert.Equal(t, 1, srv.Count("registerApplication"))
}

func TestRegistryCancelled(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := reg.Applications(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, remote.Retryable(err))
}

func TestRegistryTimeout(t *testing.T) {
	srv := newServer(t)
	cfg := testConfig(srv)
	cfg.Timeout = time.Hour // the token and the first listing never time out
	cfg.MaxRetries = -1
	reg := newRegistry(t, cfg)
	_, err := reg.Applications(t.Context()) // token fetched
	require.NoError(t, err)
	// The Director now holds every request until it is cancelled: the
	// request's own timeout ends it, however busy the machine.
	reg.cfg.Timeout = 20 * time.Millisecond
	srv.SetLatency(time.Hour)
	_, err = reg.Applications(t.Context())
	require.ErrorIs(t, err, remote.ErrRetryable)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Timeout", ce.Name)
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   compasstest.ErrorCode
		want   error
	}{
		{"not found", 0, compasstest.NotFound, remote.ErrNotFound},
		{"not unique", 0, compasstest.NotUnique, ocsync.ErrConflict},
		{"invalid data", 0, compasstest.InvalidData, remote.ErrInvalidInput},
		{"unauthorized", 0, compasstest.Unauthorized, ocsync.ErrFatal},
		{"tenant required", 0, compasstest.TenantRequired, ocsync.ErrFatal},
		{"internal", 0, compasstest.InternalError, remote.ErrRetryable},
		{"concurrent", 0, compasstest.ConcurrentOperation, remote.ErrRetryable},
		{"HTTP 500", 500, 0, remote.ErrRetryable},
		{"HTTP 401", 401, 0, ocsync.ErrFatal},
		{"HTTP 400", 400, 0, ocsync.ErrFatal},
		{"HTTP 422", 422, 0, remote.ErrInvalidInput},
		{"HTTP 403", 403, 0, ocsync.ErrFatal},
		{"HTTP 408", 408, 0, remote.ErrRetryable},
		{"HTTP 413", 413, 0, remote.ErrInvalidInput},
		// Refusals by a proxy that concern one request only: an item
		// failure, neither fatal nor retried.
		{"HTTP 404", 404, 0, nil},
		{"HTTP 405", 405, 0, nil},
		{"HTTP 431", 431, 0, nil},
		{"HTTP 418", 418, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			cfg := testConfig(srv)
			cfg.MaxRetries = -1
			reg := newRegistry(t, cfg)
			srv.AddFault("viewer", compasstest.Fault{Status: tt.status, Code: tt.code, Times: 1})
			_, _, err := reg.Viewer(t.Context())
			require.Error(t, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			for _, other := range []error{remote.ErrNotFound, ocsync.ErrConflict, remote.ErrInvalidInput, ocsync.ErrFatal, remote.ErrRetryable} {
				if other != tt.want {
					assert.False(t, errors.Is(err, other), "also %v", other)
				}
			}
		})
	}
}

func TestRegistryViewer(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	id, typ, err := reg.Viewer(t.Context())
	require.NoError(t, err)
	assert.Equal(t, compasstest.DefaultIntegrationSystemID, id)
	assert.Equal(t, "INTEGRATION_SYSTEM", typ)
}

// tokenRecorder keeps the token requests.
type tokenRecorder struct {
	mu    sync.Mutex
	forms []string
	auths []string
	next  http.RoundTripper
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, compasstest.TokenPath) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		r.mu.Lock()
		r.forms = append(r.forms, string(b))
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return r.next.RoundTrip(req)
}

func TestRegistryTokenRequestAndLogs(t *testing.T) {
	srv := newServer(t)
	rec := &tokenRecorder{next: http.DefaultTransport}
	var logs bytes.Buffer
	cfg := testConfig(srv)
	cfg.HTTPClient = &http.Client{Transport: rec}
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := newRegistry(t, cfg)

	app := desired("9")
	spec := testSpec(`{}`)
	require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
	srv.AddFault("updateBundle", compasstest.Fault{Code: compasstest.InvalidData, Message: "bad header " + app.Credential.Reveal(), Times: 1})
	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)
	err = reg.Update(t.Context(), regs[0], app, ocsync.Update{Fields: []string{ocsync.FieldCredential}, State: stateOf(app, spec)})
	require.ErrorIs(t, err, remote.ErrInvalidInput)
	assert.NotContains(t, err.Error(), app.Credential.Reveal(), "a secret echoed by the Director is redacted")
	assert.Contains(t, err.Error(), "[redacted]")

	require.Len(t, rec.forms, 1)
	form, err := url.ParseQuery(rec.forms[0])
	require.NoError(t, err)
	assert.Equal(t, "client_credentials", form.Get("grant_type"))
	assert.Equal(t, "application:read application:write", form.Get("scope"))
	assert.Empty(t, form.Get("client_secret"), "credentials go in the Authorization header")
	assert.True(t, strings.HasPrefix(rec.auths[0], "Basic "))

	out := logs.String()
	assert.Contains(t, out, "registerApplication")
	for _, secret := range []string{compasstest.DefaultClientSecret, app.Credential.Reveal(), "u-secret"} {
		assert.NotContains(t, out, secret)
	}
}

// slowFirstRegister delays the first registerApplication request past the
// client's timeout and delivers it anyway, as a gateway would that keeps a
// request the client gave up on.
type slowFirstRegister struct {
	next http.RoundTripper
	// release lets the late request go; the test closes it once the
	// client has given up, so no sleep decides the order.
	release chan struct{}
	once    sync.Once
	done    chan struct{}
}

func (s *slowFirstRegister) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	first := false
	if bytes.Contains(body, []byte("registerApplication")) {
		s.once.Do(func() { first = true })
	}
	if !first {
		return s.next.RoundTrip(req)
	}
	late := req.Clone(context.WithoutCancel(req.Context()))
	late.Body = io.NopCloser(bytes.NewReader(body))
	go func() {
		defer close(s.done)
		<-s.release
		if resp, err := s.next.RoundTrip(late); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-req.Context().Done()
	return nil, req.Context().Err()
}

func TestCreateIsNotSentAgainAfterItsOwnTimeout(t *testing.T) {
	srv := newServer(t)
	slow := &slowFirstRegister{next: http.DefaultTransport, release: make(chan struct{}), done: make(chan struct{})}
	cfg := testConfig(srv)
	cfg.HTTPClient = &http.Client{Transport: slow}
	// The register is held until its own timeout ends it; the token and the
	// look-up have all the time they need.
	cfg.Timeout = time.Hour
	reg := newRegistry(t, cfg)
	reg.cfg.SpecTimeout = 100 * time.Millisecond // the register's own timeout
	app := desired("7")
	spec := testSpec(`{"openapi":"3.0.0"}`)
	err := reg.Create(t.Context(), app, spec, stateOf(app, spec))
	require.Error(t, err)
	assert.ErrorIs(t, err, remote.ErrRetryable, "the next run tries again")
	assert.Contains(t, err.Error(), "not sent again")
	close(slow.release)
	<-slow.done
	assert.Equal(t, 1, srv.Count("registerApplication"), "sent once")
	_, ok := srv.Application(compasstest.DefaultTenant, app.Name)
	assert.True(t, ok, "the late request registered it")
}

func TestCreateIsNotSentAgainAfterAGatewayTimeout(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	srv.AddFault("registerApplication", compasstest.Fault{Status: http.StatusGatewayTimeout, Times: 1})
	app := desired("8")
	spec := testSpec(`{"openapi":"3.0.0"}`)
	err := reg.Create(t.Context(), app, spec, stateOf(app, spec))
	require.Error(t, err)
	assert.ErrorIs(t, err, remote.ErrRetryable, "the next run tries again")
	assert.Contains(t, err.Error(), "not sent again")
	assert.Equal(t, 1, srv.Count("registerApplication"))
}
