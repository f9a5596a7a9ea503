package compasstest_test

import (
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest/internal/graph"
)

func TestSchemaIsTheClientSchema(t *testing.T) {
	want, err := os.ReadFile("../schema.graphql")
	require.NoError(t, err)
	assert.Equal(t, string(want), graph.SchemaSource(), "run go generate ./compass/compasstest/...")
}

func TestRegisterAndRead(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	app := register(t, s, "oc-hubspot-1", map[string]any{"open_connectors": map[string]any{"connectorInstanceID": "1"}})
	assert.Equal(t, "oc-hubspot-1", app.Name)
	assert.Equal(t, "CONNECTED", app.Status.Condition)
	assert.Equal(t, "mp-oc-hubspot-1", app.Labels["name"])
	assert.Equal(t, "false", app.Labels["managed"])
	assert.Equal(t, compasstest.DefaultIntegrationSystemID, app.Labels["integrationSystemID"])
	require.Len(t, app.Bundles.Data, 1)
	assert.Nil(t, app.Bundles.Data[0].DefaultInstanceAuth, "sanitized without bundle.instance_auths:read")
	require.Len(t, app.Bundles.Data[0].APIDefinitions.Data, 1)
	assert.Equal(t, `{"swagger":"2.0"}`, app.Bundles.Data[0].APIDefinitions.Data[0].Spec.Data)

	stored, ok := s.Application(compasstest.DefaultTenant, "oc-hubspot-1")
	require.True(t, ok)
	assert.Equal(t, app.ID, stored.ID)
	require.Len(t, stored.Bundles, 1)
	assert.Equal(t, []string{"User u, Organization o, Element e"}, stored.Bundles[0].AuthHeaders["Authorization"])
	assert.Equal(t, `{"swagger":"2.0"}`, stored.Bundles[0].APIs[0].Spec)

	withAuth := call(t, s, s.Token(compasstest.DefaultClientID, "application:read", "bundle.instance_auths:read"), compasstest.DefaultTenant,
		`query($id: ID!) { application(id: $id) { bundles { data { defaultInstanceAuth { additionalHeadersSerialized additionalHeaders } } } } }`,
		map[string]any{"id": app.ID})
	require.Empty(t, withAuth.Errors, withAuth.Raw)
	assert.Contains(t, withAuth.Raw, `"additionalHeaders":{"Authorization":["User u, Organization o, Element e"]}`)
}

func TestToken(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	form := func(scope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	}
	tests := []struct {
		name, id, secret, scope string
		basic                   bool
		status                  int
		errCode                 string
	}{
		{"basic", compasstest.DefaultClientID, compasstest.DefaultClientSecret, "application:read application:write", true, 200, ""},
		{"form", compasstest.DefaultClientID, compasstest.DefaultClientSecret, "application:read", false, 200, ""},
		{"wrong secret", compasstest.DefaultClientID, "nope", "application:read", true, 401, "invalid_client"},
		{"unknown client", "who", compasstest.DefaultClientSecret, "application:read", true, 401, "invalid_client"},
		{"scope not allowed", compasstest.DefaultClientID, compasstest.DefaultClientSecret, "bundle.instance_auths:read", true, 400, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := tokenRequest(t, s, tt.id, tt.secret, form(tt.scope), tt.basic)
			assert.Equal(t, tt.status, status)
			if tt.errCode != "" {
				assert.Equal(t, tt.errCode, body["error"])
				return
			}
			assert.Equal(t, tt.scope, body["scope"])
			assert.Equal(t, "bearer", body["token_type"])
			assert.EqualValues(t, compasstest.DefaultTokenLifetime.Seconds(), body["expires_in"])
			token, _ := body["access_token"].(string)
			r := call(t, s, token, compasstest.DefaultTenant, `{ applications { totalCount } }`, nil)
			assert.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Empty(t, r.Errors)
		})
	}
	assert.Equal(t, len(tests), s.Count(compasstest.TokenOperation))
}
