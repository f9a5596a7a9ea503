package endpoint_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

func TestIsLoopback(t *testing.T) {
	for _, h := range []string{"localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]"} {
		assert.True(t, endpoint.IsLoopback(h), h)
	}
	for _, h := range []string{"", "example.com", "10.0.0.1", "localhost.example.com", "::2", "127.0.0.1.nip.io"} {
		assert.False(t, endpoint.IsLoopback(h), h)
	}
}

func TestParseURL(t *testing.T) {
	ok := []string{"https://compass.example.com/director/graphql", "http://127.0.0.1:8080/x", "https://h:443", "http://[::1]:1/"}
	for _, raw := range ok {
		_, err := endpoint.ParseURL(raw)
		assert.NoError(t, err, raw)
	}
	bad := map[string]string{
		"":                                      "missing",
		"https://user:pw-secret@h.example.com/": "credentials",
		"https://h.example.com/?token=qsecret":  "query",
		"https://h.example.com/?":               "query",
		"https://h.example.com/#f-secret":       "fragment",
		"http://h.example.com/":                 "loopback",
		"ftp://h.example.com/":                  "https",
		"https:///path":                         "no host",
		"https://h.example.com:99999/":          "port",
		"https://h.example.com/a b":             "white space",
		"mailto:x@example.com":                  "scheme://host",
	}
	for raw, want := range bad {
		_, err := endpoint.ParseURL(raw)
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), want, raw)
		for _, secret := range []string{"pw-secret", "qsecret", "f-secret"} {
			assert.NotContains(t, err.Error(), secret, "the URL is never quoted")
		}
	}
}

func TestCheckHeaderToken(t *testing.T) {
	assert.NoError(t, endpoint.CheckHeaderToken("Ab3+xYz/0k9="))
	for v, want := range map[string]string{
		"":         "empty",
		"a b":      "white space",
		"a\tb":     "control",
		"a,b":      "comma",
		"a\u00a0":  "white space",
		"a\u0085":  "control",
		"a\x85":    "UTF-8",
		"a\r\nb":   "control",
		"\xff\xfe": "UTF-8",
	} {
		err := endpoint.CheckHeaderToken(v)
		require.Error(t, err, "%q", v)
		assert.Contains(t, err.Error(), want, "%q", v)
	}
}

// A secret is a header token long enough for the scrubber to hide: every
// value CheckSecret accepts, a Scrubber replaces.
func TestCheckSecret(t *testing.T) {
	for _, v := range []string{"s3cr", "Ab3+xYz/0k9=", "äöü!"} {
		assert.NoError(t, endpoint.CheckSecret(v), "%q", v)
		s := redact.NewScrubber()
		s.Add(v)
		assert.NotContains(t, s.Scrub("was "+v+" here"), v, "%q is scrubbed", v)
	}
	for v, want := range map[string]string{
		"":     "empty",
		"a b":  "white space",
		"a,b":  "comma",
		"s3c":  fmt.Sprintf("shorter than %d characters", redact.MinLength),
		"u1":   "shorter than",
		"äö":   "shorter than",
		"ab\n": "control",
	} {
		err := endpoint.CheckSecret(v)
		require.Error(t, err, "%q", v)
		assert.Contains(t, err.Error(), want, "%q", v)
		if v != "" {
			assert.NotContains(t, err.Error(), v, "the value is never part of the error")
		}
	}
}

func TestCheckRedirect(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "other "+r.Header.Get("Authorization"))
	}))
	defer other.Close()
	var origin *httptest.Server
	origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/final":
			_, _ = io.WriteString(w, "final")
		case "/away":
			http.Redirect(w, r, other.URL+"/steal?token=q-secret", http.StatusTemporaryRedirect)
		case "/port":
			u, _ := url.Parse(origin.URL)
			http.Redirect(w, r, "http://localhost:"+u.Port()+"/final", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	}))
	defer origin.Close()
	client := &http.Client{CheckRedirect: endpoint.CheckRedirect}

	resp, err := client.Get(origin.URL + "/same")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "final", string(body), "a GET may follow a redirect on the same host")

	for _, path := range []string{"/away", "/port", "/loop"} {
		req, _ := http.NewRequest(http.MethodGet, origin.URL+path, nil)
		req.Header.Set("Authorization", "Bearer b-secret")
		_, err := client.Do(req)
		require.Error(t, err, path)
		err = endpoint.CleanError(err)
		assert.True(t, errors.Is(err, endpoint.ErrRedirectRefused), path)
		assert.NotContains(t, err.Error(), "q-secret", "the location's query is never quoted")
	}
	_, err = client.Post(origin.URL+"/same", "application/json", strings.NewReader(`{"in":"secret body"}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "POST")
	assert.Zero(t, hits.Load(), "nothing reached another host")

	// An https origin never follows a redirect to plain http.
	from, _ := http.NewRequest(http.MethodGet, "https://api.example.com/x", nil)
	to, _ := http.NewRequest(http.MethodGet, "http://api.example.com/x", nil)
	err = endpoint.CheckRedirect(to, []*http.Request{from})
	require.ErrorIs(t, err, endpoint.ErrRedirectRefused)
	assert.Contains(t, err.Error(), `"api.example.com"`)
	up, _ := http.NewRequest(http.MethodGet, "https://api.example.com:443/x", nil)
	assert.NoError(t, endpoint.CheckRedirect(up, []*http.Request{from}))
}

func TestCertPoolAndTransport(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	// Without the CA, the server is not trusted.
	_, err := (&http.Client{Transport: endpoint.Transport(nil)}).Get(srv.URL)
	require.Error(t, err)
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown)

	pool, err := endpoint.CertPool(caFile)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: endpoint.Transport(pool)}).Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()

	none, err := endpoint.CertPool("")
	assert.NoError(t, err)
	assert.Nil(t, none)
	_, err = endpoint.CertPool(filepath.Join(dir, "missing.pem"))
	assert.ErrorContains(t, err, "missing.pem")
	junk := filepath.Join(dir, "junk.pem")
	require.NoError(t, os.WriteFile(junk, []byte("not a certificate"), 0o600))
	_, err = endpoint.CertPool(junk)
	assert.ErrorContains(t, err, "no PEM certificate")
	_, err = endpoint.CertPool(dir)
	assert.ErrorContains(t, err, "not a regular file")
}

func TestRedacted(t *testing.T) {
	assert.Equal(t, "https://h.example.com/a/b", endpoint.Redacted("https://u:p@h.example.com/a/b?token=x#y"))
	assert.Equal(t, "(unparsable URL)", endpoint.Redacted("http://[::1"))
}

func TestWithCaller(t *testing.T) {
	from, _ := http.NewRequest(http.MethodGet, "https://api.example.com/a", nil)
	same, _ := http.NewRequest(http.MethodGet, "https://api.example.com/b", nil)
	other, _ := http.NewRequest(http.MethodGet, "https://evil.example.com/b", nil)
	theirs := errors.New("the caller refuses")
	calls := 0
	check := endpoint.WithCaller(func(*http.Request, []*http.Request) error { calls++; return theirs })
	assert.ErrorIs(t, check(other, []*http.Request{from}), endpoint.ErrRedirectRefused)
	assert.Zero(t, calls, "the caller is not asked about what the rule refuses")
	assert.ErrorIs(t, check(same, []*http.Request{from}), theirs)
	assert.NoError(t, endpoint.WithCaller(nil)(same, []*http.Request{from}))
}
