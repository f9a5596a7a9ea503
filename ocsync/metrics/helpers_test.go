package metrics_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// guardReport is the report of a run over ten owned applications, and its
// error: four deletions withheld by the guard, one update, one create whose
// document failed (planned in a dry run), one conflict, five unchanged.
func guardReport(t *testing.T, dryRun bool) (*ocsync.Report, error) {
	t.Helper()
	rep := &ocsync.Report{DryRun: dryRun, Plan: &ocsync.Plan{Guard: ocsync.Guard{Tripped: true, Owned: 10, Deletes: 4, MaxPercent: 30}}}
	add := func(kind ocsync.ChangeKind, outcome ocsync.Outcome, n int) {
		for range n {
			rep.Results = append(rep.Results, ocsync.Result{Kind: kind, Outcome: outcome})
		}
	}
	created, summary := ocsync.OutcomeFailed, ocsync.Summary{Updated: 1, Unchanged: 5, Conflicts: 1, Failed: 1, Withheld: 4, SpecFetches: 1}
	if dryRun {
		created, summary = ocsync.OutcomePlanned, ocsync.Summary{Created: 1, Updated: 1, Unchanged: 5, Conflicts: 1, Withheld: 4}
	}
	add(ocsync.KindDelete, ocsync.OutcomeWithheld, 4)
	add(ocsync.KindUpdate, map[bool]ocsync.Outcome{false: ocsync.OutcomeApplied, true: ocsync.OutcomePlanned}[dryRun], 1)
	add(ocsync.KindCreate, created, 1)
	add(ocsync.KindConflict, ocsync.OutcomeConflict, 1)
	add(ocsync.KindUnchanged, ocsync.OutcomeNone, 5)
	rep.Summary = summary
	errs := []error{&ocsync.ItemError{Name: "oc-4731", Kind: ocsync.KindConflict, Err: &ocsync.ConflictError{Name: "oc-4731", Reason: "taken"}},
		&ocsync.GuardError{Deletes: 4, Owned: 10, MaxPercent: 30}}
	if !dryRun {
		errs = append(errs, &ocsync.ItemError{Name: "oc-4730", Kind: ocsync.KindCreate, Err: errors.New("load spec: invalid spec")})
	}
	return rep, errors.Join(errs...)
}
