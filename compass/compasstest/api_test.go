package compasstest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

const otherTenant = "1eba80dd-8ff6-4a7b-9f66-4a2fd7ca5c3a"

func TestAuthTenantAndScopes(t *testing.T) {
	s := compasstest.NewServer(compasstest.WithTenants(compasstest.DefaultTenant, otherTenant))
	defer s.Close()
	full := s.Token(compasstest.DefaultClientID, rw...)
	readOnly := s.Token(compasstest.DefaultClientID, "application:read")
	const list = `{ applications { totalCount } }`
	const reg = `mutation { registerApplication(in: {name: "a"}) { id } }`
	tests := []struct {
		name, token, tenant, query string
		status, code               int
		errName                    string
	}{
		{"ok", full, compasstest.DefaultTenant, list, 200, 0, ""},
		{"no bearer", "", compasstest.DefaultTenant, list, 400, 26, "Unauthorized"},
		{"bad bearer", "garbage", compasstest.DefaultTenant, list, 401, 26, "Unauthorized"},
		{"no tenant", full, "", list, 200, 24, "TenantRequired"},
		{"unknown tenant", full, "00000000-0000-0000-0000-000000000000", list, 400, 25, "TenantNotFound"},
		{"other tenant", full, otherTenant, list, 200, 0, ""},
		{"missing write scope", readOnly, compasstest.DefaultTenant, reg, 200, 23, "InsufficientScopes"},
		{"viewer needs no scope", s.Token(compasstest.DefaultClientID), "", `{ viewer { id type } }`, 200, 0, ""},
		{"local tenant id needs scope even null", full, compasstest.DefaultTenant,
			`mutation { registerApplication(in: {name: "b", localTenantID: null}) { id } }`, 200, 23, "InsufficientScopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, tt.token, tt.tenant, tt.query, nil)
			assert.Equal(t, tt.status, r.Status, r.Raw)
			if tt.code == 0 {
				assert.Empty(t, r.Errors, r.Raw)
				return
			}
			require.Len(t, r.Errors, 1, r.Raw)
			assert.Equal(t, tt.code, r.Errors[0].Extensions.ErrorCode)
			assert.Equal(t, tt.errName, r.Errors[0].Extensions.Error)
		})
	}
	t.Run("insufficient scopes message", func(t *testing.T) {
		r := call(t, s, readOnly, compasstest.DefaultTenant, reg, nil)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "insufficient scopes provided [actual=application:read; required=application:write]", r.Errors[0].Message)
		assert.Equal(t, []any{"registerApplication"}, r.Errors[0].Path)
	})
	t.Run("viewer", func(t *testing.T) {
		r := call(t, s, full, "", `{ viewer { id type } }`, nil)
		assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"type":"INTEGRATION_SYSTEM"}`, compasstest.DefaultIntegrationSystemID), string(r.Data["viewer"]))
	})
	t.Run("expired token", func(t *testing.T) {
		s.ExpireTokens()
		r := call(t, s, full, compasstest.DefaultTenant, list, nil)
		assert.Equal(t, http.StatusUnauthorized, r.Status)
	})
	t.Run("token lifetime", func(t *testing.T) {
		short := compasstest.NewServer(compasstest.WithTokenLifetime(time.Nanosecond))
		defer short.Close()
		r := call(t, short, short.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, list, nil)
		assert.Equal(t, http.StatusUnauthorized, r.Status)
	})
}

func TestSchemaValidation(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	token := s.Token(compasstest.DefaultClientID, rw...)
	tests := []struct {
		name, query string
		vars        map[string]any
		reason      string
	}{
		{"unknown field", `{ applications { data { nope } } }`, nil, `Cannot query field "nope"`},
		{"syntax", `{ applications { `, nil, "Expected Name"},
		{"wrong enum", `mutation { registerApplication(in: {name: "x", statusCondition: WHATEVER}) { id } }`, nil, "WHATEVER"},
		{"bad variable type", `query($f: Int) { applications(first: $f) { totalCount } }`, map[string]any{"f": "ten"}, "Int"},
		{"removed operation", `mutation { addAPIDefinition(applicationID: "x", in: {name: "a", targetURL: "http://a"}) { id } }`, nil, "addAPIDefinition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, token, compasstest.DefaultTenant, tt.query, tt.vars)
			assert.Equal(t, http.StatusUnprocessableEntity, r.Status, r.Raw)
			require.NotEmpty(t, r.Errors, r.Raw)
			assert.Equal(t, 10, r.Errors[0].Extensions.ErrorCode)
			assert.Equal(t, "InternalError", r.Errors[0].Extensions.Error)
			assert.Contains(t, r.Errors[0].Message, tt.reason)
		})
	}
}

type pageOut struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		StartCursor string `json:"startCursor"`
		EndCursor   string `json:"endCursor"`
		HasNextPage bool   `json:"hasNextPage"`
	} `json:"pageInfo"`
	Data []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"data"`
}

const pageQuery = `query($f: [LabelFilter!], $first: Int, $after: PageCursor) {
  applications(filter: $f, first: $first, after: $after) { totalCount pageInfo { startCursor endCursor hasNextPage } data { id name } }
}`

func TestPagination(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	var ids []string
	for i := range 7 {
		id, err := s.Seed(compasstest.DefaultTenant, compasstest.Application{Name: fmt.Sprintf("app-%d", i)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, size := range []int{1, 3, 7, 200} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var got []string
			after := ""
			pages := 0
			for {
				p := decode[pageOut](t, do(t, s, pageQuery, map[string]any{"first": size, "after": after})["applications"])
				pages++
				assert.Equal(t, 7, p.TotalCount)
				for _, d := range p.Data {
					got = append(got, d.ID)
				}
				if !p.PageInfo.HasNextPage {
					assert.Empty(t, p.PageInfo.EndCursor)
					break
				}
				assert.NotEmpty(t, p.PageInfo.EndCursor)
				after = p.PageInfo.EndCursor
			}
			assert.Equal(t, ids, got, "ordered by id, each once")
			assert.Equal(t, (7+size-1)/size, pages)
		})
	}
	token := s.Token(compasstest.DefaultClientID, rw...)
	bad := []struct {
		name string
		vars map[string]any
		code int
		msg  string
	}{
		{"zero", map[string]any{"first": 0}, 22, "Invalid data [reason=page size must be between 1 and 200]"},
		{"too big", map[string]any{"first": 201}, 22, "Invalid data [reason=page size must be between 1 and 200]"},
		{"null", map[string]any{"first": nil}, 22, "Invalid data [reason=missing required parameter 'first']"},
		{"bad cursor", map[string]any{"first": 2, "after": "!!"}, 10, "Internal Server Error [errorID="},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, token, compasstest.DefaultTenant, pageQuery, tt.vars)
			require.Len(t, r.Errors, 1, r.Raw)
			assert.Equal(t, tt.code, r.Errors[0].Extensions.ErrorCode)
			assert.True(t, strings.HasPrefix(r.Errors[0].Message, tt.msg), r.Errors[0].Message)
		})
	}
	t.Run("default page size", func(t *testing.T) {
		r := call(t, s, token, compasstest.DefaultTenant, `{ applications { totalCount data { id } } }`, nil)
		p := decode[pageOut](t, r.Data["applications"])
		assert.Len(t, p.Data, 7)
	})
}

func TestLabelFilters(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	seed := map[string]map[string]any{
		"a": {"open_connectors": map[string]any{"connectorInstanceContext": "host-a:1", "connectorInstanceID": "1", "owner": "x"}, "tags": []any{"red", "blue"}, "n": 5},
		"b": {"open_connectors": map[string]any{"connectorInstanceContext": "host-b:1", "connectorInstanceID": "2"}, "tags": []any{"red"}, "flag": true},
		"c": {"plain": "x", "nested": map[string]any{"list": []any{"p", "q"}}},
	}
	for name, labels := range seed {
		_, err := s.Seed(compasstest.DefaultTenant, compasstest.Application{Name: name, Labels: labels})
		require.NoError(t, err)
	}
	q := func(s string) *string { return &s }
	tests := []struct {
		name    string
		filters []map[string]any
		want    []string
	}{
		{"key exists", []map[string]any{{"key": "open_connectors"}}, []string{"a", "b"}},
		{"object containment", []map[string]any{{"key": "open_connectors", "query": *q(`{"connectorInstanceContext":"host-a:1"}`)}}, []string{"a"}},
		{"object two keys", []map[string]any{{"key": "open_connectors", "query": `{"connectorInstanceContext":"host-a:1","owner":"x"}`}}, []string{"a"}},
		{"object no match", []map[string]any{{"key": "open_connectors", "query": `{"owner":"y"}`}}, nil},
		{"array contains array", []map[string]any{{"key": "tags", "query": `["blue"]`}}, []string{"a"}},
		{"array contains primitive", []map[string]any{{"key": "tags", "query": `"red"`}}, []string{"a", "b"}},
		{"string equals", []map[string]any{{"key": "plain", "query": `"x"`}}, []string{"c"}},
		{"case sensitive", []map[string]any{{"key": "plain", "query": `"X"`}}, nil},
		{"number", []map[string]any{{"key": "n", "query": `5.0`}}, []string{"a"}},
		{"bool", []map[string]any{{"key": "flag", "query": `true`}}, []string{"b"}},
		{"nested array not primitive", []map[string]any{{"key": "nested", "query": `{"list":"p"}`}}, nil},
		{"nested array", []map[string]any{{"key": "nested", "query": `{"list":["q"]}`}}, []string{"c"}},
		{"AND", []map[string]any{{"key": "tags", "query": `"red"`}, {"key": "flag"}}, []string{"b"}},
		{"missing key", []map[string]any{{"key": "nope"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decode[pageOut](t, do(t, s, pageQuery, map[string]any{"f": tt.filters, "first": 200})["applications"])
			var got []string
			for _, d := range p.Data {
				got = append(got, d.Name)
			}
			sort.Strings(got)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, len(tt.want), p.TotalCount)
		})
	}
	t.Run("non-JSON query", func(t *testing.T) {
		r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, pageQuery,
			map[string]any{"f": []map[string]any{{"key": "plain", "query": "x"}}, "first": 10})
		require.Len(t, r.Errors, 1, r.Raw)
		assert.Equal(t, "InternalError", r.Errors[0].Extensions.Error)
	})
}

func TestRegisterRules(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	register(t, s, "My App", nil)
	token := s.Token(compasstest.DefaultClientID, rw...)
	in := func(name string, mod func(map[string]any)) map[string]any {
		m := registerInput(name, map[string]any{"ok_key": "v"})
		if mod != nil {
			mod(m)
		}
		return m
	}
	tests := []struct {
		name string
		in   map[string]any
		code int
		msg  string
	}{
		{"normalized clash lower", in("my-app", nil), 31, "Object name is not unique [object=application]"},
		{"normalized clash underscore", in("my_app!", nil), 31, "Object name is not unique [object=application]"},
		{"empty name", in("", nil), 22, "Invalid data ApplicationRegisterInput [name=cannot be blank]"},
		{"long name", in(strings.Repeat("é", 101), nil), 22, "Invalid data ApplicationRegisterInput [name=the length must be between 1 and 100]"},
		{"dash in label key", in("x1", func(m map[string]any) { m["labels"] = map[string]any{"a-b": "v"} }), 22, "Invalid data ApplicationRegisterInput [labels="},
		{"scenarios label", in("x2", func(m map[string]any) { m["labels"] = map[string]any{"scenarios": []any{"DEFAULT"}} }), 22, "Invalid data ApplicationRegisterInput [labels="},
		{"unknown integration system", in("x3", func(m map[string]any) { m["integrationSystemID"] = "5d2c1a1e-0000-0000-0000-000000000000" }), 20, "Object not found [object=integrationSystem]"},
		{"bad serialized headers", in("x4", func(m map[string]any) {
			m["bundles"].([]any)[0].(map[string]any)["defaultInstanceAuth"] = map[string]any{"additionalHeadersSerialized": `{"A":"not a list"}`}
		}), 22, "Invalid data [reason=unable to unmarshal HTTP headers]"},
		{"map headers", in("x5", func(m map[string]any) {
			m["bundles"].([]any)[0].(map[string]any)["defaultInstanceAuth"] = map[string]any{"additionalHeaders": map[string]any{"A": []any{"b"}}}
		}), 10, "Internal Server Error [errorID="},
		{"async mode", nil, 10, "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r gqlResponse
			if tt.in == nil {
				r = call(t, s, token, compasstest.DefaultTenant, `mutation { registerApplication(in: {name: "async"}, mode: ASYNC) { id } }`, nil)
			} else {
				r = call(t, s, token, compasstest.DefaultTenant, registerMutation, map[string]any{"in": tt.in})
			}
			assert.Equal(t, http.StatusOK, r.Status, r.Raw)
			require.Len(t, r.Errors, 1, r.Raw)
			assert.Equal(t, tt.code, r.Errors[0].Extensions.ErrorCode, r.Raw)
			assert.True(t, strings.HasPrefix(r.Errors[0].Message, tt.msg), r.Errors[0].Message)
		})
	}
	assert.Len(t, s.Applications(compasstest.DefaultTenant), 1, "failed registrations store nothing")

	t.Run("nested inputs not validated", func(t *testing.T) {
		m := in("nested", func(m map[string]any) {
			b := m["bundles"].([]any)[0].(map[string]any)
			b["name"] = strings.Repeat("ü", 150)
			b["apiDefinitions"].([]any)[0].(map[string]any)["targetURL"] = "not a url"
		})
		r := call(t, s, token, compasstest.DefaultTenant, registerMutation, map[string]any{"in": m})
		assert.Empty(t, r.Errors, r.Raw)
	})
	t.Run("default status", func(t *testing.T) {
		r := call(t, s, token, compasstest.DefaultTenant, `mutation { registerApplication(in: {name: "plain"}) { status { condition } labels } }`, nil)
		require.Empty(t, r.Errors, r.Raw)
		assert.JSONEq(t, `{"status":{"condition":"INITIAL"},"labels":{"integrationSystemID":"","managed":"false","name":"mp-plain"}}`, string(r.Data["registerApplication"]))
	})
}

func TestMutations(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	app := register(t, s, "app", map[string]any{"k": "v"})
	bundleID := app.Bundles.Data[0].ID
	apiID := app.Bundles.Data[0].APIDefinitions.Data[0].ID
	token := s.Token(compasstest.DefaultClientID, rw...)
	run := func(t *testing.T, query string, vars map[string]any) gqlResponse {
		t.Helper()
		return call(t, s, token, compasstest.DefaultTenant, query, vars)
	}

	t.Run("update application", func(t *testing.T) {
		r := run(t, `mutation($id: ID!) { updateApplication(id: $id, in: {description: "d", statusCondition: FAILED}) { description status { condition } } }`, map[string]any{"id": app.ID})
		require.Empty(t, r.Errors, r.Raw)
		assert.JSONEq(t, `{"description":"d","status":{"condition":"FAILED"}}`, string(r.Data["updateApplication"]))
		r = run(t, `mutation($id: ID!) { updateApplication(id: $id, in: {providerName: "p"}) { description providerName status { condition } } }`, map[string]any{"id": app.ID})
		require.Empty(t, r.Errors, r.Raw)
		assert.JSONEq(t, `{"description":"d","providerName":"p","status":{"condition":"INITIAL"}}`, string(r.Data["updateApplication"]))
		r = run(t, `mutation { updateApplication(id: "00000000-0000-0000-0000-000000000000", in: {}) { id } }`, nil)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "NotFound", r.Errors[0].Extensions.Error)
	})
	t.Run("set label", func(t *testing.T) {
		r := run(t, `mutation($id: ID!, $v: Any!) { setApplicationLabel(applicationID: $id, key: "state", value: $v) { key value } }`,
			map[string]any{"id": app.ID, "v": map[string]any{"sha": "abc"}})
		require.Empty(t, r.Errors, r.Raw)
		stored, _ := s.Application(compasstest.DefaultTenant, "app")
		assert.Equal(t, map[string]any{"sha": "abc"}, stored.Labels["state"])
		for _, bad := range []string{`key: "a-b", value: "x"`, `key: "ok", value: ""`, `key: "ok", value: 0`, `key: "ok", value: []`} {
			r := run(t, fmt.Sprintf(`mutation($id: ID!) { setApplicationLabel(applicationID: $id, %s) { key } }`, bad), map[string]any{"id": app.ID})
			require.Len(t, r.Errors, 1, bad)
			assert.Equal(t, "InvalidData", r.Errors[0].Extensions.Error, bad)
		}
		r = run(t, `mutation { setApplicationLabel(applicationID: "00000000-0000-0000-0000-000000000000", key: "k", value: "v") { key } }`, nil)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "NotFound", r.Errors[0].Extensions.Error)
	})
	t.Run("update bundle is a full replace", func(t *testing.T) {
		r := run(t, `mutation($id: ID!) { updateBundle(id: $id, in: {name: "renamed", description: "x"}) { name description } }`, map[string]any{"id": bundleID})
		require.Empty(t, r.Errors, r.Raw)
		stored, _ := s.Application(compasstest.DefaultTenant, "app")
		assert.Equal(t, "renamed", stored.Bundles[0].Name)
		assert.Nil(t, stored.Bundles[0].AuthHeaders, "omitted defaultInstanceAuth is cleared")
		assert.Len(t, stored.Bundles[0].APIs, 1, "APIs untouched")
		r = run(t, `mutation($id: ID!) { updateBundle(id: $id, in: {name: "bad\u0001"}) { name } }`, map[string]any{"id": bundleID})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "InvalidData", r.Errors[0].Extensions.Error)
	})
	t.Run("update API keeps spec when omitted", func(t *testing.T) {
		r := run(t, `mutation($id: ID!) { updateAPIDefinition(id: $id, in: {name: "n2", targetURL: "https://h/x"}) { name spec { data } } }`, map[string]any{"id": apiID})
		require.Empty(t, r.Errors, r.Raw)
		assert.JSONEq(t, `{"name":"n2","spec":{"data":"{\"swagger\":\"2.0\"}"}}`, string(r.Data["updateAPIDefinition"]))
		r = run(t, `mutation($id: ID!) { updateAPIDefinition(id: $id, in: {name: "n2", targetURL: "nope"}) { name } }`, map[string]any{"id": apiID})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "Invalid data APIDefinitionInput [targetURL=must be a valid URL]", r.Errors[0].Message)
	})
	t.Run("add API to missing bundle", func(t *testing.T) {
		r := run(t, `mutation { addAPIDefinitionToBundle(bundleID: "00000000-0000-0000-0000-000000000000", in: {name: "n", targetURL: "https://h"}) { id } }`, nil)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "Invalid data [reason=cannot add API to not existing bundle]", r.Errors[0].Message)
	})
	t.Run("add bundle sets base URL", func(t *testing.T) {
		id, err := s.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "bare"})
		require.NoError(t, err)
		r := run(t, `mutation($id: ID!) { addBundle(applicationID: $id, in: {name: "b", apiDefinitions: [{name: "a", targetURL: "https://api.example.com:8443/x"}]}) { id apiDefinitions { totalCount } } }`, map[string]any{"id": id})
		require.Empty(t, r.Errors, r.Raw)
		stored, _ := s.Application(compasstest.DefaultTenant, "bare")
		assert.Equal(t, "https://api.example.com:8443", stored.BaseURL)
		require.Len(t, stored.Bundles, 1)
	})
	t.Run("unregister", func(t *testing.T) {
		require.NoError(t, s.SetFormations(compasstest.DefaultTenant, "app", "f1", "f2"))
		r := run(t, `mutation($id: ID!) { unregisterApplication(id: $id) { name } }`, map[string]any{"id": app.ID})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "The operation is not allowed [reason=System app is part of the following formations : f1, f2]", r.Errors[0].Message)
		require.NoError(t, s.SetFormations(compasstest.DefaultTenant, "app"))
		r = run(t, `mutation($id: ID!) { unregisterApplication(id: $id) { name } }`, map[string]any{"id": app.ID})
		require.Empty(t, r.Errors, r.Raw)
		r = run(t, `mutation($id: ID!) { unregisterApplication(id: $id) { name } }`, map[string]any{"id": app.ID})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, 20, r.Errors[0].Extensions.ErrorCode)
		r = run(t, `query($id: ID!) { application(id: $id) { name } }`, map[string]any{"id": app.ID})
		require.Empty(t, r.Errors)
		assert.Equal(t, "null", string(r.Data["application"]))
		_, ok := s.Application(compasstest.DefaultTenant, "app")
		assert.False(t, ok)
	})
}

func TestLegacyRewrite(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	token := s.Token(compasstest.DefaultClientID, rw...)
	spec := `{"parameters":[{"name":"packageID"}]}`
	in := registerInput("rewritten", map[string]any{"note": "packageID"})
	in["bundles"].([]any)[0].(map[string]any)["apiDefinitions"].([]any)[0].(map[string]any)["spec"].(map[string]any)["data"] = spec
	r := call(t, s, token, compasstest.DefaultTenant, registerMutation, map[string]any{"in": in})
	require.Empty(t, r.Errors, r.Raw)
	assert.Contains(t, r.Raw, `"packages":{`, "the response of a rewritten request is rewritten back")
	stored, ok := s.Application(compasstest.DefaultTenant, "rewritten")
	require.True(t, ok)
	assert.Equal(t, `{"parameters":[{"name":"bundleID"}]}`, stored.Bundles[0].APIs[0].Spec)
	assert.Equal(t, "bundleID", stored.Labels["note"])

	t.Run("legacy operation names", func(t *testing.T) {
		body, err := json.Marshal(map[string]any{
			"query":     `mutation($id: ID!) { addPackage(applicationID: $id, in: {name: "p"}) { id name } }`,
			"variables": map[string]any{"id": stored.ID},
		})
		require.NoError(t, err)
		r := callRaw(t, s, token, compasstest.DefaultTenant, string(body))
		require.Empty(t, r.Errors, r.Raw)
		assert.Contains(t, r.Raw, `"addPackage":`)
	})
	t.Run("clean bodies are untouched", func(t *testing.T) {
		r := call(t, s, token, compasstest.DefaultTenant, `query($id: ID!) { application(id: $id) { bundles { totalCount } } }`, map[string]any{"id": stored.ID})
		require.Empty(t, r.Errors, r.Raw)
		assert.Contains(t, r.Raw, `"bundles":{`)
	})
}

func TestLegacyRewriteOfValues(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	tests := []struct{ sent, stored string }{
		{"packageID", "bundleID"},
		{"addPackage here", "addBundle here"},
		{"packages: [1]", "bundles: [1]"},
		{"x packages {", "x bundles {"},
		{"mode: PACKAGE", "mode: BUNDLE"},
		{"package( id: 1", "bundle( id: 1"},
		{"a package of things", "a package of things"},
		{"Packages: [", "Packages: ["},
	}
	for i, tt := range tests {
		t.Run(tt.sent, func(t *testing.T) {
			name := fmt.Sprintf("v-%d", i)
			do(t, s, `mutation($in: ApplicationRegisterInput!) { registerApplication(in: $in) { id } }`,
				map[string]any{"in": map[string]any{"name": name, "description": tt.sent}})
			stored, ok := s.Application(compasstest.DefaultTenant, name)
			require.True(t, ok)
			assert.Equal(t, tt.stored, stored.Description)
		})
	}
}
