package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// runOK runs one step of the scenario, which must behave as expected, and
// returns its outcome and what it printed.
func runOK(t *testing.T, sb *sandbox, st step, done []outcome) (outcome, string) {
	t.Helper()
	var out bytes.Buffer
	o, err := sb.runStep(t.Context(), &out, st, done)
	require.NoError(t, err)
	require.NotNil(t, o.report, "%s", out.String())
	require.Empty(t, o.problems, "%s", out.String())
	return o, out.String()
}

// registeredNames are the names of the applications the Director holds.
func registeredNames(sb *sandbox) []string {
	var names []string
	for _, app := range sb.cp.Applications(tenant) {
		names = append(names, app.Name)
	}
	slices.Sort(names)
	return names
}

// namesAt are the application names of the instances at positions.
func namesAt(positions ...int) []string {
	var names []string
	for _, i := range positions {
		names = append(names, appName(instanceID(i)))
	}
	slices.Sort(names)
	return names
}

// span returns the positions from..to, both included.
func span(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// deletions lists the applications rep deletes (or withholds), sorted.
func deletions(rep *ocsync.Report) []string {
	var names []string
	for _, c := range rep.Plan.Changes {
		if c.Kind == ocsync.KindDelete {
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	return names
}

func sum(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// TestProgressAndApproval runs the steps after the first three one by one
// and checks each against the fakes' state: the slow run logs progress, the
// mass deletion is withheld, reviewed, refused with a stale digest and
// applied with the reviewed one.
func TestProgressAndApproval(t *testing.T) {
	t.Parallel()
	for _, n := range []int{minInstances, defaultInstances} {
		t.Run(fmt.Sprintf("%d instances", n), func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t, n)
			steps := sb.steps()
			require.Len(t, steps, 10)
			var done []outcome
			for _, st := range steps[:3] {
				o, _ := runOK(t, sb, st, done)
				done = append(done, o)
			}
			owned := n - 1
			cut := cutOf(n)
			removed := namesAt(span(cut, n)...)
			all := registeredNames(sb)
			require.Len(t, all, owned)

			// Run 4: every token reissued, on a slow Director.
			sb.cp.ResetCounts()
			o, out := runOK(t, sb, steps[3], done)
			done = append(done, o)
			assert.Equal(t, ocsync.ExitOK, o.exit)
			assert.Equal(t, owned, o.report.Summary.Updated)
			require.NotEmpty(t, o.progress, "the slow run logs progress records")
			for _, p := range o.progress {
				assert.Equal(t, owned, p.total)
				assert.Zero(t, p.failed)
				assert.LessOrEqual(t, p.done, owned)
			}
			assert.Contains(t, out, "Logged while applying")
			assert.Contains(t, out, fmt.Sprintf("of %d changes done", owned))
			assert.Contains(t, out, "The fake Director delays every request by "+slowLatency(owned).String())
			assert.Equal(t, owned, sb.cp.Count("updateBundle"))
			assert.Equal(t, requestsPerRotation*owned, sum(mutations(sb.cp)),
				"requestsPerRotation is what one rotation costs: %v", mutations(sb.cp))
			for _, in := range sb.oc.Instances() {
				app, ok := sb.cp.Application(tenant, appName(in.ID))
				if in.Disabled {
					assert.False(t, ok)
					continue
				}
				require.True(t, ok, "application of instance %d", in.ID)
				require.Len(t, app.Bundles, 1)
				assert.Equal(t, []string{"User " + userSecret + ", Organization " + organizationSecret + ", Element " + reissuedToken(position(in.ID))},
					app.Bundles[0].AuthHeaders["Authorization"])
			}

			// Run 5: the deletion guard withholds the mass deletion.
			sb.cp.ResetCounts()
			o, out = runOK(t, sb, steps[4], done)
			done = append(done, o)
			assert.Equal(t, ocsync.ExitGuard, o.exit)
			assert.True(t, o.report.Plan.Guard.Tripped)
			assert.Equal(t, removed, deletions(o.report))
			assert.Equal(t, len(removed), o.report.Summary.Withheld)
			assert.Zero(t, sb.cp.Count("unregisterApplication"))
			assert.Equal(t, all, registeredNames(sb), "nothing deleted")
			reviewed := o.report.Plan.DeletionsDigest
			require.NotEmpty(t, reviewed)
			assert.Contains(t, out, "deletions withheld.")
			assert.Contains(t, out, "Deletions digest: "+reviewed)

			// Run 6: a dry run shows the same digest and changes nothing.
			sb.cp.ResetCounts()
			o, out = runOK(t, sb, steps[5], done)
			done = append(done, o)
			assert.Equal(t, ocsync.ExitOK, o.exit)
			assert.True(t, o.report.DryRun)
			assert.Equal(t, reviewed, o.report.Plan.DeletionsDigest)
			assert.Empty(t, mutations(sb.cp))
			assert.Contains(t, out, " -dry-run\n")
			assert.Contains(t, out, "Deletions digest: "+reviewed)

			// Run 7: one more instance gone; the reviewed digest is stale.
			sb.cp.ResetCounts()
			o, out = runOK(t, sb, steps[6], done)
			done = append(done, o)
			_, ok := sb.oc.Instance(instanceID(lastDeleted))
			assert.False(t, ok, "the instance is gone from the platform")
			assert.Equal(t, ocsync.ExitGuard, o.exit)
			assert.Equal(t, reviewed, o.report.Plan.Guard.Refused)
			fresh := o.report.Plan.DeletionsDigest
			assert.NotEmpty(t, fresh)
			assert.NotEqual(t, reviewed, fresh)
			assert.Equal(t, namesAt(append(span(cut, n), lastDeleted)...), deletions(o.report))
			assert.Zero(t, sb.cp.Count("unregisterApplication"))
			assert.Equal(t, all, registeredNames(sb), "nothing deleted, not even below the threshold")
			assert.Contains(t, out, " -approve "+reviewed+"\n")
			assert.Contains(t, out, "does not match this plan's deletions")
			assert.Contains(t, out, "Deletions digest: "+fresh)

			// Run 8: the review shows the new digest.
			sb.cp.ResetCounts()
			o, _ = runOK(t, sb, steps[7], done)
			done = append(done, o)
			assert.Equal(t, fresh, o.report.Plan.DeletionsDigest)
			assert.Empty(t, mutations(sb.cp))

			// Run 9: approving exactly the new digest applies the deletions.
			sb.cp.ResetCounts()
			o, out = runOK(t, sb, steps[8], done)
			assert.Equal(t, ocsync.ExitOK, o.exit)
			assert.True(t, o.report.Plan.Guard.Approved)
			assert.Equal(t, len(removed)+1, o.report.Summary.Deleted)
			assert.Equal(t, len(removed)+1, sb.cp.Count("unregisterApplication"))
			left := slices.DeleteFunc(span(0, cut-1), func(i int) bool {
				return i == idxDeleted || i == idxDisabled || i == lastDeleted
			})
			assert.Equal(t, namesAt(left...), registeredNames(sb))
			assert.Contains(t, out, " -approve "+fresh+"\n")
			assert.Contains(t, out, "deletions applied (approved "+fresh+")")

			// The next run without -approve has nothing left to do.
			sb.cp.ResetCounts()
			rep, code, err := sb.sync(t.Context(), runOptions{})
			require.NoError(t, err)
			assert.Equal(t, ocsync.ExitOK, code)
			assert.Zero(t, rep.Plan.Mutations())
			assert.Empty(t, mutations(sb.cp))
		})
	}
}

// TestScenarioReportsRefusedDeletions makes the Director refuse the
// approved deletions: the ninth run then differs from its step, and the
// scenario says so.
func TestScenarioReportsRefusedDeletions(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t, minInstances)
	steps := sb.steps()
	const approving = 8 // the ninth run
	var done []outcome
	for _, st := range steps[:approving] {
		o, _ := runOK(t, sb, st, done)
		done = append(done, o)
	}
	sb.cp.AddFault("unregisterApplication", compasstest.Fault{Code: compasstest.InvalidData, Times: 100})
	var out bytes.Buffer
	o, err := sb.runStep(t.Context(), &out, steps[approving], done)
	require.NoError(t, err)
	assert.Contains(t, o.problems, fmt.Sprintf("exit code %d, want %d", ocsync.ExitItemsFailed, ocsync.ExitOK))
	assert.Contains(t, strings.Join(o.problems, "\n"), "the Director holds")
	assert.Contains(t, out.String(), "UNEXPECTED")
}

// TestSlowLatency checks that the slow run's chains of requests add up to
// slowApply at the least, whatever the number of changes.
func TestSlowLatency(t *testing.T) {
	for _, changes := range []int{1, 7, 8, 9, 11, 35, 64, 499} {
		d := slowLatency(changes)
		rounds := (changes + applyConcurrency - 1) / applyConcurrency
		assert.GreaterOrEqual(t, d*time.Duration(rounds*requestsPerRotation), slowApply, "%d changes", changes)
		assert.GreaterOrEqual(t, d, time.Millisecond)
	}
	assert.Greater(t, slowLatency(8), slowLatency(9), "more rounds, shorter delays")
	assert.Greater(t, slowApply, 2*progressInterval, "the slow run spans several progress intervals")
}

func TestCheckGuard(t *testing.T) {
	report := func(digest string, g ocsync.Guard) *ocsync.Report {
		return &ocsync.Report{Plan: &ocsync.Plan{DeletionsDigest: digest, Guard: g}}
	}
	done := []outcome{{report: report("sha256:aa", ocsync.Guard{Tripped: true})}, {report: report("sha256:bb", ocsync.Guard{Tripped: true})}}
	tests := []struct {
		name string
		st   step
		rep  *ocsync.Report
		want string
	}{
		{"withheld as expected", step{guard: guardWithheld, sameDigest: 1}, report("sha256:aa", ocsync.Guard{Tripped: true}), ""},
		{"not tripped", step{guard: guardWithheld}, report("sha256:aa", ocsync.Guard{}), `deletion guard "", want "withheld"`},
		{"tripped unexpectedly", step{}, report("sha256:aa", ocsync.Guard{Tripped: true}), `deletion guard "withheld", want ""`},
		{"no digest", step{guard: guardWithheld}, report("", ocsync.Guard{Tripped: true}), "no deletions digest"},
		{"digest changed", step{guard: guardWithheld, sameDigest: 1}, report("sha256:bb", ocsync.Guard{Tripped: true}), "want run 1's sha256:aa"},
		{"digest not new", step{guard: guardRefused, approve: 1, newDigest: 1},
			report("sha256:aa", ocsync.Guard{Tripped: true, Refused: "sha256:aa"}), "is run 1's, want a new one"},
		{"refused another digest", step{guard: guardRefused, approve: 2},
			report("sha256:cc", ocsync.Guard{Tripped: true, Refused: "sha256:aa"}), "want the approved sha256:bb"},
		{"approved as expected", step{guard: guardApproved}, report("sha256:cc", ocsync.Guard{Approved: true}), ""},
		{"approval refused", step{guard: guardApproved}, report("sha256:cc", ocsync.Guard{Tripped: true, Refused: "sha256:cc"}),
			`deletion guard "refused", want "approved"`},
		{"no earlier run", step{guard: guardWithheld, sameDigest: 3}, report("sha256:aa", ocsync.Guard{Tripped: true}), "no digest of run 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := checkGuard(tt.st, tt.rep, done)
			if tt.want == "" {
				assert.Empty(t, problems)
				return
			}
			require.Len(t, problems, 1)
			assert.Contains(t, problems[0], tt.want)
		})
	}
}

func TestCheckProgress(t *testing.T) {
	assert.Equal(t, []string{"no progress record was logged"}, checkProgress(nil, 5))
	assert.Empty(t, checkProgress([]progressRecord{{done: 0, total: 5}, {done: 3, total: 5}, {done: 5, total: 5}}, 5))
	for name, records := range map[string][]progressRecord{
		"other total":    {{done: 1, total: 4}},
		"failed":         {{done: 1, total: 5, failed: 1}},
		"counts down":    {{done: 3, total: 5}, {done: 2, total: 5}},
		"more than done": {{done: 6, total: 5}},
	} {
		assert.Len(t, checkProgress(records, 5), 1, name)
	}
}

// TestProgressHandler checks that the handler keeps the engine's progress
// records from a real run and passes every record on.
func TestProgressHandler(t *testing.T) {
	var text bytes.Buffer
	sink := &progressSink{}
	log := slog.New(progressHandler{next: slog.NewTextHandler(&text, nil), sink: sink}).With(slog.String("component", "engine"))
	log.Info("progress", slog.Int("done", 3), slog.Int("total", 10), slog.Int("failed", 1),
		slog.Float64("rate", 2.5), slog.Duration("eta", 3*time.Second))
	log.Info("run finished")
	log.Warn("progress", slog.Int("done", 9))         // not the engine's record
	log.Info("progress", slog.String("done", "many")) // not the engine's shape
	log.Debug("progress", slog.Int("done", 1))        // below Info: never kept
	assert.Equal(t, []progressRecord{{done: 3, total: 10, failed: 1, rate: 2.5, eta: 3 * time.Second}, {}}, sink.take())
	assert.Empty(t, sink.take(), "take forgets")
	assert.Equal(t, 4, strings.Count(text.String(), "component=engine"), "every record the next handler wants is passed on")
	assert.NotContains(t, text.String(), "level=DEBUG")

	quiet := slog.New(progressHandler{next: slog.DiscardHandler, sink: sink})
	assert.True(t, quiet.Enabled(context.Background(), slog.LevelInfo), "progress is kept when nothing is shown")
	assert.False(t, quiet.Enabled(context.Background(), slog.LevelDebug))
	quiet.WithGroup("g").Info("progress", slog.Int("done", 2), slog.Int("total", 2))
	assert.Equal(t, []progressRecord{{done: 2, total: 2}}, sink.take())

	assert.Equal(t, "progress: 0 of 4 changes done, 0 failed, 0.0 changes/s, no estimate yet", progressRecord{total: 4}.String())
	assert.Equal(t, "progress: 2 of 4 changes done, 0 failed, 1.5 changes/s, about 1s left",
		progressRecord{done: 2, total: 4, rate: 1.5, eta: time.Second}.String())
}

// TestStepOptions checks the flags a step's run gets.
func TestStepOptions(t *testing.T) {
	done := []outcome{{report: &ocsync.Report{Plan: &ocsync.Plan{DeletionsDigest: "sha256:aa"}}}, {}}
	o, err := step{dryRun: true}.options(done)
	require.NoError(t, err)
	assert.Equal(t, runOptions{dryRun: true}, o)
	o, err = step{approve: 1}.options(done)
	require.NoError(t, err)
	assert.Equal(t, runOptions{approve: "sha256:aa"}, o)
	_, err = step{approve: 2}.options(done)
	assert.ErrorContains(t, err, "which made no plan")
	_, err = step{approve: 3}.options(done)
	assert.Error(t, err)

	sb := &sandbox{configPath: "/tmp/c.json"}
	assert.Equal(t, "ocjob -config /tmp/c.json -dry-run", sb.command(runOptions{dryRun: true}))
	assert.Equal(t, "ocjob -config /tmp/c.json -approve sha256:aa", sb.command(runOptions{approve: "sha256:aa"}))
}
