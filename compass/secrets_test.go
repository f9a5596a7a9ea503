package compass

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// Canaries: secrets with characters that differ between their encodings.
const (
	canaryClientSecret = `cs-C4n4ry/+&ü"<>=`
	canaryUser         = `us-C4n4ry/+&é`
	canaryOrg          = `or-C4n4ry"<x>`
	canaryElement      = `el-C4n4ry==/+`
	rotatedUser        = `ur-R0t4t3d/+&é`
	rotatedOrg         = `og-R0t4t3d"<x>`
	rotatedElement     = `em-R0t4t3d==/+`
)

var (
	canaryCredential = "User " + canaryUser + ", Organization " + canaryOrg + ", Element " + canaryElement
	// rotatedCredential is what an update writes: known only from then on.
	rotatedCredential = "User " + rotatedUser + ", Organization " + rotatedOrg + ", Element " + rotatedElement
)

// canaryForms lists every form in which a secret must never appear: as is,
// URL-encoded, JSON-escaped and base64-encoded.
func canaryForms(secrets ...string) []string {
	var forms []string
	for _, s := range secrets {
		j, _ := json.Marshal(s)
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s), string(j[1:len(j)-1]),
			base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)))
	}
	return forms
}

var bearerPattern = regexp.MustCompile(`ct_[0-9a-f]{16,}`)

// TestSecretsNeverLeaveThroughAnEcho runs failures against a Director that
// quotes each request (its headers, Authorization included, and its raw
// body) in every error, and checks that no secret reaches an error or a
// debug log record.
func TestSecretsNeverLeaveThroughAnEcho(t *testing.T) {
	spec := testSpec(`{"openapi":"3.0.0"}`)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(compasstest.DefaultClientID)+":"+url.QueryEscape(canaryClientSecret)))
	tests := []struct {
		name   string
		fault  func(*compasstest.Server)
		mutate func(*Config)
		run    func(*Registry) error
		// redactions is how many secrets the quoted part of the echo holds
		// at least (the bearer token, the Basic credentials, the
		// Authorization header of the bundle).
		redactions int
	}{
		{name: "GraphQL error on register", fault: func(s *compasstest.Server) {
			s.AddFault("registerApplication", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
		}, redactions: 1},
		{name: "HTTP 500 on register", fault: func(s *compasstest.Server) {
			s.AddFault("registerApplication", compasstest.Fault{Status: 500, Times: 10})
		}, redactions: 1},
		{name: "HTTP 400 (unknown tenant)", mutate: func(c *Config) { c.Tenant = "00000000-0000-0000-0000-000000000000" }, redactions: 1},
		{name: "HTTP 422 from a forced status", fault: func(s *compasstest.Server) {
			s.AddFault("registerApplication", compasstest.Fault{Status: 422, Times: 1})
		}, redactions: 1},
		{name: "GraphQL error on the bundle update", fault: func(s *compasstest.Server) {
			s.AddFault("updateBundle", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
		}, run: func(r *Registry) error {
			regs, err := r.Applications(t.Context())
			if err != nil || len(regs) == 0 {
				return err
			}
			app := desired("1")
			app.Credential = redact.Secret(rotatedCredential)
			return r.Update(t.Context(), regs[0], app, ocsync.Update{Fields: []string{ocsync.FieldCredential}, State: stateOf(app, spec)})
		}, redactions: 2},
		{name: "token endpoint refusal", mutate: func(c *Config) { c.ClientSecret = redact.Secret(canaryClientSecret + "x") }, redactions: 1},
		{name: "token endpoint failure", fault: func(s *compasstest.Server) {
			s.AddFault(compasstest.TokenOperation, compasstest.Fault{Status: 503, Times: 10})
		}, redactions: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t,
				compasstest.WithEcho(),
				compasstest.WithClients(compasstest.Client{ID: compasstest.DefaultClientID, Secret: canaryClientSecret}),
			)
			var logs bytes.Buffer
			cfg := testConfig(srv)
			cfg.ClientSecret = canaryClientSecret
			cfg.MaxRetries = 1
			cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			if tt.mutate != nil {
				tt.mutate(&cfg)
			}
			reg := newRegistry(t, cfg)
			app := desired("1")
			app.Credential = redact.Secret(canaryCredential)
			if tt.run != nil {
				require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
			}
			if tt.fault != nil {
				tt.fault(srv)
			}
			run := tt.run
			if run == nil {
				run = func(r *Registry) error { return r.Create(t.Context(), app, spec, stateOf(app, spec)) }
			}
			err := run(reg)
			require.Error(t, err)
			text := err.Error() + "\n" + logs.String()
			assert.Contains(t, text, "[request Authorization=", "the server did echo the request")
			assert.GreaterOrEqual(t, strings.Count(err.Error(), redact.Placeholder), tt.redactions, err.Error())
			for _, form := range canaryForms(canaryClientSecret, canaryCredential, canaryUser, canaryOrg, canaryElement, basic,
				rotatedCredential, rotatedUser, rotatedOrg, rotatedElement) {
				assert.NotContains(t, text, form)
			}
			assert.False(t, bearerPattern.MatchString(text), "no bearer token: %s", bearerPattern.FindString(text))
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				assert.LessOrEqual(t, len(line), 4*redact.MaxQuotedBytes, "remote text is quoted in part only")
			}
		})
	}
}
