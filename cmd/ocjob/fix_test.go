package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// TestErrorsNameTheKeysToFix checks that a run ended by a remote's answer
// that a configuration value typically causes names the configuration
// keys to check in the log (stderr) and in the JSON document, and no
// secret.
func TestErrorsNameTheKeysToFix(t *testing.T) {
	login := "<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body>x</body></html>"
	tests := []struct {
		name  string
		edit  func(doc map[string]any)
		fault func(f *fixture)
		want  []string
	}{
		{
			name: "refused client credentials",
			edit: func(doc map[string]any) { doc["compass"].(map[string]any)["clientSecret"] = "wrong-" + clientSecret },
			want: []string{"invalid_client", "/oauth2/token", "check compass.clientID, compass.clientSecret and compass.tokenUrl"},
		},
		{
			name: "refused user secret",
			edit: func(doc map[string]any) { doc["openConnectors"].(map[string]any)["userSecret"] = "wrong-" + userSecret },
			want: []string{"401 Unauthorized", "check openConnectors.userSecret and openConnectors.organizationSecret"},
		},
		{
			name: "a directorURL that answers an HTML page",
			fault: func(f *fixture) {
				f.cp.AddFault("applications", compasstest.Fault{Status: http.StatusOK, Body: []byte(login)})
			},
			want: []string{`/director/graphql answered an HTML page titled \"Welcome to nginx!\" (HTTP 200)`, "check compass.directorURL"},
		},
		{
			name: "a token URL that answers no token",
			fault: func(f *fixture) {
				f.cp.AddFault(compasstest.TokenOperation, compasstest.Fault{Status: http.StatusOK, Body: []byte(`{"ok":true}`), ContentType: "application/json"})
			},
			want: []string{"NotAToken", "/oauth2/token answered a JSON object without access_token", "check compass.tokenUrl"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 2)
			if tt.fault != nil {
				tt.fault(f)
			}
			r := f.run(t, tt.edit, "-output", "json")
			require.Equal(t, ocsync.ExitFailed, r.code, "stderr: %s", r.stderr)
			doc := decodeDocument(t, r.stdout)
			errs := strings.Join(doc.Errors, "\n")
			for _, w := range tt.want {
				assert.Contains(t, r.stderr, w, "the log")
				assert.Contains(t, strings.ReplaceAll(errs, `"`, `\"`), w, "the document's errors")
			}
			for _, line := range strings.Split(r.stderr, "\n") {
				if strings.Contains(line, "planning failed") {
					assert.NotContains(t, line, ".Config)", "the controller's own record names keys too")
				}
			}
			assert.NotContains(t, errs, "(compass.Config)", "keys, not Go fields")
			assert.NotContains(t, errs, "(openconnectors.Config)", "keys, not Go fields")
			assertNoSecrets(t, r, 2)
			for _, s := range []string{"wrong-" + userSecret, "wrong-" + clientSecret} {
				assert.NotContains(t, r.stdout+r.stderr, s)
			}
		})
	}
}
