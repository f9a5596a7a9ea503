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

func TestTaken(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	spec := testSpec(`{}`)
	own := desired("3")
	require.NoError(t, reg.Create(t.Context(), own, spec, stateOf(own, spec)))
	seedApp(t, srv, "OC_1", map[string]any{"unrelated": "x"}, nil)
	seedApp(t, srv, "mp-oc-2", nil, nil)
	_, err := srv.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "oc.4",
		Labels: map[string]any{IdentityLabel: map[string]any{"connectorInstanceContext": "elsewhere", "connectorInstanceID": "4"}}})
	require.NoError(t, err)

	var names []string
	for i := 1; i <= 25; i++ {
		names = append(names, fmt.Sprintf("oc-%d", i))
	}
	names = append(names, "OC-1") // the same key twice is looked up once
	srv.ResetCounts()
	taken, err := reg.Taken(t.Context(), names)
	require.NoError(t, err)
	got := map[string]bool{}
	for _, r := range taken {
		got[r.Name] = r.Owned
		assert.NotEmpty(t, r.ID)
	}
	assert.Equal(t, map[string]bool{"OC_1": false, "mp-oc-2": false, "oc-3": true, "oc.4": false}, got,
		"normalised clashes, the Director's own mp- rule, and the registry's own application")
	assert.Equal(t, 2, srv.Requests()-srv.Count(compasstest.TokenOperation), "25 names in batches of 20: two requests")
	assert.Equal(t, 25, srv.Count("applications"), "one look-up per name; unused aliases are not resolved")

	none, err := reg.Taken(t.Context(), nil)
	require.NoError(t, err)
	assert.Empty(t, none)
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
