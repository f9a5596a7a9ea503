package openconnectors

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// forms are the shapes in which a server may echo a secret.
func forms(secret string) map[string]string {
	j, _ := json.Marshal(secret)
	return map[string]string{
		"raw":         secret,
		"query":       url.QueryEscape(secret),
		"path":        url.PathEscape(secret),
		"json":        string(j[1 : len(j)-1]),
		"base64":      base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64url":   base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"base64nopad": base64.RawStdEncoding.EncodeToString([]byte(secret)),
	}
}

func assertNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for form, v := range forms(s) {
			assert.NotContains(t, text, v, "a secret in %s form", form)
		}
	}
}

func TestEchoedSecretsAreScrubbed(t *testing.T) {
	// Secrets with characters that JSON, URL and base64 encode differently.
	const user, org = `us<e&r"s\ecret+/=`, "org+s/ecr=t=="
	const token1, token2 = "Ab3+xYz/0k9=tok1", `tok<2>&"\`
	auth := "User " + user + ", Organization " + org
	element1 := auth + ", Element " + token1
	secrets := []string{user, org, auth, token1, token2, element1, auth + ", Element " + token2}

	newEcho := func(t *testing.T, scrub *redact.Scrubber) fixture {
		f := newFixture(t, func(c *Config) {
			c.UserSecret, c.OrganizationSecret = user, org
			c.PageSize = 2
			c.MaxRetries = 1
			c.Scrubber = scrub
		}, octest.WithSecrets(user, org), octest.WithEcho())
		f.srv.Put(
			octest.Instance{ID: 1, Name: "one", Token: token1, Element: octest.Element{Key: "k", Name: "K"}},
			octest.Instance{ID: 2, Name: "two", Token: token2, Element: octest.Element{Key: "k", Name: "K"}},
			octest.Instance{ID: 3, Name: "three", Token: "tttt", Element: octest.Element{Key: "k", Name: "K"}},
		)
		return f
	}
	// echoBody is an error body quoting every secret in every form, and a
	// non-JSON variant of it.
	var all []string
	for _, s := range secrets {
		for _, v := range forms(s) {
			all = append(all, v)
		}
	}
	jsonBody, _ := json.Marshal(map[string]string{
		"requestId": token1, "message": strings.Join(all, " | "), "providerMessage": element1,
	})
	rawBody := []byte("<html>" + strings.Join(all, "<br>") + "</html>")
	echoHeader := http.Header{"Elements-Request-Id": {auth}, "X-Echo": {element1}}

	t.Run("error bodies of the listing", func(t *testing.T) {
		for _, body := range [][]byte{nil, jsonBody, rawBody} {
			f := newEcho(t, nil)
			f.srv.AddFault(octest.EndpointInstances, octest.Fault{Times: 1}) // page 1 lists tokens 1 and 2
			f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 503, Body: body, Header: echoHeader})
			_, err := f.c.Instances(t.Context())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "503")
			assert.Contains(t, err.Error(), redact.Placeholder)
			assertNoSecret(t, err.Error(), secrets...)
			assertNoSecret(t, f.logs.String(), secrets...)
			assert.Contains(t, f.logs.String(), "level=DEBUG", "debug records were written")
		}
	})
	t.Run("the platform's own echo on a refusal", func(t *testing.T) {
		f := newEcho(t, nil)
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 401})
		_, err := f.c.Instances(t.Context())
		require.ErrorIs(t, err, ocsync.ErrFatal)
		assert.Contains(t, err.Error(), "[Authorization: "+redact.Placeholder+"]", "the echo was there and is scrubbed")
		assertNoSecret(t, err.Error(), secrets...)
		assertNoSecret(t, f.logs.String(), secrets...)
	})
	t.Run("document errors after a listing", func(t *testing.T) {
		scrub := redact.NewScrubber()
		f := newEcho(t, scrub)
		_, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		for _, body := range [][]byte{nil, jsonBody, rawBody} {
			f.srv.ClearFaults()
			f.srv.AddFault(octest.EndpointDocs, octest.Fault{Status: 500, Body: body, Header: echoHeader})
			_, err = f.c.Docs(t.Context(), 1)
			require.Error(t, err)
			assertNoSecret(t, err.Error(), secrets...)
		}
		f.srv.ClearFaults()
		f.srv.SetSpec(2, []byte(`{"swagger":"`+token2+`","info":{},"paths":{}}`))
		_, err = f.c.Docs(t.Context(), 2)
		require.ErrorIs(t, err, remote.ErrInvalidSpec)
		assertNoSecret(t, err.Error(), token2)
		assertNoSecret(t, f.logs.String(), secrets...)
		assertNoSecret(t, scrub.Quote(strings.Join(all, " ")), secrets...) // the shared scrubber knows them all
	})
	t.Run("transport error texts", func(t *testing.T) {
		// A redirect to a host named like the secret: the refusal names the
		// host, which is scrubbed.
		const hostSecret = "sec1ret7host"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+hostSecret+".invalid/x", http.StatusFound)
		}))
		t.Cleanup(srv.Close)
		logs := &logBuffer{}
		c, err := NewClient(Config{Host: srv.URL, UserSecret: hostSecret, OrganizationSecret: "org1",
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		require.NoError(t, err)
		_, err = c.Instances(t.Context())
		require.ErrorIs(t, err, endpoint.ErrRedirectRefused)
		assert.Contains(t, err.Error(), "redirect to host")
		assertNoSecret(t, err.Error(), hostSecret)
		assertNoSecret(t, logs.String(), hostSecret)
	})
}

func TestRedirects(t *testing.T) {
	target := octest.NewServer(octest.WithInstances(instances(2)...))
	t.Cleanup(target.Close)
	targetURL, err := url.Parse(target.URL)
	require.NoError(t, err)
	redirector := func(to string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to+r.URL.Path+"?secretQuery=hidden&"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	newClient := func(t *testing.T, host string, hc *http.Client, pool *x509.CertPool) *Client {
		c, err := NewClient(Config{Host: host, UserSecret: redact.Secret(target.UserSecret),
			OrganizationSecret: redact.Secret(target.OrganizationSecret), HTTPClient: hc, RootCAs: pool,
			Backoff: func(int, time.Duration) time.Duration { return 0 }})
		require.NoError(t, err)
		return c
	}
	refused := func(t *testing.T, c *Client, wantHost, want string) {
		t.Helper()
		before := target.Requests()
		_, err := c.Instances(t.Context())
		require.ErrorIs(t, err, endpoint.ErrRedirectRefused)
		assert.NotErrorIs(t, err, remote.ErrRetryable, "a refused redirect is not retried")
		assert.Contains(t, err.Error(), fmt.Sprintf("redirect to host %q", wantHost))
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), "secretQuery")
		assert.NotContains(t, err.Error(), "hidden")
		assert.NotContains(t, err.Error(), "/elements/api-v2/instances", "no path either")
		assert.Equal(t, before, target.Requests(), "the credentials never reached the other location")
	}

	t.Run("another port", func(t *testing.T) {
		r := redirector(target.URL)
		refused(t, newClient(t, r.URL, nil, nil), targetURL.Host, "is not the configured host")
	})
	t.Run("another host", func(t *testing.T) {
		r := redirector("http://localhost:" + targetURL.Port())
		refused(t, newClient(t, r.URL, nil, nil), "localhost:"+targetURL.Port(), "is not the configured host")
	})
	t.Run("https to http", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+r.URL.Path+"?secretQuery=hidden", http.StatusFound)
		}))
		t.Cleanup(srv.Close)
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		refused(t, newClient(t, srv.URL, nil, pool), targetURL.Host, "would leave https for http")
	})
	t.Run("a caller's policy cannot widen ours", func(t *testing.T) {
		r := redirector(target.URL)
		lenient := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
		refused(t, newClient(t, r.URL, lenient, nil), targetURL.Host, "is not the configured host")
	})

	// A same-host redirect: /elements/api-v2/instances moves to
	// /elements/api-v2/moved/instances on the same server.
	var moved *httptest.Server
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(targetURL)
		pr.Out.URL.Path = strings.Replace(pr.In.URL.Path, "/moved", "", 1)
		pr.Out.Host = targetURL.Host
	}}
	moved = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/moved/") {
			to := strings.Replace(r.URL.Path, "/elements/api-v2/", "/elements/api-v2/moved/", 1)
			http.Redirect(w, r, to+"?"+r.URL.RawQuery, http.StatusFound)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(moved.Close)
	t.Run("a same-host redirect of a GET is followed", func(t *testing.T) {
		got, err := newClient(t, moved.URL, nil, nil).Instances(t.Context())
		require.NoError(t, err, "the Authorization header went along to the same host")
		assert.Equal(t, []int64{1, 2}, ids(got))
		assert.Equal(t, "200", target.LastQuery(octest.EndpointInstances).Get("pageSize"), "the query went along")
	})
	t.Run("a caller's policy applies to what ours accepts", func(t *testing.T) {
		strict := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return fmt.Errorf("no redirects here") }}
		_, err := newClient(t, moved.URL, strict, nil).Instances(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no redirects here")
		assert.NotErrorIs(t, err, endpoint.ErrRedirectRefused)
	})
}

func TestPrivateCA(t *testing.T) {
	backend := octest.NewServer(octest.WithInstances(instances(3)...))
	t.Cleanup(backend.Close)
	u, err := url.Parse(backend.URL)
	require.NoError(t, err)
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	t.Cleanup(front.Close)
	pool := x509.NewCertPool()
	pool.AddCert(front.Certificate())
	cfg := Config{Host: front.URL, UserSecret: redact.Secret(backend.UserSecret), OrganizationSecret: redact.Secret(backend.OrganizationSecret)}

	t.Run("trusted through RootCAs", func(t *testing.T) {
		cfg := cfg
		cfg.RootCAs = pool
		c, err := NewClient(cfg)
		require.NoError(t, err)
		got, err := c.Instances(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 2, 3}, ids(got))
		_, err = c.Docs(t.Context(), 1)
		require.NoError(t, err)
	})
	t.Run("refused without it", func(t *testing.T) {
		backend.ResetCounts()
		c, err := NewClient(cfg)
		require.NoError(t, err)
		_, err = c.Instances(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "certificate")
		assert.NotErrorIs(t, err, remote.ErrRetryable, "an untrusted certificate does not become trusted by retrying")
		assert.Zero(t, backend.Requests(), "nothing was sent to an untrusted server")
	})
}

func TestBodiesAreBoundedInTime(t *testing.T) {
	doc := octest.SwaggerDocument("slow", 2000)
	t.Run("a document that trickles in", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.SpecTimeout = 100 * time.Millisecond; c.MaxRetries = 1 },
			octest.WithInstances(instances(1)...))
		f.srv.SetSpec(1, doc)
		f.srv.AddFault(octest.EndpointDocs, octest.Fault{Trickle: 10 * time.Millisecond}) // 20 s for the whole document
		_, err := f.c.Docs(t.Context(), 1)
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, remote.ErrRetryable)
		assert.Contains(t, err.Error(), "instance 1: GET /instances/1/docs: no complete response within 100ms")
		assert.Equal(t, 2, f.srv.Count(octest.EndpointDocs), "each attempt has its own time")
	})
	t.Run("one trickling attempt, then a good one", func(t *testing.T) {
		// 20 s for the trickling attempt, 2 s each: the good attempt has
		// ample time on a busy machine.
		f := newFixture(t, func(c *Config) { c.SpecTimeout = 2 * time.Second }, octest.WithInstances(instances(1)...))
		f.srv.SetSpec(1, doc)
		f.srv.AddFault(octest.EndpointDocs, octest.Fault{Trickle: 10 * time.Millisecond, Times: 1})
		got, err := f.c.Docs(t.Context(), 1)
		require.NoError(t, err)
		assert.Equal(t, doc, got)
	})
	t.Run("a listing page that trickles in", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = -1 },
			octest.WithInstances(instances(20)...))
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Trickle: 10 * time.Millisecond})
		got, err := f.c.Instances(t.Context())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Nil(t, got)
		assert.Contains(t, err.Error(), "page 1: GET /instances: no complete response within 50ms")
	})
}

func TestRetryMechanics(t *testing.T) {
	t.Run("each retry is logged once, with its attempt", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.MaxRetries = 2 }, octest.WithInstances(instances(1)...))
		f.srv.AddFault(octest.EndpointDocs, octest.Fault{Status: 502})
		_, err := f.c.Docs(t.Context(), 1)
		require.Error(t, err)
		logs := f.logs.String()
		assert.Equal(t, 2, strings.Count(logs, "openconnectors: retrying"), "no record after the last attempt")
		assert.Contains(t, logs, `level=WARN msg="openconnectors: retrying" method=GET path=/instances/1/docs attempt=1 error="502 Bad Gateway"`)
		assert.Contains(t, logs, "attempt=2")
	})
	t.Run("the backoff sees attempt numbers and capped hints", func(t *testing.T) {
		var attempts []int
		var hints []time.Duration
		f := newFixture(t, func(c *Config) {
			c.MaxRetries = 3
			c.Backoff = func(attempt int, retryAfter time.Duration) time.Duration {
				attempts, hints = append(attempts, attempt), append(hints, retryAfter)
				return 0
			}
		}, octest.WithInstances(instances(1)...))
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 429, RetryAfter: "3600", Times: 1})
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 503, RetryAfter: "soon", Times: 1})
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 500, RetryAfter: "2", Times: 1})
		_, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2, 3}, attempts)
		assert.Equal(t, []time.Duration{remote.MaxRetryWait, 0, 2 * time.Second}, hints)
	})
	t.Run("the wait is bounded by remote.RetryWait", func(t *testing.T) {
		f := newFixture(t, func(c *Config) {
			c.Backoff = func(int, time.Duration) time.Duration { return time.Hour }
		})
		resp := &resty.Response{
			Request:     &resty.Request{Attempt: 1},
			RawResponse: &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"3600"}}},
		}
		wait, err := f.c.retryWait(nil, resp)
		require.NoError(t, err)
		assert.Equal(t, remote.MaxRetryWait, wait)
		assert.Equal(t, remote.MaxRetryWait, f.c.list.RetryMaxWaitTime)
		assert.Equal(t, remote.MaxRetryWait, f.c.docs.RetryMaxWaitTime)

		f = newFixture(t, func(c *Config) { c.Backoff = func(int, time.Duration) time.Duration { return 0 } })
		wait, err = f.c.retryWait(nil, resp)
		require.NoError(t, err)
		assert.Equal(t, time.Nanosecond, wait, "zero stays (almost) zero instead of resty's own backoff")
	})
	t.Run("errors that are not worth a retry", func(t *testing.T) {
		for _, status := range []int{400, 401, 403, 404, 405, 406, 409} {
			f := newFixture(t, nil, octest.WithInstances(instances(1)...))
			f.srv.AddFault(octest.EndpointDocs, octest.Fault{Status: status})
			_, err := f.c.Docs(t.Context(), 1)
			require.Error(t, err)
			assert.Equal(t, 1, f.srv.Count(octest.EndpointDocs), "status %d", status)
			assert.NotContains(t, f.logs.String(), "retrying")
		}
	})
}

// assertNoPiece fails when text holds any n-byte piece of a secret: a cut
// secret is no longer recognised by a Scrubber, and its readable part must
// not be quoted either.
func assertNoPiece(t *testing.T, text string, n int, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for i := 0; i+n <= len(s); i++ {
			if strings.Contains(text, s[i:i+n]) {
				t.Errorf("text holds bytes %d to %d of a secret of %d bytes", i, i+n, len(s))
			}
		}
	}
}

func TestSpecVersionIsScrubbedBeforeItIsCut(t *testing.T) {
	const user, org = "u-7c1f0a9e2b4d6f8a", "o-3e5a7c9b1d2f4a6c8e0b2d4f6a8c0e1f" // org: 34 bytes, longer than the quoted version
	f := newFixture(t, func(c *Config) { c.UserSecret, c.OrganizationSecret = user, org },
		octest.WithSecrets(user, org), octest.WithInstances(instances(1)...))
	for _, doc := range []string{`{"swagger":"` + org + `"}`, `{"openapi":"` + org + `","info":{}}`} {
		f.srv.SetSpec(1, []byte(doc))
		_, err := f.c.Docs(t.Context(), 1)
		require.ErrorIs(t, err, remote.ErrInvalidSpec)
		assert.Contains(t, err.Error(), "unsupported")
		assert.Contains(t, err.Error(), redact.Placeholder, "the version was the secret")
		assertNoPiece(t, err.Error(), 8, user, org)
	}
}

func TestLongErrorBodyIsScrubbedBeforeItIsCut(t *testing.T) {
	// Secrets that shrink when scrubbed move text from far into a body to
	// its start: 41 copies of the Authorization value (96 bytes each), then
	// three org secrets and a user secret (together 140 bytes, 40 once
	// scrubbed), put the next org secret at byte 4076 of the body, 20 bytes
	// before the old cut at 4096 and well inside the quoted 512 bytes
	// once what comes before it is scrubbed.
	const user = "U1a2b3c4d5e6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t1u2" // 44 bytes
	const org = "O9z8y7x6w5v4u3t2s1r0q9p8o7n6m5l4"              // 32 bytes
	require.Len(t, user, 44)
	require.Len(t, org, 32)
	auth := "User " + user + ", Organization " + org
	require.Len(t, auth, 96)
	body := strings.Repeat(auth, 41) + org + org + org + user
	const oldCut = 8 * redact.MaxQuotedBytes
	require.Equal(t, oldCut-20, len(body), "the next secret straddles the old cut")
	body += org + " and the rest of the page"

	for _, ep := range []octest.Endpoint{octest.EndpointInstances, octest.EndpointDocs} {
		f := newFixture(t, func(c *Config) { c.UserSecret, c.OrganizationSecret = user, org; c.MaxRetries = 0 },
			octest.WithSecrets(user, org), octest.WithInstances(instances(1)...))
		f.srv.AddFault(ep, octest.Fault{Status: http.StatusBadGateway, Body: []byte(body)})
		var err error
		if ep == octest.EndpointDocs {
			_, err = f.c.Docs(t.Context(), 1)
		} else {
			_, err = f.c.Instances(t.Context())
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "502")
		assert.Contains(t, err.Error(), redact.Placeholder)
		assertNoPiece(t, err.Error(), 8, user, org, auth)
		assertNoPiece(t, f.logs.String(), 8, user, org, auth)
	}
}
