package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// recorder is a proxy in front of a fake that records every Authorization
// value a client sends (each one a secret) and counts the answers that
// echo one back.
type recorder struct {
	mu     sync.Mutex
	values []string
	echoes int
}

func newRecorder(t *testing.T, target string) (*recorder, string) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		sent := resp.Request.Header.Get("Authorization")
		body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		if err != nil {
			return err
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var headers strings.Builder
		_ = resp.Header.Write(&headers)
		_, param, _ := strings.Cut(sent, " ")
		if param != "" && (strings.Contains(string(body), param) || strings.Contains(headers.String(), param)) {
			rec.mu.Lock()
			rec.echoes++
			rec.mu.Unlock()
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Authorization"); v != "" {
			rec.mu.Lock()
			if !slices.Contains(rec.values, v) {
				rec.values = append(rec.values, v)
			}
			rec.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

func (r *recorder) secrets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, v := range r.values {
		// The whole value, and what follows its scheme (a bearer token, the
		// base64 of a Basic pair, the platform's parameters).
		out = append(out, v)
		if _, param, ok := strings.Cut(v, " "); ok {
			out = append(out, param)
		}
		if b, ok := strings.CutPrefix(v, "Basic "); ok {
			if pair, err := base64.StdEncoding.DecodeString(b); err == nil {
				out = append(out, string(pair))
			}
		}
	}
	return out
}

func (r *recorder) echoCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.echoes
}

// forms are the ways a secret may show up in output.
func forms(secret string) map[string]string {
	js, _ := json.Marshal(secret)
	return map[string]string{
		"raw":           secret,
		"query-escape":  url.QueryEscape(secret),
		"path-escape":   url.PathEscape(secret),
		"json":          string(js[1 : len(js)-1]),
		"base64":        base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64-raw":    base64.RawStdEncoding.EncodeToString([]byte(secret)),
		"base64-url":    base64.URLEncoding.EncodeToString([]byte(secret)),
		"base64-rawurl": base64.RawURLEncoding.EncodeToString([]byte(secret)),
	}
}

// leaks lists every form of every secret found in text.
func leaks(text string, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		for name, f := range forms(s) {
			if strings.Contains(text, f) {
				found = append(found, fmt.Sprintf("%s (%s)", s, name))
			}
		}
	}
	return found
}

func TestLeaksFindsEveryForm(t *testing.T) {
	secret := "tok-SECRET-01+/= ü"
	for name, f := range forms(secret) {
		assert.NotEmpty(t, leaks("before "+f+" after", []string{secret}), name)
	}
	assert.Empty(t, leaks("nothing here", []string{secret}))
}

// canaryScenario prepares the fakes of one run of the canary.
type canaryScenario struct {
	name string
	// prepare injects the faults.
	prepare func(oc *octest.Server, cp *compasstest.Server)
	// echoes is true when the remotes are sure to echo a secret in an
	// answer the job reads.
	echoes bool
}

var canaryScenarios = []canaryScenario{
	{"success", func(*octest.Server, *compasstest.Server) {}, true},
	{"listing refused with 401", func(oc *octest.Server, _ *compasstest.Server) {
		oc.AddFault(octest.EndpointInstances, octest.Fault{Status: http.StatusUnauthorized})
	}, true},
	{"documents answer 500 once", func(oc *octest.Server, _ *compasstest.Server) {
		oc.AddFault(octest.EndpointDocs, octest.Fault{Status: http.StatusInternalServerError, Times: 1})
	}, true},
	{"documents answer 401", func(oc *octest.Server, _ *compasstest.Server) {
		oc.AddFault(octest.EndpointDocs, octest.Fault{Status: http.StatusUnauthorized})
	}, true},
	{"director GraphQL errors on register", func(_ *octest.Server, cp *compasstest.Server) {
		cp.AddFault("registerApplication", compasstest.Fault{Code: compasstest.InvalidData, Times: 100})
	}, true},
	{"director internal error on register once", func(_ *octest.Server, cp *compasstest.Server) {
		cp.AddFault("registerApplication", compasstest.Fault{Code: compasstest.InternalError, Times: 1})
	}, true},
	{"director GraphQL errors on the listing", func(_ *octest.Server, cp *compasstest.Server) {
		cp.AddFault("applications", compasstest.Fault{Code: compasstest.InsufficientScopes, Times: 100})
	}, true},
	{"director answers 503 once", func(_ *octest.Server, cp *compasstest.Server) {
		cp.AddFault("applications", compasstest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	}, true},
	{"token endpoint fails", func(_ *octest.Server, cp *compasstest.Server) {
		cp.AddFault(compasstest.TokenOperation, compasstest.Fault{Status: http.StatusUnauthorized, Times: 100})
	}, true},
}

// The canary: both fakes echo everything they receive, and whatever the
// log level, log format, output format, dry run or not, success or
// failure, no secret reaches stdout or stderr in any form.
func TestNoSecretInAnyOutput(t *testing.T) {
	for _, sc := range canaryScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			for _, level := range []string{"Trace", "Debug", "Info", "Warn", "Error"} {
				for _, logFormat := range []string{"text", "json"} {
					for _, output := range []string{outputText, outputJSON} {
						for _, dry := range []bool{false, true} {
							name := fmt.Sprintf("%s/%s/%s/dry=%v", level, logFormat, output, dry)
							runCanary(t, name, sc, level, logFormat, output, dry)
						}
					}
				}
			}
		})
	}
}

// The documents keep failing, so every retry is logged before the item
// fails; at the most verbose level only, the retries cost seconds.
func TestNoSecretAfterRetriesGiveUp(t *testing.T) {
	sc := canaryScenario{"documents answer 500", func(oc *octest.Server, _ *compasstest.Server) {
		oc.AddFault(octest.EndpointDocs, octest.Fault{Status: http.StatusInternalServerError})
	}, true}
	for _, logFormat := range []string{"text", "json"} {
		for _, output := range []string{outputText, outputJSON} {
			t.Run(logFormat+"/"+output, func(t *testing.T) {
				t.Parallel()
				runCanary(t, "Trace", sc, "Trace", logFormat, output, false)
			})
		}
	}
}

func runCanary(t *testing.T, name string, sc canaryScenario, level, logFormat, output string, dry bool) {
	t.Helper()
	oc := octest.NewServer(octest.WithSecrets(userSecret, orgSecret), octest.WithInstances(instances(3)...), octest.WithEcho())
	defer oc.Close()
	cp := compasstest.NewServer(
		compasstest.WithClients(compasstest.Client{ID: clientID, Secret: clientSecret, Scopes: compasstest.IntegrationSystemScopes}),
		compasstest.WithEcho(),
	)
	defer cp.Close()
	ocRec, ocURL := newRecorder(t, oc.URL)
	cpRec, cpURL := newRecorder(t, strings.TrimSuffix(cp.GraphQLURL(), compasstest.GraphQLPath))
	sc.prepare(oc, cp)

	f := &fixture{oc: oc, cp: cp}
	doc := f.document()
	doc["logLevel"], doc["logFormat"] = level, logFormat
	doc["compass"].(map[string]any)["directorURL"] = cpURL + compasstest.GraphQLPath
	doc["compass"].(map[string]any)["tokenUrl"] = cpURL + compasstest.TokenPath
	doc["openConnectors"].(map[string]any)["hostname"] = ocURL
	args := []string{"-config", writeConfig(t, doc), "-output", output}
	if dry {
		args = append(args, "-dry-run")
	}
	r := runOcjob(t, nil, args...)

	secrets := append(secrets(3), ocRec.secrets()...)
	secrets = append(secrets, cpRec.secrets()...)
	require.NotEmpty(t, append(ocRec.secrets(), cpRec.secrets()...), "%s: the job sent credentials", name)
	if sc.echoes && !dry {
		assert.Positive(t, ocRec.echoCount()+cpRec.echoCount(), "%s: the remotes echoed secrets", name)
	}
	assert.Empty(t, leaks(r.stdout, secrets), "%s: stdout", name)
	assert.Empty(t, leaks(r.stderr, secrets), "%s: stderr", name)
	if t.Failed() {
		t.Logf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", name, r.code, r.stdout, r.stderr)
		t.FailNow()
	}
}
