package compass

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
)

// takenFixture is a Registry with one application of its own (oc-3) in a
// tenant holding four foreign ones whose names clash with oc-1, oc-2 and
// oc-4 under the Director's name rule.
func takenFixture(t *testing.T, cfg func(*Config)) (*compasstest.Server, *Registry) {
	t.Helper()
	srv := newServer(t)
	c := testConfig(srv)
	if cfg != nil {
		cfg(&c)
	}
	reg := newRegistry(t, c)
	spec := testSpec(`{}`)
	own := desired("3")
	require.NoError(t, reg.Create(t.Context(), own, spec, stateOf(own, spec)))
	seedApp(t, srv, "OC_1", map[string]any{"unrelated": "x"}, nil)
	seedApp(t, srv, "mp-oc-2", nil, nil)
	_, err := srv.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "oc.4",
		Labels: map[string]any{IdentityLabel: map[string]any{"connectorInstanceContext": "elsewhere", "connectorInstanceID": "4"}}})
	require.NoError(t, err)
	return srv, reg
}

func names(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("oc-%d", i))
	}
	return out
}

func takenOwned(t *testing.T, taken []ocsync.Registered) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, r := range taken {
		got[r.Name] = r.Owned
		assert.NotEmpty(t, r.ID)
	}
	return got
}

// TestTaken: few names are looked up one by one; many names cost one page of
// the tenant's names and a look-up per name found there, never one look-up
// per name.
func TestTaken(t *testing.T) {
	want := map[string]bool{"OC_1": false, "mp-oc-2": false, "oc-3": true, "oc.4": false}
	t.Run("few", func(t *testing.T) {
		srv, reg := takenFixture(t, nil)
		srv.ResetCounts()
		taken, err := reg.Taken(t.Context(), append(names(1, TakenBatch), "OC-1")) // the same key twice is looked up once
		require.NoError(t, err)
		assert.Equal(t, want, takenOwned(t, taken),
			"normalised clashes, the Director's own mp- rule, and the registry's own application")
		assert.Equal(t, 1, srv.Requests()-srv.Count(compasstest.TokenOperation), "one request")
		assert.Equal(t, TakenBatch, srv.Count("applications"), "one look-up per name; unused aliases are not resolved")
	})
	t.Run("many", func(t *testing.T) {
		srv, reg := takenFixture(t, nil)
		srv.ResetCounts()
		taken, err := reg.Taken(t.Context(), append(names(1, 1000), "OC-1"))
		require.NoError(t, err)
		assert.Equal(t, want, takenOwned(t, taken))
		assert.Equal(t, 2, srv.Requests()-srv.Count(compasstest.TokenOperation), "the names page, then the look-ups")
		assert.Equal(t, 1+4, srv.Count("applications"), "one page of names and one look-up per name found")
	})
	t.Run("many names in pages", func(t *testing.T) {
		srv, reg := takenFixture(t, func(c *Config) { c.PageSize = 2 })
		srv.ResetCounts()
		taken, err := reg.Taken(t.Context(), names(1, 1000))
		require.NoError(t, err)
		assert.Equal(t, want, takenOwned(t, taken))
		assert.Equal(t, 2+4, srv.Count("applications"), "two pages of two names for four applications, and the look-ups")
	})
	t.Run("a tenant too large to list", func(t *testing.T) {
		// 21 names allow two pages of names: the tenant's four
		// applications take four pages of one, so Taken stops after the
		// first and looks up only what it found there.
		srv, reg := takenFixture(t, func(c *Config) { c.PageSize = 1 })
		srv.ResetCounts()
		taken, err := reg.Taken(t.Context(), names(1, TakenBatch+1))
		require.NoError(t, err)
		assert.LessOrEqual(t, len(taken), 1)
		assert.LessOrEqual(t, srv.Count("applications"), 2, "one page of names and at most one look-up")
	})
	t.Run("none", func(t *testing.T) {
		srv, reg := takenFixture(t, nil)
		srv.ResetCounts()
		none, err := reg.Taken(t.Context(), nil)
		require.NoError(t, err)
		assert.Empty(t, none)
		assert.Zero(t, srv.Count("applications"))
	})
}

func TestTakenMalformed(t *testing.T) {
	for _, kind := range []compasstest.Malformation{compasstest.DataNull, compasstest.FieldNull, compasstest.ItemsNull, compasstest.NullItem, compasstest.MissingID} {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			srv := newServer(t)
			reg := newRegistry(t, testConfig(srv))
			seedApp(t, srv, "OC_1", nil, nil)
			srv.AddFault("applications", compasstest.Fault{Malformed: kind, Times: 1})
			_, err := reg.Taken(t.Context(), []string{"oc-1"})
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
}

// TestKnownClashCostsNothing: the engine asks Taken before it creates, so
// a name held by a foreign application is a conflict in the plan, without
// a refused register or a spec download.
func TestKnownClashCostsNothing(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	seedApp(t, srv, "OC_1", map[string]any{"unrelated": "x"}, nil)
	src := newSource(desired("1"), desired("2"))
	srv.ResetCounts()
	engine, err := ocsync.NewEngine(src, reg)
	require.NoError(t, err)
	plan, err := engine.Plan(t.Context())
	require.NoError(t, err)
	kinds := map[string]ocsync.ChangeKind{}
	for _, c := range plan.Changes {
		kinds[c.Name] = c.Kind
	}
	assert.Equal(t, map[string]ocsync.ChangeKind{"oc-1": ocsync.KindConflict, "oc-2": ocsync.KindCreate}, kinds)
	rep, err := engine.Apply(t.Context(), plan)
	require.ErrorIs(t, err, ocsync.ErrConflict)
	assert.Equal(t, 1, rep.Summary.Created)
	assert.Equal(t, 1, srv.Count("registerApplication"), "no register for the known clash")
	assert.Equal(t, 1, src.Count(ocsynctest.OpSpec), "no download for the known clash")
}

// TestConflictNamesTheOtherOwner: a name held by an application of another
// sync.owner of the same host is a conflict that names that owner, whether
// the listing (a job without an owner lists every owner's applications of
// its host), the look-up or a refused register finds it.
func TestConflictNamesTheOtherOwner(t *testing.T) {
	srv := newServer(t)
	withOwner := func(owner string) *Registry {
		c := testConfig(srv)
		c.Scope.Owner = owner
		return newRegistry(t, c)
	}
	shardA, shardB, none := withOwner("shard-a"), withOwner("shard-b"), withOwner("")
	spec := testSpec(`{}`)
	for reg, id := range map[*Registry]string{shardA: "1", none: "2"} {
		app := desired(id)
		require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
	}
	const overlap = "for the same Open Connectors host; the two jobs' selections overlap: give each its own applicationPrefix or disjoint tags"

	engine, err := ocsync.NewEngine(newSource(desired("1")), none)
	require.NoError(t, err)
	plan, err := engine.Plan(t.Context())
	require.NoError(t, err)
	require.Len(t, plan.Changes, 2)
	assert.Equal(t, ocsync.KindConflict, plan.Changes[0].Kind)
	assert.Equal(t, `name "oc-1" is taken by an application of sync.owner "shard-a" `+overlap, plan.Changes[0].Reason)

	taken, err := shardB.Taken(t.Context(), []string{"oc-1", "oc-2"})
	require.NoError(t, err)
	require.Len(t, taken, 2)
	assert.Equal(t, `an application of sync.owner "shard-a" `+overlap, taken[0].Holder)
	assert.Equal(t, "an application of the job without a sync.owner "+overlap, taken[1].Holder)

	app := desired("1")
	err = shardB.Create(t.Context(), app, spec, stateOf(app, spec))
	require.ErrorIs(t, err, ocsync.ErrConflict)
	assert.Contains(t, err.Error(), `the name is taken by an application of sync.owner "shard-a" `+overlap)

	taken, err = shardA.Taken(t.Context(), []string{"oc-1"})
	require.NoError(t, err)
	require.Len(t, taken, 1)
	assert.True(t, taken[0].Owned)
	assert.Empty(t, taken[0].Holder, "an owned application has no holder")
}
