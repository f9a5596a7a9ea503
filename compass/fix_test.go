package compass

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

const nginx502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n" +
	"<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"

// fixFields returns the Config fields the *remote.ConfigError in err's
// chain names; nil when there is none.
func fixFields(err error) []string {
	var ce *remote.ConfigError
	if !errors.As(err, &ce) {
		return nil
	}
	return ce.Fields
}

// TestErrorsSayWhatToFix checks that a failure a configuration value
// typically causes names the Config fields to check and the URL that
// answered, and never a secret.
func TestErrorsSayWhatToFix(t *testing.T) {
	loginPage := []byte("<!DOCTYPE html><html><head><title>Sign in · Example Corp</title></head><body><form>" +
		compasstest.DefaultClientSecret + "</form></body></html>")
	tests := []struct {
		name      string
		configure func(cfg *Config, srv *compasstest.Server)
		op        string
		fault     compasstest.Fault
		want      []string
		fields    []string
		fatal     bool
		attempts  int // requests of op (token: token requests) sent
	}{
		{
			name:      "refused client secret",
			configure: func(cfg *Config, _ *compasstest.Server) { cfg.ClientSecret = "not-the-secret" },
			want:      []string{"invalid_client", "(HTTP 401)", "token request refused by http://127.0.0.1:", "/oauth2/token", "check ClientID, ClientSecret and TokenURL (compass.Config)"},
			fields:    []string{"ClientID", "ClientSecret", "TokenURL"},
			fatal:     true, attempts: 1,
		},
		{
			name:   "a directorURL that answers a login page",
			op:     "viewer",
			fault:  compasstest.Fault{Status: http.StatusOK, Body: loginPage, Times: 1},
			want:   []string{`compass: viewer: HTMLPage: http://127.0.0.1:`, `/graphql answered an HTML page titled "Sign in · Example Corp" (HTTP 200)`, "check DirectorURL (compass.Config)"},
			fields: []string{"DirectorURL"},
			fatal:  true, attempts: 1,
		},
		{
			name:     "a proxy's error page is summarised and retried",
			op:       "viewer",
			fault:    compasstest.Fault{Status: http.StatusBadGateway, Body: []byte(nginx502)},
			want:     []string{`answered an HTML page titled "502 Bad Gateway" (HTTP 502) after 4 attempts`},
			attempts: 4,
		},
		{
			name:   "a token URL that answers an HTML page",
			op:     compasstest.TokenOperation,
			fault:  compasstest.Fault{Status: http.StatusOK, Body: loginPage},
			want:   []string{"compass: token: HTMLPage: http://127.0.0.1:", `/oauth2/token answered an HTML page titled "Sign in · Example Corp" (HTTP 200)`, "check TokenURL (compass.Config)"},
			fields: []string{"TokenURL"},
			fatal:  true, attempts: 1,
		},
		{
			name:   "a token URL that answers JSON without a token",
			op:     compasstest.TokenOperation,
			fault:  compasstest.Fault{Status: http.StatusOK, Body: []byte(`{"status":"UP"}`), ContentType: "application/json"},
			want:   []string{"compass: token: NotAToken: http://127.0.0.1:", "/oauth2/token answered a JSON object without access_token instead of a token (HTTP 200)", "check TokenURL"},
			fields: []string{"TokenURL"},
			fatal:  true, attempts: 1,
		},
		{
			name:   "a token URL that answers plain text",
			op:     compasstest.TokenOperation,
			fault:  compasstest.Fault{Status: http.StatusOK, Body: []byte("OK"), ContentType: "application/octet-stream"},
			want:   []string{"answered a body that is not a JSON object instead of a token", "check TokenURL"},
			fields: []string{"TokenURL"},
			fatal:  true, attempts: 1,
		},
		{
			name:   "a token URL that is not found",
			op:     compasstest.TokenOperation,
			fault:  compasstest.Fault{Status: http.StatusNotFound, Body: []byte(`{"error":"not_found"}`), ContentType: "application/json"},
			want:   []string{"(HTTP 404)", "check TokenURL"},
			fields: []string{"TokenURL"},
			fatal:  true, attempts: 1,
		},
		{
			name:     "a token endpoint behind a failing proxy is retried",
			op:       compasstest.TokenOperation,
			fault:    compasstest.Fault{Status: http.StatusBadGateway, Body: []byte(nginx502)},
			want:     []string{`answered an HTML page titled "502 Bad Gateway" (HTTP 502)`},
			attempts: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			cfg := testConfig(srv)
			if tt.configure != nil {
				tt.configure(&cfg, srv)
			}
			if tt.op != "" {
				srv.AddFault(tt.op, tt.fault)
			}
			r := newRegistry(t, cfg)
			_, _, err := r.Viewer(t.Context())
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Equal(t, tt.fields, fixFields(err))
			assert.Equal(t, tt.fatal, errors.Is(err, ocsync.ErrFatal), "fatal")
			assert.Equal(t, !tt.fatal, remote.Retryable(err), "retryable")
			assert.NotContains(t, err.Error(), "nginx/1.25.3", "a page is never quoted")
			assert.NotContains(t, err.Error(), "<", "no markup")
			for _, s := range canaryForms(compasstest.DefaultClientSecret, "not-the-secret") {
				assert.NotContains(t, err.Error(), s)
			}
			op := tt.op
			if op == "" || op == compasstest.TokenOperation {
				assert.Equal(t, tt.attempts, r.TokenFetches(), "token requests")
			} else {
				assert.Equal(t, tt.attempts, srv.Count(op), "requests of %s", op)
			}
		})
	}
}
