package config_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// TestForeignClashAcrossThreeRuns: one name of a cold sync of many is
// taken by a foreign application. The first run may pay one refused
// register and one download for it (when the tenant is too large to read
// its names); every later run pays neither. No run costs the Director a
// look-up per create.
func TestForeignClashAcrossThreeRuns(t *testing.T) {
	const n = 3 * compass.TakenBatch
	for _, tc := range []struct {
		name string
		// pageSize is compass.pageSize; extra foreign applications make
		// the tenant's names take more pages than a run of n creates may
		// read (n/TakenShare), so the first run does not look them up.
		pageSize, extra int
		// refused is the number of refused registers the first run may pay.
		refused int
	}{
		{name: "names read", pageSize: 200, refused: 0},
		{name: "tenant too large to read", pageSize: 1, extra: 5, refused: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := manyFakes(t, n)
			f.cfg.Compass.PageSize = tc.pageSize
			_, err := f.cp.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "OC_105", Labels: map[string]any{"team": "manual"}})
			require.NoError(t, err)
			for i := range tc.extra {
				_, err := f.cp.Seed(compasstest.DefaultTenant, compasstest.Application{Name: fmt.Sprintf("manual-%d", i)})
				require.NoError(t, err)
			}
			dryRun := func(what string) {
				t.Helper()
				e, err := config.NewController(f.cfg, config.Options{DryRun: true})
				require.NoError(t, err)
				o := e.RunOnce(context.Background())
				require.NotNil(t, o.Report)
				assert.Equal(t, 1, o.Report.Plan.Count(ocsync.KindConflict), "%s: the dry run reports the clash", what)
			}
			if tc.refused == 0 {
				dryRun("before the first run") // the tenant's names were read
			}
			for run := 1; run <= 3; run++ {
				if run == 2 {
					dryRun("after the first run") // few creates: their names are looked up
				}
				e, err := config.NewController(f.cfg, config.Options{})
				require.NoError(t, err)
				f.oc.ResetCounts()
				f.cp.ResetCounts()
				o := e.RunOnce(context.Background())
				require.ErrorIs(t, o.Err, ocsync.ErrConflict, "run %d", run)
				assert.Equal(t, 1, o.Report.Summary.Conflicts, "run %d", run)
				registers, downloads := f.cp.Count("registerApplication"), f.oc.Count(octest.EndpointDocs)
				t.Logf("run %d: %d registers, %d downloads, Director %v", run, registers, downloads, f.cp.Counts())
				if run == 1 {
					assert.Equal(t, n-1, o.Report.Summary.Created)
					assert.LessOrEqual(t, registers, n-1+tc.refused, "refused registers")
					assert.LessOrEqual(t, downloads, n-1+tc.refused, "downloads for the clash")
					// The registrations, the one empty listing page, the
					// names page, and at most one look-up of the clash.
					assert.LessOrEqual(t, f.cp.FieldExecutions(), registers+3, "no look-up per create: %v", f.cp.Counts())
					continue
				}
				assert.Equal(t, n-1, o.Report.Summary.Unchanged, "run %d", run)
				assert.Zero(t, downloads, "run %d: no download for the clash", run)
				counts := f.cp.Counts()
				delete(counts, compasstest.TokenOperation)
				pages := (n - 1 + tc.pageSize - 1) / tc.pageSize
				assert.Equal(t, map[string]int{"applications": pages + 1}, counts,
					"run %d: the listing pages and the one look-up of the clashing name; no register", run)
			}
		})
	}
}

// TestOverlappingShardsNameTheOwner: two jobs with one applicationPrefix
// and different sync.owner values select the same instances. The second
// one's conflicts say which owner holds each name and that the selections
// overlap, whether the plan found the clash or the Director refused the
// register.
func TestOverlappingShardsNameTheOwner(t *testing.T) {
	for _, tc := range []struct {
		name      string
		instances int
	}{
		{"found in the plan", 3},
		{"refused at register", 3 * compass.TakenBatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := manyFakes(t, tc.instances)
			shardA, shardB := *f.cfg, *f.cfg
			shardA.Source.Owner, shardB.Source.Owner = "shard-a", "shard-b"
			if tc.instances > compass.TakenBatch {
				// Names in pages of one: the tenant is too large for the
				// second shard's creates to read its names.
				shardB.Compass.PageSize = 1
			}
			run := func(cfg *config.Config) ocsync.RunOutcome {
				t.Helper()
				e, err := config.NewController(cfg, config.Options{})
				require.NoError(t, err)
				return e.RunOnce(context.Background())
			}
			a := run(&shardA)
			require.NoError(t, a.Err)
			require.Equal(t, tc.instances, a.Report.Summary.Created)

			b := run(&shardB)
			require.ErrorIs(t, b.Err, ocsync.ErrConflict)
			assert.Equal(t, tc.instances, b.Report.Summary.Conflicts)
			for _, r := range b.Report.Results {
				assert.Contains(t, r.Error, `taken by an application of sync.owner "shard-a" for the same Open Connectors host`, r.Name)
				assert.Contains(t, r.Error, "selections overlap: give each its own applicationPrefix or disjoint tags", r.Name)
			}
		})
	}
}

// manyFakes is newFakes with n instances 100, 101, ... of distinct tokens,
// for any n.
func manyFakes(t *testing.T, n int) *fakes {
	t.Helper()
	instances := make([]octest.Instance, n)
	for i := range instances {
		instances[i] = octest.Instance{
			ID: int64(100 + i), Name: "crm", Token: fmt.Sprintf("%s-%d", fakeToken, i),
			Element: octest.Element{ID: 1, Key: "sfdc", Name: "Salesforce"},
		}
	}
	return newFakes(t, 0, octest.WithInstances(instances...))
}
