package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// authPushgateway records the path and the Authorization header of every
// push and accepts it.
type authPushgateway struct {
	mu     sync.Mutex
	pushes []string
}

func (p *authPushgateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pushes = append(p.pushes, r.URL.EscapedPath()+" "+r.Header.Get("Authorization"))
}

// A dry run pushes to its own group, with the configured credentials, the
// token from the environment, and never prints it.
func TestDryRunPushesToItsOwnGroupWithCredentials(t *testing.T) {
	const token = "push-token-from-env-9f3b"
	pg := &authPushgateway{}
	srv := httptest.NewServer(pg)
	t.Cleanup(srv.Close)
	f := newFixture(t, 2)
	doc := f.document()
	doc["metrics"] = map[string]any{"pushgatewayURL": srv.URL}
	env := func(k string) string {
		if k == config.EnvPushgatewayBearerToken {
			return token
		}
		return ""
	}
	cfg := writeConfig(t, doc)
	dry := runOcjob(t, env, "-config", cfg, "-dry-run", "-output", "json")
	require.Equal(t, ocsync.ExitOK, dry.code, dry.stderr)
	real := runOcjob(t, env, "-config", cfg, "-output", "json")
	require.Equal(t, ocsync.ExitOK, real.code, real.stderr)
	assert.Equal(t, []string{
		"/metrics/job/ocjob/mode/dry_run Bearer " + token,
		"/metrics/job/ocjob Bearer " + token,
	}, pg.pushes)
	for _, r := range []result{dry, real} {
		assert.NotContains(t, r.stdout+r.stderr, token)
	}
}

func TestServiceModeCountsRequestsAndChanges(t *testing.T) {
	f := newFixture(t, 2)
	s := startService(t, "-config", writeConfig(t, f.document()), "-interval", "10ms", "-output", "json")
	waitFor(t, "two runs", func() bool {
		v, _ := value(s.metrics(t)["ocjob_runs_total"], "exit_code", "0")
		return v >= 2
	})
	fams := s.metrics(t)
	created, _ := value(fams["ocjob_changes_total"], "kind", "create")
	assert.Equal(t, 2.0, created, "the first run created both; later runs change nothing")
	for _, remote := range []string{"openconnectors", "compass"} {
		n := 0.0
		for _, m := range fams["ocjob_requests_total"].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["remote"] == remote && labels["outcome"] == "2xx" {
				n = m.GetCounter().GetValue()
			}
		}
		assert.Positive(t, n, remote)
	}
	var build []string
	for _, m := range fams["ocjob_build_info"].GetMetric() {
		for _, l := range m.GetLabel() {
			build = append(build, l.GetName())
		}
	}
	assert.ElementsMatch(t, []string{"goversion", "version"}, build)
	assert.Contains(t, fams, "ocjob_request_duration_seconds")
	assert.Equal(t, ocsync.ExitOK, s.stop(), "stderr: %s", s.stderr)
	assert.False(t, strings.Contains(s.stderr.String(), "panic"))
}
