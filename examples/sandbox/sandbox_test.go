package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

func newSandbox(t *testing.T, n int) *sandbox {
	t.Helper()
	sb, err := startSandbox(n, filepath.Join(t.TempDir(), "config.json"), nil)
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	return sb
}

// wantApplication checks the application of instance in as the Director
// stores it, against the product's mapping.
func wantApplication(t *testing.T, sb *sandbox, in octest.Instance, spec []byte) {
	t.Helper()
	app, ok := sb.cp.Application(tenant, appName(in.ID))
	require.True(t, ok, "application of instance %d", in.ID)
	host, err := url.Parse(sb.oc.URL)
	require.NoError(t, err)
	assert.Equal(t, "SAP Open Connectors "+in.Element.Name+": "+in.Name, app.Description)
	assert.Equal(t, "SAP Open Connectors", app.ProviderName)
	assert.Equal(t, "CONNECTED", app.Status)
	assert.Equal(t, compasstest.DefaultIntegrationSystemID, app.IntegrationSystemID)
	assert.Equal(t, map[string]any{"connectorInstanceContext": host.Host, "connectorInstanceID": fmt.Sprint(in.ID)},
		app.Labels[compass.IdentityLabel])
	require.Len(t, app.Bundles, 1)
	b := app.Bundles[0]
	assert.Equal(t, in.Element.Key, b.Name)
	assert.Equal(t, map[string][]string{"Authorization": {"User " + userSecret + ", Organization " + organizationSecret + ", Element " + in.Token}},
		b.AuthHeaders)
	require.Len(t, b.APIs, 1)
	assert.Equal(t, sb.oc.URL+"/elements/api-v2", b.APIs[0].TargetURL)
	assert.Equal(t, string(spec), b.APIs[0].Spec)
}

// mutations counts the Director's calls other than listings and tokens.
func mutations(cp *compasstest.Server) map[string]int {
	out := map[string]int{}
	for op, n := range cp.Counts() {
		if op != "applications" && op != compasstest.TokenOperation && n > 0 {
			out[op] = n
		}
	}
	return out
}

// TestSyncs runs the three steps of the scenario one by one and checks each
// against the fakes' state.
func TestSyncs(t *testing.T) {
	t.Parallel()
	for _, n := range []int{minInstances, defaultInstances} {
		t.Run(fmt.Sprintf("%d instances", n), func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t, n)
			steps := sb.steps()
			require.Len(t, steps, 10)
			initial, specs := demoInstances(n)
			disabled, broken := initial[idxDisabled], initial[idxBroken]

			// Run 1: creates, one skipped, one failed.
			rep, code, err := sb.sync(t.Context(), runOptions{})
			require.NotNil(t, rep)
			assert.ErrorIs(t, err, ocsync.ErrItemFailed)
			assert.ErrorIs(t, err, remote.ErrInvalidSpec)
			assert.Equal(t, ocsync.ExitItemsFailed, code)
			assert.Empty(t, sb.check(steps[0], outcome{report: rep, exit: code}, nil))
			assert.Equal(t, n-2, rep.Summary.Created)
			assert.Len(t, sb.cp.Applications(tenant), n-2)
			assert.Equal(t, n-2, sb.cp.Count("registerApplication"))
			for _, in := range initial {
				_, exists := sb.cp.Application(tenant, appName(in.ID))
				if in.ID == disabled.ID || in.ID == broken.ID {
					assert.False(t, exists, "instance %d", in.ID)
					continue
				}
				wantApplication(t, sb, in, specs[in.ID])
			}

			// Run 2: no mutation, only the broken document fetched again.
			sb.cp.ResetCounts()
			sb.oc.ResetCounts()
			rep, code, err = sb.sync(t.Context(), runOptions{})
			require.NotNil(t, rep)
			assert.ErrorIs(t, err, ocsync.ErrItemFailed)
			assert.Equal(t, ocsync.ExitItemsFailed, code)
			assert.Empty(t, sb.check(steps[1], outcome{report: rep, exit: code}, nil))
			assert.Equal(t, n-2, rep.Summary.Unchanged)
			assert.Equal(t, 1, rep.Plan.Mutations(), "only the broken create is planned")
			assert.Empty(t, mutations(sb.cp))
			assert.Equal(t, 1, sb.oc.Count(octest.EndpointDocs))
			assert.Len(t, sb.cp.Applications(tenant), n-2)

			// Run 3: after the platform changed.
			before := map[int64]octest.Instance{}
			for _, in := range sb.oc.Instances() {
				before[in.ID] = in
			}
			explained := steps[2].prepare(sb)
			assert.Len(t, explained, 6)
			sb.cp.ResetCounts()
			rep, code, err = sb.sync(t.Context(), runOptions{})
			require.NoError(t, err)
			assert.Equal(t, ocsync.ExitOK, code)
			assert.Empty(t, sb.check(steps[2], outcome{report: rep, exit: code}, nil))
			assert.Equal(t, ocsync.Summary{Created: 2, Updated: 3, Deleted: 1, Unchanged: n - 6, Skipped: 1, SpecFetches: 5}, rep.Summary)
			assert.Equal(t, 2, sb.cp.Count("registerApplication"))
			assert.Equal(t, 1, sb.cp.Count("unregisterApplication"))

			renamed, ok := sb.oc.Instance(instanceID(idxRenamed))
			require.True(t, ok)
			assert.NotEqual(t, before[renamed.ID].Name, renamed.Name)
			wantApplication(t, sb, renamed, specs[renamed.ID])

			_, ok = sb.cp.Application(tenant, appName(instanceID(idxDeleted)))
			assert.False(t, ok, "the deleted instance's application is gone")

			rotated, ok := sb.oc.Instance(instanceID(idxRotated))
			require.True(t, ok)
			assert.NotEqual(t, before[rotated.ID].Token, rotated.Token)
			wantApplication(t, sb, rotated, specs[rotated.ID])

			respecced, ok := sb.oc.Instance(instanceID(idxSpec))
			require.True(t, ok)
			assert.Greater(t, respecced.UpdatedDate, before[respecced.ID].UpdatedDate)
			wantApplication(t, sb, respecced, changedSpec(respecced))
			assert.NotEqual(t, string(specs[respecced.ID]), string(changedSpec(respecced)))

			wantApplication(t, sb, broken, demoSpec(broken, idxBroken))
			wantApplication(t, sb, demoInstance(n), demoSpec(demoInstance(n), n))
			_, ok = sb.cp.Application(tenant, appName(disabled.ID))
			assert.False(t, ok, "the disabled instance is still not created")
			assert.Len(t, sb.cp.Applications(tenant), n-1)

			// A fourth run converges: nothing left to do.
			sb.cp.ResetCounts()
			rep, code, err = sb.sync(t.Context(), runOptions{})
			require.NoError(t, err)
			assert.Equal(t, ocsync.ExitOK, code)
			assert.Zero(t, rep.Plan.Mutations())
			assert.Empty(t, mutations(sb.cp))
		})
	}
}

// TestScenarioReportsSurprises makes the Director refuse one registration:
// the first run then differs from its step, and the scenario says so.
func TestScenarioReportsSurprises(t *testing.T) {
	sb := newSandbox(t, minInstances)
	sb.cp.AddFault("registerApplication", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
	var out bytes.Buffer
	outcomes, err := sb.scenario(t.Context(), &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "run 1:")
	require.Len(t, outcomes, len(sb.steps()))
	assert.NotEmpty(t, outcomes[0].problems)
	assert.Contains(t, out.String(), "UNEXPECTED")
}

// TestScenarioStopsWithoutPlan checks that a run that cannot list stops the
// scenario with an error.
func TestScenarioStopsWithoutPlan(t *testing.T) {
	sb := newSandbox(t, minInstances)
	sb.oc.AddFault(octest.EndpointInstances, octest.Fault{Status: 401})
	outcomes, err := sb.scenario(t.Context(), io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no plan was made")
	require.Len(t, outcomes, 1)
	assert.Equal(t, ocsync.ExitFailed, outcomes[0].exit)
	assert.Empty(t, sb.cp.Applications(tenant))
}

// secrets are the values no output may show.
func secrets(n int) []string {
	out := []string{userSecret, organizationSecret, clientSecret}
	for i := range n + 1 {
		out = append(out, demoInstance(i).Token, reissuedToken(i))
	}
	return append(out, demoToken(fmt.Sprintf("instance-%d-rotated", idxRotated)))
}

func configPathOf(t *testing.T, stdout string) string {
	t.Helper()
	for line := range strings.Lines(stdout) {
		if p, ok := strings.CutPrefix(line, "Configuration: "); ok {
			return strings.TrimSpace(p)
		}
	}
	t.Fatalf("no configuration path in %q", stdout)
	return ""
}

func TestRun(t *testing.T) {
	t.Parallel()
	given := filepath.Join(t.TempDir(), "given", "config.json")
	tests := []struct {
		name     string
		args     []string
		code     int
		kept     bool
		stdout   []string
		stderr   []string
		noConfig bool
	}{
		{name: "scenario", args: []string{"-instances", "12"}, code: exitOK,
			stdout: []string{"=== Run 1 of 10: first sync", "=== Run 2 of 10", "=== Run 3 of 10", "=== Run 10 of 10", "All 10 runs behaved as expected.", "the two jobs' selections overlap",
				"営業 東京", "renamed instance", "Exit code 3, as expected.", "Exit code 0, as expected.", "Exit code 4, as expected.",
				"progress: ", "Deletions digest: sha256:", " -dry-run\n", " -approve sha256:", "does not match this plan's deletions",
				"deletions applied (approved sha256:"}},
		{name: "keep config", args: []string{"-instances", "12", "-keep-config"}, code: exitOK, kept: true},
		{name: "given config", args: []string{"-instances", "12", "-config", given}, code: exitOK, kept: true},
		{name: "verbose", args: []string{"-instances", "12", "-v"}, code: exitOK, stderr: []string{"run finished", "msg=progress done="}},
		{name: "too few instances", args: []string{"-instances", "3"}, code: exitUsage, stderr: []string{"-instances must be"}, noConfig: true},
		{name: "too many instances", args: []string{"-instances", "100000"}, code: exitUsage, stderr: []string{"-instances must be"}, noConfig: true},
		{name: "argument", args: []string{"now"}, code: exitUsage, stderr: []string{`unexpected argument "now"`}, noConfig: true},
		{name: "unknown flag", args: []string{"-fast"}, code: exitUsage, stderr: []string{"flag provided but not defined"}, noConfig: true},
		{name: "help", args: []string{"-h"}, code: exitOK, stderr: []string{"Usage: sandbox"}, noConfig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr)
			assert.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			for _, want := range tt.stdout {
				assert.Contains(t, stdout.String(), want)
			}
			for _, want := range tt.stderr {
				assert.Contains(t, stderr.String(), want)
			}
			for _, s := range secrets(defaultInstances) {
				assert.NotContains(t, stdout.String()+stderr.String(), s)
			}
			if tt.noConfig {
				assert.NotContains(t, stdout.String(), "Configuration:")
				return
			}
			path := configPathOf(t, stdout.String())
			_, err := os.Stat(path)
			if !tt.kept {
				assert.ErrorIs(t, err, os.ErrNotExist)
				return
			}
			require.NoError(t, err)
			if path != given {
				t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(path)) })
			}
			cfg, err := config.Load(context.Background(), path, nil)
			require.NoError(t, err)
			assert.Equal(t, applicationPrefix, cfg.Source.ApplicationPrefix)
			assert.Equal(t, redact.Secret(userSecret), cfg.OpenConnectors.UserSecret)
		})
	}
}

// TestServe keeps the fakes running and runs the job by hand against them
// with the printed configuration, as a person would with ocjob.
func TestServe(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"-instances", "12", "-serve"}, pw, io.Discard)
		_ = pw.CloseWithError(io.EOF)
		done <- code
	}()

	lines := bufio.NewScanner(pr)
	path := ""
	for lines.Scan() {
		line := lines.Text()
		if p, ok := strings.CutPrefix(line, "Configuration: "); ok {
			path = p
		}
		if strings.HasPrefix(line, "The fakes keep running") {
			break
		}
	}
	require.NotEmpty(t, path)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	cfg, err := config.Load(context.Background(), path, nil)
	require.NoError(t, err)
	ctl, err := config.NewController(cfg, config.Options{DryRun: true})
	require.NoError(t, err)
	out := ctl.RunOnce(t.Context())
	require.NoError(t, out.Err)
	rep := out.Report
	assert.Zero(t, rep.Plan.Mutations(), "the last run converged")
	assert.Empty(t, rep.Plan.DeletionsDigest)
	assert.Equal(t, 1, rep.Plan.Count(ocsync.KindSkipped))
	assert.Equal(t, cutOf(minInstances)-3, rep.Plan.Count(ocsync.KindUnchanged), "all but the deleted and the disabled instances below the cut")

	cancel()
	assert.Equal(t, exitOK, <-done)
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist, "the temporary configuration is removed")
}

func TestDemoData(t *testing.T) {
	a, specsA := demoInstances(defaultInstances)
	b, specsB := demoInstances(defaultInstances)
	assert.Equal(t, a, b, "the demo data is fixed")
	assert.Equal(t, specsA, specsB)

	ids, names, keys := map[int64]bool{}, map[string]bool{}, map[string]bool{}
	nonASCII := 0
	for i, in := range a {
		assert.False(t, ids[in.ID], "duplicate id %d", in.ID)
		assert.False(t, names[in.Name], "duplicate name %q", in.Name)
		ids[in.ID], names[in.Name], keys[in.Element.Key] = true, true, true
		assert.Equal(t, in.ID == instanceID(idxDisabled), in.Disabled)
		assert.NotEmpty(t, in.Tags)
		if strings.ContainsFunc(in.Name, func(r rune) bool { return r > 0x7e }) {
			nonASCII++
		}
		if i == idxBroken {
			assert.Equal(t, brokenSpec, specsA[in.ID])
		} else {
			assert.Equal(t, demoSpec(in, i), specsA[in.ID])
		}
	}
	assert.Len(t, keys, len(connectors))
	assert.GreaterOrEqual(t, nonASCII, 5)
	for _, key := range []string{"sfdc", "hubspot", "servicenow", "zendesk", "shopify", "sapsuccessfactors"} {
		assert.True(t, keys[key], key)
	}
	assert.NotContains(t, ids, instanceID(defaultInstances), "the added instance is new")
}
