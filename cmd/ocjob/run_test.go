package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	ocjob "github.com/kyma-incubator/open-connectors-job"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// Secrets of the fakes: distinctive, so that a leak is found in any output.
const (
	userSecret   = "user-SECRET-7f3a91"
	orgSecret    = "org-SECRET-c04e5d"
	clientID     = "ocjob-client"
	clientSecret = "client-SECRET-9b2d17"
	tokenPrefix  = "tok-SECRET-"
)

func secrets(n int) []string {
	out := []string{userSecret, orgSecret, clientSecret}
	for i := range n {
		out = append(out, instance(i).Token)
	}
	return out
}

func instance(i int) octest.Instance {
	return octest.Instance{
		ID:      int64(4700 + i),
		Name:    fmt.Sprintf("crm-%02d", i),
		Token:   fmt.Sprintf("%s%02d+/=", tokenPrefix, i),
		Element: octest.Element{ID: 23, Key: "sfdc", Name: "Salesforce Sales Cloud"},
		Tags:    []string{"sync"},
	}
}

func instances(n int) []octest.Instance {
	out := make([]octest.Instance, n)
	for i := range out {
		out[i] = instance(i)
	}
	return out
}

// fixture is a fake Open Connectors platform and a fake Director on
// loopback, and a configuration file pointing at them.
type fixture struct {
	oc *octest.Server
	cp *compasstest.Server
}

func newFixture(t *testing.T, n int) *fixture {
	t.Helper()
	oc := octest.NewServer(octest.WithSecrets(userSecret, orgSecret), octest.WithInstances(instances(n)...))
	t.Cleanup(oc.Close)
	cp := compasstest.NewServer(compasstest.WithClients(compasstest.Client{ID: clientID, Secret: clientSecret}))
	t.Cleanup(cp.Close)
	return &fixture{oc: oc, cp: cp}
}

func (f *fixture) document() map[string]any {
	return map[string]any{
		"logLevel":  "Trace",
		"logFormat": "json",
		"compass": map[string]any{
			"directorURL":         f.cp.GraphQLURL(),
			"tenantId":            compasstest.DefaultTenant,
			"tokenUrl":            f.cp.TokenURL(),
			"clientID":            clientID,
			"clientSecret":        clientSecret,
			"applicationPrefix":   "oc",
			"integrationSystemID": compasstest.DefaultIntegrationSystemID,
			"timeoutMills":        5000,
		},
		"openConnectors": map[string]any{
			"hostname":           f.oc.URL,
			"organizationSecret": orgSecret,
			"userSecret":         userSecret,
			"timeoutMills":       5000,
			"pageSize":           4,
		},
	}
}

func writeConfig(t *testing.T, doc map[string]any) string {
	t.Helper()
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

type result struct {
	code           int
	stdout, stderr string
}

func runOcjob(t *testing.T, env func(string) string, args ...string) result {
	t.Helper()
	if env == nil {
		env = func(string) string { return "" }
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, env, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (f *fixture) run(t *testing.T, edit func(doc map[string]any), args ...string) result {
	t.Helper()
	doc := f.document()
	if edit != nil {
		edit(doc)
	}
	return runOcjob(t, nil, append([]string{"-config", writeConfig(t, doc)}, args...)...)
}

func decodeDocument(t *testing.T, stdout string) ocjob.Document {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var doc ocjob.Document
	require.NoError(t, dec.Decode(&doc), "stdout: %s", stdout)
	_, err := dec.Token()
	require.ErrorIs(t, err, io.EOF, "one document only")
	return doc
}

func assertNoSecrets(t *testing.T, r result, n int) {
	t.Helper()
	for _, s := range secrets(n) {
		assert.NotContains(t, r.stdout, s, "secret on stdout")
		assert.NotContains(t, r.stderr, s, "secret on stderr")
	}
	assert.NotContains(t, r.stdout+r.stderr, tokenPrefix)
}

func (f *fixture) appNames() []string {
	var names []string
	for _, a := range f.cp.Applications(compasstest.DefaultTenant) {
		names = append(names, a.Name)
	}
	return names
}

func TestExitOKConvergesAndIsIdempotent(t *testing.T) {
	f := newFixture(t, 5)

	first := f.run(t, nil)
	require.Equal(t, ocsync.ExitOK, first.code, "stderr: %s", first.stderr)
	assert.Contains(t, first.stdout, "Summary: 5 created, 0 updated, 0 deleted")
	assert.Contains(t, first.stdout, "oc-4700")
	assert.Len(t, f.appNames(), 5)
	app, ok := f.cp.Application(compasstest.DefaultTenant, "oc-4703")
	require.True(t, ok)
	assert.Equal(t, "SAP Open Connectors Salesforce Sales Cloud: crm-03", app.Description)
	assertNoSecrets(t, first, 5)

	f.cp.ResetCounts()
	f.oc.ResetCounts()
	second := f.run(t, nil)
	require.Equal(t, ocsync.ExitOK, second.code, "stderr: %s", second.stderr)
	assert.Contains(t, second.stdout, "No changes.")
	assert.Contains(t, second.stdout, "0 created, 0 updated, 0 deleted, 5 unchanged")
	assert.Zero(t, f.cp.Count("registerApplication")+f.cp.Count("updateApplication")+f.cp.Count("unregisterApplication"))
	assert.Zero(t, f.oc.Count(octest.EndpointDocs), "no spec fetched on a no-op run")
}

func TestExitFailed(t *testing.T) {
	tests := []struct {
		name string
		edit func(doc map[string]any)
		want string
	}{
		{"open connectors rejects the secrets", func(doc map[string]any) {
			doc["openConnectors"].(map[string]any)["userSecret"] = "wrong-" + userSecret
		}, "list source"},
		{"compass rejects the client", func(doc map[string]any) {
			doc["compass"].(map[string]any)["clientSecret"] = "wrong-" + clientSecret
		}, "list registry"},
		{"unknown tenant", func(doc map[string]any) {
			doc["compass"].(map[string]any)["tenantId"] = "00000000-0000-0000-0000-000000000000"
		}, "list registry"},
		{"configuration error", func(doc map[string]any) {
			doc["compass"].(map[string]any)["pageSize"] = 0
		}, "compass.pageSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 3)
			r := f.run(t, tt.edit)
			assert.Equal(t, ocsync.ExitFailed, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, f.appNames(), "nothing changed")
			assertNoSecrets(t, r, 3)
			for _, s := range []string{"wrong-" + userSecret, "wrong-" + clientSecret} {
				assert.NotContains(t, r.stdout+r.stderr, s)
			}
		})
	}
}

func TestExitItemsFailed(t *testing.T) {
	f := newFixture(t, 4)
	f.oc.SetSpec(instance(2).ID, []byte("this is not a spec"))

	r := f.run(t, nil, "-output", "json")
	require.Equal(t, ocsync.ExitItemsFailed, r.code, "stderr: %s", r.stderr)
	doc := decodeDocument(t, r.stdout)
	assert.Equal(t, ocsync.ExitItemsFailed, doc.ExitCode)
	assert.Equal(t, 3, doc.Summary.Created)
	assert.Equal(t, 1, doc.Summary.Failed)
	require.Len(t, doc.Errors, 1)
	assert.Contains(t, doc.Errors[0], "oc-4702")
	assert.ElementsMatch(t, []string{"oc-4700", "oc-4701", "oc-4703"}, f.appNames())
	assertNoSecrets(t, r, 4)
}

func TestExitGuard(t *testing.T) {
	f := newFixture(t, 10)
	require.Equal(t, ocsync.ExitOK, f.run(t, nil).code)
	f.oc.Remove(instance(0).ID, instance(1).ID, instance(2).ID, instance(3).ID)

	r := f.run(t, nil)
	require.Equal(t, ocsync.ExitGuard, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "Deletion guard: 4 of 10 owned applications to delete, limit 30%: deletions withheld.")
	assert.Contains(t, r.stdout, "withheld by the deletion guard")
	assert.Len(t, f.appNames(), 10)
	assertNoSecrets(t, r, 10)

	dry := f.run(t, nil, "-dry-run", "-force")
	assert.Equal(t, ocsync.ExitOK, dry.code)
	assert.Len(t, f.appNames(), 10)

	forced := f.run(t, nil, "-force")
	require.Equal(t, ocsync.ExitOK, forced.code, "stderr: %s", forced.stderr)
	assert.Contains(t, forced.stdout, "deletions applied (forced)")
	assert.Len(t, f.appNames(), 6)
}

func TestItemFailureWinsOverGuard(t *testing.T) {
	f := newFixture(t, 10)
	require.Equal(t, ocsync.ExitOK, f.run(t, nil).code)
	f.oc.Remove(instance(0).ID, instance(1).ID, instance(2).ID, instance(3).ID)
	f.oc.Put(instance(20))
	f.oc.SetSpec(instance(20).ID, []byte("{}"))

	r := f.run(t, nil, "-output", "json")
	assert.Equal(t, ocsync.ExitItemsFailed, r.code, "stderr: %s", r.stderr)
	doc := decodeDocument(t, r.stdout)
	assert.True(t, doc.Plan.Guard.Tripped)
	assert.Equal(t, 4, doc.Summary.Withheld)
	assert.Equal(t, 1, doc.Summary.Failed)
}

func TestDryRun(t *testing.T) {
	f := newFixture(t, 3)
	r := f.run(t, nil, "-dry-run")
	require.Equal(t, ocsync.ExitOK, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "Dry run, nothing applied. Plan: 3 to create")
	for i := range 3 {
		assert.Contains(t, r.stdout, fmt.Sprintf("create  oc-%d", 4700+i))
	}
	assert.Contains(t, r.stdout, "planned")
	assert.Empty(t, f.appNames())
	assert.Zero(t, f.cp.Count("registerApplication"))
	assert.Zero(t, f.oc.Count(octest.EndpointDocs))
}

func TestJSONOutput(t *testing.T) {
	f := newFixture(t, 3)
	r := f.run(t, nil, "-output", "json", "-dry-run")
	require.Equal(t, ocsync.ExitOK, r.code, "stderr: %s", r.stderr)
	doc := decodeDocument(t, r.stdout)
	assert.True(t, doc.DryRun)
	assert.NotEmpty(t, doc.Version)
	require.NotNil(t, doc.Plan)
	require.Len(t, doc.Plan.Changes, 3)
	assert.Equal(t, ocsync.KindCreate, doc.Plan.Changes[0].Kind)
	assert.Equal(t, "oc-4700", doc.Plan.Changes[0].Name)
	assert.Equal(t, "4700", doc.Plan.Changes[0].Key)
	require.Len(t, doc.Results, 3)
	assert.Equal(t, ocsync.OutcomePlanned, doc.Results[0].Outcome)
	assert.Equal(t, 3, doc.Summary.Created)
	assert.Zero(t, doc.ExitCode)
	assert.Empty(t, doc.Errors)
	// Logs stay on stderr, one JSON record per line.
	for line := range strings.Lines(r.stderr) {
		assert.True(t, json.Valid([]byte(line)), "log line: %s", line)
	}
	assertNoSecrets(t, r, 3)

	t.Run("failure", func(t *testing.T) {
		r := f.run(t, func(doc map[string]any) {
			doc["openConnectors"].(map[string]any)["organizationSecret"] = "nope"
		}, "-output", "json")
		assert.Equal(t, ocsync.ExitFailed, r.code)
		doc := decodeDocument(t, r.stdout)
		assert.Nil(t, doc.Report)
		assert.Equal(t, ocsync.ExitFailed, doc.ExitCode)
		require.NotEmpty(t, doc.Errors)
		assert.Contains(t, doc.Errors[0], "list source")
	})
}

func TestOwnerAndTags(t *testing.T) {
	f := newFixture(t, 4)
	f.oc.Update(instance(3).ID, func(in *octest.Instance) { in.Tags = []string{"other"} })
	withOwner := func(owner string, tags ...string) func(map[string]any) {
		return func(doc map[string]any) {
			doc["openConnectors"].(map[string]any)["tags"] = tags
			doc["sync"] = map[string]any{"owner": owner}
		}
	}
	require.Equal(t, ocsync.ExitOK, f.run(t, withOwner("shard-a", "sync")).code)
	r := f.run(t, withOwner("shard-b", "other"))
	require.Equal(t, ocsync.ExitOK, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "1 created, 0 updated, 0 deleted, 0 unchanged")
	// Each shard sees only its own applications: nothing is deleted.
	r = f.run(t, withOwner("shard-a", "sync"))
	assert.Contains(t, r.stdout, "0 created, 0 updated, 0 deleted, 3 unchanged")
	assert.Len(t, f.appNames(), 4)
}

func TestEnvironmentSecrets(t *testing.T) {
	f := newFixture(t, 2)
	doc := f.document()
	delete(doc["compass"].(map[string]any), "clientSecret")
	doc["openConnectors"].(map[string]any)["userSecret"] = "stale-value"
	env := map[string]string{
		config.EnvCompassClientSecret:      clientSecret,
		config.EnvOpenConnectorsUserSecret: userSecret,
	}
	r := runOcjob(t, func(k string) string { return env[k] }, "-config", writeConfig(t, doc))
	require.Equal(t, ocsync.ExitOK, r.code, "stderr: %s", r.stderr)
	assert.Len(t, f.appNames(), 2)
	assertNoSecrets(t, r, 2)
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"version", []string{"-version"}, ocsync.ExitOK, "ocjob ", ""},
		{"help", []string{"-h"}, ocsync.ExitOK, "", "Usage: ocjob"},
		{"unknown flag", []string{"-verbose"}, ocsync.ExitUsage, "", "flag provided but not defined"},
		{"positional argument", []string{"run"}, ocsync.ExitUsage, "", `unexpected argument "run"`},
		{"bad output", []string{"-output", "yaml"}, ocsync.ExitUsage, "", `invalid -output "yaml"`},
		{"bad digest", []string{"-approve", "sha256:xyz"}, ocsync.ExitUsage, "", `invalid -approve "sha256:xyz"`},
		{"approve and force", []string{"-approve", "sha256:0123456789abcdef0123456789abcdef", "-force"}, ocsync.ExitUsage, "", "cannot be combined"},
		{"negative interval", []string{"-interval", "-1s"}, ocsync.ExitUsage, "", "invalid -interval"},
		{"force with interval", []string{"-interval", "5m", "-force"}, ocsync.ExitUsage, "", "-force is for one run"},
		{"approve with interval", []string{"-approve", "sha256:0123456789abcdef0123456789abcdef", "-interval", "5m"}, ocsync.ExitUsage, "", "-approve is for one run"},
		{"bad interval", []string{"-interval", "soon"}, ocsync.ExitUsage, "", "invalid value"},
		{"empty listen", []string{"-listen", ""}, ocsync.ExitUsage, "", "invalid -listen"},
		{"missing config file", []string{"-config", filepath.Join(t.TempDir(), "none.json")}, ocsync.ExitFailed, "", "none.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runOcjob(t, nil, tt.args...)
			assert.Equal(t, tt.code, r.code)
			assert.Contains(t, r.stdout, tt.stdout)
			assert.Contains(t, r.stderr, tt.stderr)
		})
	}
}

func TestVersionFromLinker(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v9.8.7"
	r := runOcjob(t, nil, "-version")
	assert.Equal(t, "ocjob v9.8.7\n", r.stdout)
}

func TestLogging(t *testing.T) {
	tests := []struct {
		level      string
		wantDebug  bool
		wantInfo   bool
		formatText bool
	}{
		{"Trace", true, true, false},
		{"Debug", true, true, true},
		{"Info", false, true, false},
		{"Error", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			f := newFixture(t, 2)
			r := f.run(t, func(doc map[string]any) {
				doc["logLevel"] = tt.level
				if tt.formatText {
					doc["logFormat"] = "text"
				}
			})
			require.Equal(t, ocsync.ExitOK, r.code)
			assert.Equal(t, tt.wantDebug, strings.Contains(r.stderr, "DEBUG"))
			assert.Equal(t, tt.wantInfo, strings.Contains(r.stderr, "INFO"))
			if tt.formatText {
				assert.False(t, strings.HasPrefix(r.stderr, "{"))
			}
			assertNoSecrets(t, r, 2)
		})
	}
}

func TestTraceLevelName(t *testing.T) {
	var buf bytes.Buffer
	log := ocjob.NewLogger(&buf, config.LevelTrace, config.FormatJSON, nil)
	log.Log(context.Background(), config.LevelTrace, "deep")
	assert.Contains(t, buf.String(), `"level":"TRACE"`)
}

// pushgateway records the pushes it receives, decoded with expfmt.
type pushgateway struct {
	mu       sync.Mutex
	status   int
	paths    []string
	families []map[string]*dto.MetricFamily
}

func (p *pushgateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fams := map[string]*dto.MetricFamily{}
	dec := expfmt.NewDecoder(io.LimitReader(r.Body, 1<<20), expfmt.ResponseFormat(r.Header))
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			break
		}
		fams[mf.GetName()] = mf
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paths = append(p.paths, r.Method+" "+r.URL.EscapedPath())
	p.families = append(p.families, fams)
	w.WriteHeader(p.status)
}

// gaugeValue returns the value of the gauge of mf with the given label
// (name, value), or of its only gauge when no label is given.
func gaugeValue(t *testing.T, mf *dto.MetricFamily, label ...string) float64 {
	t.Helper()
	require.NotNil(t, mf)
	for _, m := range mf.GetMetric() {
		if len(label) == 0 && len(m.GetLabel()) == 0 {
			return m.GetGauge().GetValue()
		}
		for _, l := range m.GetLabel() {
			if len(label) == 2 && l.GetName() == label[0] && l.GetValue() == label[1] {
				return m.GetGauge().GetValue()
			}
		}
	}
	require.Failf(t, "no such sample", "%s %v", mf.GetName(), label)
	return 0
}

func TestMetricsPush(t *testing.T) {
	tests := []struct {
		name   string
		status int
		owner  string
		path   string
	}{
		{"accepted", http.StatusOK, "", "POST /metrics/job/ocjob"},
		{"with owner", http.StatusAccepted, "shard-a", "POST /metrics/job/ocjob/owner/shard-a"},
		{"pushgateway fails", http.StatusInternalServerError, "", "POST /metrics/job/ocjob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg := &pushgateway{status: tt.status}
			srv := httptest.NewServer(pg)
			t.Cleanup(srv.Close)
			f := newFixture(t, 2)
			f.oc.SetSpec(instance(1).ID, []byte("[]"))
			r := f.run(t, func(doc map[string]any) {
				doc["metrics"] = map[string]any{"pushgatewayURL": srv.URL}
				if tt.owner != "" {
					doc["sync"] = map[string]any{"owner": tt.owner}
				}
			})
			assert.Equal(t, ocsync.ExitItemsFailed, r.code, "a failed push never changes the exit code")
			require.Equal(t, []string{tt.path}, pg.paths)
			fams := pg.families[0]
			assert.Equal(t, 3.0, gaugeValue(t, fams["ocjob_last_run_exit_code"]))
			assert.Equal(t, 1.0, gaugeValue(t, fams["ocjob_last_run_changes"], "result", "created"))
			assert.Equal(t, 1.0, gaugeValue(t, fams["ocjob_last_run_changes"], "result", "failed"))
			assert.Equal(t, 2.0, gaugeValue(t, fams["ocjob_last_run_spec_fetches"]))
			assert.Positive(t, gaugeValue(t, fams["ocjob_phase_duration_seconds"], "phase", "list"))
			assert.Positive(t, gaugeValue(t, fams["ocjob_phase_duration_seconds"], "phase", "apply"))
			assert.NotContains(t, fams, "ocjob_last_success_timestamp_seconds", "pushed on exit 0 only")
			assert.Equal(t, tt.status >= 300, strings.Contains(r.stderr, "pushing metrics failed"))
		})
	}
	t.Run("success and listing failure", func(t *testing.T) {
		pg := &pushgateway{status: http.StatusOK}
		srv := httptest.NewServer(pg)
		t.Cleanup(srv.Close)
		f := newFixture(t, 2)
		withPush := func(doc map[string]any) { doc["metrics"] = map[string]any{"pushgatewayURL": srv.URL} }
		require.Equal(t, ocsync.ExitOK, f.run(t, withPush).code)
		require.Equal(t, ocsync.ExitFailed, f.run(t, func(doc map[string]any) {
			withPush(doc)
			doc["openConnectors"].(map[string]any)["userSecret"] = "wrong-" + userSecret
		}).code)
		require.Len(t, pg.families, 2, "pushed also on failure")
		assert.Positive(t, gaugeValue(t, pg.families[0]["ocjob_last_success_timestamp_seconds"]))
		assert.NotContains(t, pg.families[1], "ocjob_last_success_timestamp_seconds")
		assert.Equal(t, 1.0, gaugeValue(t, pg.families[1]["ocjob_last_run_exit_code"]))
		assert.Zero(t, gaugeValue(t, pg.families[1]["ocjob_last_run_changes"], "result", "created"))
	})
}

func TestAdoptsOriginalApplicationsAndReportsConflicts(t *testing.T) {
	f := newFixture(t, 3)
	host := strings.TrimPrefix(f.oc.URL, "http://")
	// An application of the original job: identity label without owner, no
	// state label, no bundle yet.
	_, err := f.cp.Seed(compasstest.DefaultTenant, compasstest.Application{
		Name: "oc-4700",
		Labels: map[string]any{"open_connectors": map[string]any{
			"connectorInstanceContext": host, "connectorInstanceID": "4700",
		}},
	})
	require.NoError(t, err)
	// An application of someone else whose name clashes.
	_, err = f.cp.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "OC-4702", Description: "not ours"})
	require.NoError(t, err)

	r := f.run(t, nil, "-output", "json")
	require.Equal(t, ocsync.ExitItemsFailed, r.code, "stderr: %s", r.stderr)
	doc := decodeDocument(t, r.stdout)
	assert.Equal(t, 1, doc.Summary.Created)
	assert.Equal(t, 1, doc.Summary.Updated)
	assert.Equal(t, 1, doc.Summary.Conflicts)
	assert.ElementsMatch(t, []string{"oc-4700", "oc-4701", "OC-4702"}, f.appNames())
	adopted, ok := f.cp.Application(compasstest.DefaultTenant, "oc-4700")
	require.True(t, ok)
	require.Len(t, adopted.Bundles, 1, "the adopted application is repaired")
	foreign, ok := f.cp.Application(compasstest.DefaultTenant, "OC-4702")
	require.True(t, ok)
	assert.Equal(t, "not ours", foreign.Description)
	assertNoSecrets(t, r, 3)

	// The next run changes nothing and reports the conflict again.
	r = f.run(t, nil)
	assert.Equal(t, ocsync.ExitItemsFailed, r.code)
	assert.Contains(t, r.stdout, "0 created, 0 updated, 0 deleted, 2 unchanged, 0 skipped, 1 conflicts")
}

var digestLine = regexp.MustCompile(`(?m)^Deletions digest: (sha256:[0-9a-f]{32})  \(approve with -approve (sha256:[0-9a-f]{32})\)$`)

// reviewedDigest returns the digest a dry run's text report offers.
func reviewedDigest(t *testing.T, stdout string) string {
	t.Helper()
	m := digestLine.FindStringSubmatch(stdout)
	require.NotNil(t, m, "no digest line in: %s", stdout)
	require.Equal(t, m[1], m[2])
	return m[1]
}

func TestApproveExactlyTheReviewedDeletions(t *testing.T) {
	f := newFixture(t, 10)
	require.Equal(t, ocsync.ExitOK, f.run(t, nil).code)
	f.oc.Remove(instance(0).ID, instance(1).ID, instance(2).ID, instance(3).ID)

	dry := f.run(t, nil, "-dry-run")
	require.Equal(t, ocsync.ExitOK, dry.code, "stderr: %s", dry.stderr)
	reviewed := reviewedDigest(t, dry.stdout)
	jsonDry := decodeDocument(t, f.run(t, nil, "-dry-run", "-output", "json").stdout)
	assert.Equal(t, reviewed, jsonDry.Plan.DeletionsDigest, "the JSON plan carries the same digest")

	// The platform changes after the review: one more instance is gone and
	// a new one appears.
	f.oc.Remove(instance(4).ID)
	f.oc.Put(instance(30))
	refused := f.run(t, nil, "-approve", reviewed)
	require.Equal(t, ocsync.ExitGuard, refused.code, "stderr: %s", refused.stderr)
	assert.Len(t, f.appNames(), 11, "nothing deleted, the new instance created")
	assert.Regexp(t, `(?m)^create +oc-4730 +4730 +applied`, refused.stdout)
	assert.Contains(t, refused.stdout, "deletions withheld: the approved digest "+reviewed+" does not match this plan's deletions")
	current := reviewedDigest(t, refused.stdout)
	assert.NotEqual(t, reviewed, current)
	for i := range 5 {
		assert.Regexp(t, fmt.Sprintf(`(?m)^delete +oc-%d +%d +withheld +withheld: the approved digest does not match`, 4700+i, 4700+i), refused.stdout)
	}
	assert.Contains(t, refused.stderr, "the approved digest does not match the deletions of this plan")
	assert.Contains(t, refused.stderr, current)

	doc := decodeDocument(t, f.run(t, nil, "-approve", reviewed, "-output", "json").stdout)
	assert.Equal(t, ocsync.ExitGuard, doc.ExitCode)
	assert.Equal(t, reviewed, doc.Plan.Guard.Refused)
	assert.Equal(t, current, doc.Plan.DeletionsDigest)

	approved := f.run(t, nil, "-approve", current)
	require.Equal(t, ocsync.ExitOK, approved.code, "stderr: %s", approved.stderr)
	assert.Contains(t, approved.stdout, "deletions applied (approved "+current+")")
	assert.Len(t, f.appNames(), 6)

	// Nothing left to delete: an approval now matches no deletions and
	// changes nothing else.
	again := f.run(t, nil, "-approve", current)
	assert.Equal(t, ocsync.ExitOK, again.code, "stdout: %s", again.stdout)
	assert.NotContains(t, again.stdout, "Deletions digest")
}

func TestRunTimeout(t *testing.T) {
	t.Run("no change starts after it", func(t *testing.T) {
		f := newFixture(t, 5)
		// Each document takes longer than a fifth of the run timeout; one
		// change at a time, so the timeout passes with creates left.
		f.oc.AddFault(octest.EndpointDocs, octest.Fault{Latency: 400 * time.Millisecond})
		r := f.run(t, func(doc map[string]any) {
			doc["sync"] = map[string]any{"concurrency": 1, "runTimeout": "1s"}
		}, "-output", "json")
		require.Equal(t, ocsync.ExitItemsFailed, r.code, "stderr: %s", r.stderr)
		doc := decodeDocument(t, r.stdout)
		assert.Positive(t, doc.Summary.NotStarted)
		assert.Equal(t, 5, doc.Summary.Created+doc.Summary.Failed+doc.Summary.NotStarted)
		assert.Len(t, f.appNames(), doc.Summary.Created)
		assert.Equal(t, doc.Summary.Created, f.cp.Count("registerApplication"), "no create started after the timeout")
		assert.Contains(t, strings.Join(doc.Errors, "\n"), "run deadline passed")
		assert.Contains(t, r.stderr, "the run timeout passed: changes not started are left to the next run")

		// The next run does what was left.
		f.oc.ClearFaults()
		next := f.run(t, nil)
		require.Equal(t, ocsync.ExitOK, next.code, "stderr: %s", next.stderr)
		assert.Len(t, f.appNames(), 5)
	})
	t.Run("listing outlasts it", func(t *testing.T) {
		f := newFixture(t, 3)
		f.oc.AddFault(octest.EndpointInstances, octest.Fault{Latency: time.Hour})
		r := f.run(t, func(doc map[string]any) {
			doc["sync"] = map[string]any{"runTimeout": "1s"} // the shortest accepted
		}, "-output", "json")
		require.Equal(t, ocsync.ExitFailed, r.code, "stderr: %s", r.stderr)
		doc := decodeDocument(t, r.stdout)
		require.NotEmpty(t, doc.Errors)
		assert.Contains(t, doc.Errors[0], "the run timeout passed while listing")
		assert.Empty(t, f.appNames())
	})
}
