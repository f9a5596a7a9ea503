package ocsync_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// desired returns a desired application numbered i.
func desired(i int) ocsync.Application {
	return ocsync.Application{
		Name: fmt.Sprintf("app-%03d", i),
		Key:  fmt.Sprint(i),
		Attributes: ocsync.Attributes{
			Description:  fmt.Sprintf("SAP Open Connectors Salesforce: crm %d", i),
			ProviderName: "SAP Open Connectors",
			Status:       ocsync.StatusConnected,
			Bundle:       "sfdc",
			API:          fmt.Sprintf("Salesforce: crm %d", i),
			TargetURL:    "https://oc.example.com/elements/api-v2",
			Revision:     "1",
		},
		Credential: redact.Secret(fmt.Sprintf("User u, Organization o, Element tok%d+/=", i)),
	}
}

// synced returns the registered, owned, in-sync counterpart of a.
func synced(a ocsync.Application) ocsync.Registered {
	return ocsync.Registered{
		ID: "id-" + a.Name, Name: a.Name, Key: a.Key, Owned: true, Attributes: a.Attributes,
		State: &ocsync.State{Fields: a.Fingerprint(), SpecSHA256: ocsync.SpecSHA256([]byte("spec")), SpecFetchedAt: now},
	}
}

func desiredN(n int) []ocsync.Application {
	out := make([]ocsync.Application, n)
	for i := range out {
		out[i] = desired(i)
	}
	return out
}

func syncedN(n int) []ocsync.Registered {
	out := make([]ocsync.Registered, n)
	for i := range out {
		out[i] = synced(desired(i))
	}
	return out
}

type kindCount map[ocsync.ChangeKind]int

func counts(p *ocsync.Plan) kindCount {
	c := kindCount{}
	for _, ch := range p.Changes {
		c[ch.Kind]++
	}
	return c
}

func TestCalculateKinds(t *testing.T) {
	renamed := desired(2)
	renamed.Description = "SAP Open Connectors Salesforce: renamed"
	renamed.API = "Salesforce: renamed"
	rotated := desired(3)
	rotated.Credential = "User u, Organization o, Element new"
	disabledNew := desired(7)
	disabledNew.Status = ocsync.StatusFailed
	disabledOld := desired(8)
	disabledOld.Status = ocsync.StatusFailed
	stale := synced(desired(9))
	stale.State.SpecFetchedAt = now.Add(-25 * time.Hour)
	adopted := synced(desired(10))
	adopted.State = nil
	broken := synced(desired(11))
	broken.Incomplete = true
	foreign := ocsync.Registered{ID: "x", Name: "app-012", Owned: false}

	src := []ocsync.Application{desired(1), renamed, rotated, desired(4), disabledNew, disabledOld, desired(9), desired(10), desired(11), desired(12), {Name: ""}, desired(1)}
	reg := []ocsync.Registered{synced(desired(1)), synced(desired(2)), synced(desired(3)), synced(desired(5)), synced(desired(8)), stale, adopted, broken, foreign}

	plan := ocsync.Calculate(src, reg, ocsync.PlanOptions{Now: now})
	byName := map[string]ocsync.Change{}
	for _, c := range plan.Changes {
		if c.Name != "" && c.Reason != "duplicate desired application name" {
			byName[c.Name] = c
		}
	}
	tests := []struct {
		name   string
		kind   ocsync.ChangeKind
		fields []string
	}{
		{"app-001", ocsync.KindUnchanged, nil},
		{"app-002", ocsync.KindUpdate, []string{ocsync.FieldAPI, ocsync.FieldDescription}},
		{"app-003", ocsync.KindUpdate, []string{ocsync.FieldCredential}},
		{"app-004", ocsync.KindCreate, nil},
		{"app-005", ocsync.KindDelete, nil},
		{"app-007", ocsync.KindSkipped, nil},
		{"app-008", ocsync.KindUpdate, []string{ocsync.FieldStatus}},
		{"app-009", ocsync.KindUpdate, []string{ocsync.FieldSpec}},
		{"app-010", ocsync.KindUpdate, []string{"api", "bundle", "credential", "description", "providerName", "revision", "spec", "status", "targetURL"}},
		{"app-011", ocsync.KindUpdate, []string{ocsync.FieldStructure}},
		{"app-012", ocsync.KindConflict, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := byName[tt.name]
			require.True(t, ok, "no change for %s", tt.name)
			assert.Equal(t, tt.kind, c.Kind)
			assert.Equal(t, tt.fields, c.Fields)
		})
	}
	t.Run("unusable inputs are skipped", func(t *testing.T) {
		var reasons []string
		for _, c := range plan.Changes {
			if c.Kind == ocsync.KindSkipped {
				reasons = append(reasons, c.Reason)
			}
		}
		assert.ElementsMatch(t, []string{"desired application has an empty name", "duplicate desired application name", "source is disabled or invalid; not created"}, reasons)
	})
	t.Run("sorted by name", func(t *testing.T) {
		for i := 1; i < len(plan.Changes); i++ {
			assert.LessOrEqual(t, plan.Changes[i-1].Name, plan.Changes[i].Name)
		}
	})
	t.Run("update carries old and new", func(t *testing.T) {
		c := byName["app-002"]
		require.NotNil(t, c.Old)
		require.NotNil(t, c.New)
		assert.Equal(t, desired(2).Description, c.Old.Description)
		assert.Equal(t, renamed.Description, c.New.Description)
		assert.Equal(t, "id-app-002", c.ID)
	})
	t.Run("foreign application never deleted", func(t *testing.T) {
		for _, c := range plan.Changes {
			if c.ID == "x" {
				assert.Equal(t, ocsync.KindConflict, c.Kind)
			}
		}
	})
}

func TestCalculateNameKeyFindsNormalisedClash(t *testing.T) {
	a := desired(1)
	foreign := ocsync.Registered{ID: "f", Name: "APP_001", Owned: false}
	lower := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }

	plan := ocsync.Calculate([]ocsync.Application{a}, []ocsync.Registered{foreign}, ocsync.PlanOptions{Now: now})
	assert.Equal(t, ocsync.KindCreate, plan.Changes[0].Kind, "without a name key the names differ")

	plan = ocsync.Calculate([]ocsync.Application{a}, []ocsync.Registered{foreign}, ocsync.PlanOptions{Now: now, NameKey: lower})
	assert.Equal(t, ocsync.KindConflict, plan.Changes[0].Kind)
}

func TestCalculatePolicies(t *testing.T) {
	changed := desired(2)
	changed.Description = "new"
	src := []ocsync.Application{desired(1), changed}
	reg := []ocsync.Registered{synced(desired(2)), synced(desired(3))}
	tests := []struct {
		policy ocsync.Policy
		want   kindCount
	}{
		{"", kindCount{ocsync.KindCreate: 1, ocsync.KindUpdate: 1, ocsync.KindDelete: 1}},
		{ocsync.PolicySync, kindCount{ocsync.KindCreate: 1, ocsync.KindUpdate: 1, ocsync.KindDelete: 1}},
		{ocsync.PolicyUpsertOnly, kindCount{ocsync.KindCreate: 1, ocsync.KindUpdate: 1, ocsync.KindSkipped: 1}},
		{ocsync.PolicyCreateOnly, kindCount{ocsync.KindCreate: 1, ocsync.KindSkipped: 2}},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			plan := ocsync.Calculate(src, reg, ocsync.PlanOptions{Policy: tt.policy, Now: now})
			assert.Equal(t, tt.want, counts(plan))
			for _, c := range plan.Changes {
				if c.Kind == ocsync.KindSkipped {
					assert.Contains(t, c.Reason, "withheld by policy")
				}
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	for _, s := range []string{"", "sync", "upsert-only", "create-only"} {
		p, err := ocsync.ParsePolicy(s)
		require.NoError(t, err, s)
		assert.NotEmpty(t, p)
	}
	_, err := ocsync.ParsePolicy("delete-all")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"delete-all"`)
}

func TestCalculateGuard(t *testing.T) {
	tests := []struct {
		name    string
		owned   int
		keep    int
		maxPct  int
		force   bool
		tripped bool
		forced  bool
	}{
		{"below floor deletes freely", 9, 1, 0, false, false, false},
		{"at floor under threshold", 10, 8, 0, false, false, false},
		{"at threshold exactly", 10, 7, 0, false, false, false},
		{"over threshold", 10, 6, 0, false, true, false},
		{"over threshold forced", 10, 6, 0, true, false, true},
		{"custom threshold", 20, 15, 20, false, true, false},
		{"custom threshold at limit", 20, 16, 20, false, false, false},
		{"empty source below floor", 3, 0, 0, false, true, false},
		{"empty source forced", 3, 0, 0, true, false, true},
		{"no owned applications", 0, 0, 0, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := ocsync.Calculate(desiredN(tt.keep), syncedN(tt.owned), ocsync.PlanOptions{Now: now, MaxDeletePercent: tt.maxPct, Force: tt.force})
			assert.Equal(t, tt.tripped, plan.Guard.Tripped)
			assert.Equal(t, tt.forced, plan.Guard.Forced)
			assert.Equal(t, tt.owned-tt.keep, plan.Guard.Deletes)
			for _, c := range plan.Changes {
				if c.Kind == ocsync.KindDelete {
					assert.Equal(t, tt.tripped, c.Withheld, c.Name)
				}
			}
			wantMutations := 0
			if !tt.tripped {
				wantMutations = tt.owned - tt.keep
			}
			assert.Equal(t, wantMutations, plan.Mutations())
		})
	}
}

func TestCalculateDeterministic(t *testing.T) {
	src, reg := goldenInput()
	first, err := json.Marshal(ocsync.Calculate(src, reg, ocsync.PlanOptions{Now: now}))
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		// Shuffle the inputs: the plan must not depend on their order.
		s := append([]ocsync.Application(nil), src...)
		r := append([]ocsync.Registered(nil), reg...)
		for j := range s {
			k := (j*7 + i) % len(s)
			s[j], s[k] = s[k], s[j]
		}
		for j := range r {
			k := (j*5 + i) % len(r)
			r[j], r[k] = r[k], r[j]
		}
		again, err := json.Marshal(ocsync.Calculate(s, r, ocsync.PlanOptions{Now: now}))
		require.NoError(t, err)
		require.JSONEq(t, string(first), string(again))
	}
}

func goldenInput() ([]ocsync.Application, []ocsync.Registered) {
	renamed := desired(2)
	renamed.Description = "SAP Open Connectors Salesforce: renamed"
	renamed.API = "Salesforce: renamed"
	rotated := desired(3)
	rotated.Credential = "User u, Organization o, Element rotated"
	disabled := desired(6)
	disabled.Status = ocsync.StatusFailed
	src := []ocsync.Application{desired(1), renamed, rotated, desired(4), disabled}
	reg := []ocsync.Registered{synced(desired(1)), synced(desired(2)), synced(desired(3)), synced(desired(5)),
		{ID: "foreign-1", Name: "app-004", Owned: false, Attributes: ocsync.Attributes{Description: "someone else's"}}}
	return src, reg
}

func TestPlanGolden(t *testing.T) {
	src, reg := goldenInput()
	got, err := json.MarshalIndent(ocsync.Calculate(src, reg, ocsync.PlanOptions{Now: now}), "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("testdata", "plan.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./ocsync -run TestPlanGolden -update to create it")
	assert.Equal(t, string(want), string(got))
	assert.NotContains(t, string(got), "rotated", "credentials never reach a plan")
}

func TestApproveDigest(t *testing.T) {
	reviewed := ocsync.Calculate(desiredN(8), syncedN(10), ocsync.PlanOptions{Now: now})
	require.False(t, reviewed.Guard.Tripped, "2 of 10 is under the threshold")
	require.NotEmpty(t, reviewed.DeletionsDigest)

	same := ocsync.Calculate(desiredN(8), syncedN(10), ocsync.PlanOptions{Now: now, ApproveDigest: reviewed.DeletionsDigest})
	assert.False(t, same.Guard.Tripped)
	assert.Equal(t, 2, same.Mutations())

	// An approval that does not match withholds the deletions, even under
	// the threshold: the operator approved something else.
	other := ocsync.Calculate(desiredN(7), syncedN(10), ocsync.PlanOptions{Now: now, ApproveDigest: reviewed.DeletionsDigest})
	assert.True(t, other.Guard.Tripped)
	assert.Equal(t, reviewed.DeletionsDigest, other.Guard.Refused)
	assert.Zero(t, other.Mutations())
	assert.NotEqual(t, reviewed.DeletionsDigest, other.DeletionsDigest)
	for _, c := range other.Changes {
		if c.Kind == ocsync.KindDelete {
			assert.Contains(t, c.Reason, "approved digest")
		}
	}

	// A plan without deletions has no digest and refuses nothing.
	none := ocsync.Calculate(desiredN(10), syncedN(10), ocsync.PlanOptions{Now: now, ApproveDigest: reviewed.DeletionsDigest})
	assert.Empty(t, none.DeletionsDigest)
	assert.False(t, none.Guard.Tripped)

	// The digest names the deletions only: other changes do not move it.
	more := desiredN(8)
	more = append(more, desired(42))
	assert.Equal(t, reviewed.DeletionsDigest, ocsync.Calculate(more, syncedN(10), ocsync.PlanOptions{Now: now}).DeletionsDigest)
}

func TestCalculateRepairsValuesChangedInTheTarget(t *testing.T) {
	d := desired(1)
	edited := synced(d)
	edited.Attributes.Description = "edited by hand"
	edited.Attributes.Status = "INITIAL"
	edited.ReadBack = []string{ocsync.FieldDescription, ocsync.FieldStatus, ocsync.FieldProviderName}
	plan := ocsync.Calculate([]ocsync.Application{d}, []ocsync.Registered{edited}, ocsync.PlanOptions{Now: now})
	require.Len(t, plan.Changes, 1)
	assert.Equal(t, ocsync.KindUpdate, plan.Changes[0].Kind)
	assert.Equal(t, []string{ocsync.FieldDescription, ocsync.FieldStatus}, plan.Changes[0].Fields)

	// A field the registry does not read back is judged by the state only,
	// and an empty desired value is never forced.
	edited.ReadBack = nil
	assert.Equal(t, ocsync.KindUnchanged, ocsync.Calculate([]ocsync.Application{d}, []ocsync.Registered{edited}, ocsync.PlanOptions{Now: now}).Changes[0].Kind)
	empty := d
	empty.Description = ""
	same := synced(empty)
	same.Attributes.Description = "written by the target"
	same.ReadBack = []string{ocsync.FieldDescription}
	assert.Equal(t, ocsync.KindUnchanged, ocsync.Calculate([]ocsync.Application{empty}, []ocsync.Registered{same}, ocsync.PlanOptions{Now: now}).Changes[0].Kind)
}

// TestConflictReasonNamesTheHolder: a conflict says who holds the name when
// the Registry could tell.
func TestConflictReasonNamesTheHolder(t *testing.T) {
	desired := []ocsync.Application{{Name: "app-1", Key: "1"}, {Name: "app-2", Key: "2"}}
	registered := []ocsync.Registered{
		{ID: "a", Name: "app-1", Key: "1", Holder: "another sync"},
		{ID: "b", Name: "app-2"},
	}
	plan := ocsync.Calculate(desired, registered, ocsync.PlanOptions{})
	require.Len(t, plan.Changes, 2)
	assert.Equal(t, `name "app-1" is taken by another sync`, plan.Changes[0].Reason)
	assert.Equal(t, `name "app-2" is taken by an application this job does not own`, plan.Changes[1].Reason)
}

func TestIsDeletionsDigest(t *testing.T) {
	digest := ocsync.DeletionsDigest(ocsync.Calculate(nil, syncedN(2), ocsync.PlanOptions{Now: now}).Changes)
	assert.True(t, ocsync.IsDeletionsDigest(digest), digest)
	for _, bad := range []string{"", "sha256:", digest + "0", digest[:len(digest)-1], "SHA256:" + digest[7:], "sha256:" + strings.Repeat("G", 32),
		"sha256:" + strings.ToUpper(digest[7:]), "md5:" + digest[7:]} {
		assert.False(t, ocsync.IsDeletionsDigest(bad), bad)
	}
}
