package compasstest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

var rw = []string{"application:read", "application:write"}

type gqlError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		ErrorCode int    `json:"error_code"`
		Error     string `json:"error"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Raw    string
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
}

// call sends one GraphQL request with the given token and tenant header.
func call(t testing.TB, s *compasstest.Server, token, tenant, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	return callRaw(t, s, token, tenant, string(body))
}

func callRaw(t testing.TB, s *compasstest.Server, token, tenant, body string) gqlResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.GraphQLURL(), strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if tenant != "" {
		req.Header.Set("tenant", tenant)
	}
	res, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := gqlResponse{Status: res.StatusCode, Raw: string(raw)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return out
}

// do calls with full scopes in the default tenant and requires success.
func do(t *testing.T, s *compasstest.Server, query string, vars map[string]any) map[string]json.RawMessage {
	t.Helper()
	r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, query, vars)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	require.Empty(t, r.Errors, r.Raw)
	return r.Data
}

func decode[T any](t testing.TB, raw json.RawMessage) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(raw, &v), string(raw))
	return v
}

func tokenRequest(t *testing.T, s *compasstest.Server, id, secret string, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	if !basic {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.TokenURL(), bytes.NewBufferString(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(id, secret)
	}
	res, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return res.StatusCode, out
}

const registerMutation = `mutation Reg($in: ApplicationRegisterInput!) {
  registerApplication(in: $in) { id name labels status { condition } baseUrl
    bundles { totalCount data { id name defaultInstanceAuth { additionalHeadersSerialized }
      apiDefinitions { data { id name targetURL spec { data type format } } } } } }
}`

type appOut struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Labels map[string]any `json:"labels"`
	Status struct {
		Condition string `json:"condition"`
	} `json:"status"`
	BaseURL *string `json:"baseUrl"`
	Bundles struct {
		TotalCount int `json:"totalCount"`
		Data       []struct {
			ID                  string `json:"id"`
			Name                string `json:"name"`
			DefaultInstanceAuth *struct {
				AdditionalHeadersSerialized string `json:"additionalHeadersSerialized"`
			} `json:"defaultInstanceAuth"`
			APIDefinitions struct {
				Data []struct {
					ID        string `json:"id"`
					Name      string `json:"name"`
					TargetURL string `json:"targetURL"`
					Spec      struct {
						Data string `json:"data"`
					} `json:"spec"`
				} `json:"data"`
			} `json:"apiDefinitions"`
		} `json:"data"`
	} `json:"bundles"`
}

func registerInput(name string, labels map[string]any) map[string]any {
	return map[string]any{
		"name": name, "integrationSystemID": compasstest.DefaultIntegrationSystemID, "labels": labels,
		"statusCondition": "CONNECTED",
		"bundles": []any{map[string]any{
			"name":                "hubspot",
			"defaultInstanceAuth": map[string]any{"additionalHeadersSerialized": `{"Authorization":["User u, Organization o, Element e"]}`},
			"apiDefinitions": []any{map[string]any{
				"name": "HubSpot: one", "targetURL": "https://oc.example.com/elements/api-v2",
				"spec": map[string]any{"type": "OPEN_API", "format": "JSON", "data": `{"swagger":"2.0"}`},
			}},
		}},
	}
}

func register(t *testing.T, s *compasstest.Server, name string, labels map[string]any) appOut {
	t.Helper()
	data := do(t, s, registerMutation, map[string]any{"in": registerInput(name, labels)})
	return decode[appOut](t, data["registerApplication"])
}
