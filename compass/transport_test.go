package compass

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// legacyPattern matches what the Director's package-to-bundle shim rewrites.
var legacyPattern = regexp.MustCompile(`(?i)package`)

func TestEscapeLegacyStrings(t *testing.T) {
	values := []string{
		"plain text without the word",
		"parameter packageID and addPackage",
		"yaml:\n packages: [a, b]\nmode: PACKAGE",
		"UPDATEPACKAGE deletePackage packageInstanceAuth",
		"control \x1ackage and \\ackage and quote\" package",
		"ünïcode package ☕",
		"ackage at start, ends with p-ackage",
	}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			doc, err := json.Marshal(map[string]any{"query": "mutation { x }", "variables": map[string]any{"v": v, "packageKey": v}})
			require.NoError(t, err)
			out := EscapeLegacyStrings(doc)
			assert.False(t, legacyPattern.Match(out), "escaped body still holds a legacy string: %s", out)
			var back map[string]any
			require.NoError(t, json.Unmarshal(out, &back), "escaped body is not valid JSON: %s", out)
			var want map[string]any
			require.NoError(t, json.Unmarshal(doc, &want))
			assert.Equal(t, want, back)
		})
	}
}

func TestEscapeLegacyStringsUnchanged(t *testing.T) {
	doc := []byte(`{"query":"query { applications { data { id } } }","variables":{"a":"\u001a b"}}`)
	assert.Equal(t, string(doc), string(EscapeLegacyStrings(doc)))
}

// redirector answers every request with a redirect to target, whose query
// must never reach an error.
func redirector(t *testing.T, target string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.Path+"?leak=q-s3cr3t", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRedirectsAreRefused: neither the GraphQL requests nor the token
// request follow a redirect, so no body, token, tenant or client
// credential is sent anywhere else; the error names the location's host.
func TestRedirectsAreRefused(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	t.Cleanup(target.Close)
	targetURL, err := url.Parse(target.URL)
	require.NoError(t, err)
	hop := redirector(t, target.URL)
	srv := newServer(t)

	tests := []struct {
		name   string
		mutate func(*Config)
		op     string
	}{
		{"GraphQL endpoint", func(c *Config) { c.DirectorURL = hop.URL + compasstest.GraphQLPath }, "viewer"},
		{"token endpoint", func(c *Config) { c.TokenURL = hop.URL + compasstest.TokenPath }, "token"},
		{"with a caller's policy that allows everything", func(c *Config) {
			c.DirectorURL = hop.URL + compasstest.GraphQLPath
			c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
		}, "viewer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(srv)
			tt.mutate(&cfg)
			_, _, err := newRegistry(t, cfg).Viewer(t.Context())
			require.Error(t, err)
			assert.ErrorIs(t, err, ocsync.ErrFatal, "retrying cannot help")
			assert.False(t, remote.Retryable(err))
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "RedirectRefused", ce.Name)
			assert.Equal(t, tt.op, ce.Operation)
			assert.Contains(t, err.Error(), targetURL.Host, "names the location's host")
			assert.NotContains(t, err.Error(), "q-s3cr3t", "never its query")
			assert.Zero(t, reached.Load(), "the target receives nothing")
		})
	}
}

// TestCheckRedirectCombinesTheCallersPolicy: a redirect the shared policy
// allows (a GET to the same host) is still refused by the caller's.
func TestCheckRedirectCombinesTheCallersPolicy(t *testing.T) {
	first, err := http.NewRequest(http.MethodGet, "https://compass.example.com/a", nil)
	require.NoError(t, err)
	next, err := http.NewRequest(http.MethodGet, "https://compass.example.com/b", nil)
	require.NoError(t, err)
	refused := errors.New("caller refuses")
	calls := 0
	check := endpoint.WithCaller(func(*http.Request, []*http.Request) error { calls++; return refused })
	assert.ErrorIs(t, check(next, []*http.Request{first}), refused)
	assert.Equal(t, 1, calls)
	assert.NoError(t, endpoint.WithCaller(nil)(next, []*http.Request{first}))

	other, err := http.NewRequest(http.MethodGet, "https://elsewhere.example.com/b", nil)
	require.NoError(t, err)
	assert.ErrorIs(t, check(other, []*http.Request{first}), endpoint.ErrRedirectRefused)
	assert.Equal(t, 1, calls, "the shared policy refuses first")
}

// TestPrivateCA: a Director behind a certificate of a private authority is
// reached when RootCAs trusts it, and refused otherwise.
func TestPrivateCA(t *testing.T) {
	srv := newServer(t)
	backend, err := url.Parse(srv.URL)
	require.NoError(t, err)
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(backend))
	t.Cleanup(front.Close)
	pool := x509.NewCertPool()
	pool.AddCert(front.Certificate())

	cfg := testConfig(srv)
	cfg.DirectorURL = front.URL + compasstest.GraphQLPath
	cfg.TokenURL = front.URL + compasstest.TokenPath
	cfg.MaxRetries = -1

	_, _, err = newRegistry(t, cfg).Viewer(t.Context())
	require.Error(t, err, "the system pool does not know the test authority")
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "token", ce.Operation)

	cfg.RootCAs = pool
	id, _, err := newRegistry(t, cfg).Viewer(t.Context())
	require.NoError(t, err)
	assert.Equal(t, compasstest.DefaultIntegrationSystemID, id)
}

// TestAnswerSizeIsBounded: an answer larger than MaxResponseBytes fails
// the call instead of being read whole.
func TestAnswerSizeIsBounded(t *testing.T) {
	d := newScripted(t, func(string, int, map[string]any) string {
		return `{"data":{"viewer":{"id":"` + strings.Repeat("x", MaxResponseBytes) + `","type":"INTEGRATION_SYSTEM"}}}`
	})
	cfg := d.config(0)
	// Reading 32 MiB takes long on a busy machine; the time is not what is
	// tested, so it never runs out first.
	cfg.Timeout = time.Hour
	_, _, err := newRegistry(t, cfg).Viewer(t.Context())
	require.Error(t, err)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "ResponseTooLarge", ce.Name)
	assert.ErrorIs(t, err, ErrMalformed)
}
