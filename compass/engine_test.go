package compass

import (
	"net/http"
	"testing"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEngineRoundTrip runs the reconciliation engine against the fake
// Director: a first run creates, a second run changes nothing and costs only
// the listing, a changed source updates, a removed one deletes.
func TestEngineRoundTrip(t *testing.T) {
	srv := newServer(t)
	cfg := testConfig(srv)
	cfg.PageSize = 2
	reg := newRegistry(t, cfg)
	src := ocsynctest.NewSource()
	for _, id := range []string{"1", "2", "3"} {
		app := desired(id)
		src.Put(app, ocsynctest.DefaultSpec(app.Name))
	}
	engine := &ocsync.Engine{Source: src, Registry: reg, NameKey: NormalizeName}
	run := func() ocsync.Summary {
		t.Helper()
		plan, err := engine.Plan(t.Context())
		require.NoError(t, err)
		rep, err := engine.Apply(t.Context(), plan)
		require.NoError(t, err)
		return rep.Summary
	}

	assert.Equal(t, 3, run().Created)

	srv.ResetCounts()
	s := run()
	assert.Equal(t, 3, s.Unchanged)
	calls := srv.Counts()
	assert.Equal(t, 2, calls["applications"], "a no-op run reads the pages only")
	delete(calls, "applications")
	for op, n := range calls {
		assert.Zero(t, n, op)
	}

	changed := desired("2")
	changed.Description = "renamed"
	changed.Credential = "User a, Organization b, Element new"
	src.Put(changed, ocsynctest.DefaultSpec(changed.Name))
	src.Remove("oc-3")
	s = run()
	assert.Equal(t, 1, s.Updated)
	assert.Equal(t, 1, s.Deleted)
	assert.Equal(t, 1, s.Unchanged)

	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)
	m := byName(regs)
	require.Len(t, m, 2)
	assert.Equal(t, "renamed", m["oc-2"].Attributes.Description)
	s = run()
	assert.Equal(t, ocsync.Summary{Unchanged: 2}, s, "converged")
}

// TestEngineItemStatusIsNotFatal: an HTTP 4xx that concerns one request
// only, such as a 413 from an ingress for one large spec, fails that item;
// the engine goes on with the others.
func TestEngineItemStatusIsNotFatal(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	src := ocsynctest.NewSource()
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		app := desired(id)
		src.Put(app, ocsynctest.DefaultSpec(app.Name))
	}
	engine := &ocsync.Engine{Source: src, Registry: reg, NameKey: NormalizeName, Concurrency: 1}
	plan, err := engine.Plan(t.Context())
	require.NoError(t, err)
	srv.AddFault("registerApplication", compasstest.Fault{Status: http.StatusRequestEntityTooLarge, Times: 1})

	rep, err := engine.Apply(t.Context(), plan)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ocsync.ErrFatal)
	assert.ErrorIs(t, err, remote.ErrInvalidInput)
	assert.Equal(t, 4, rep.Summary.Created)
	assert.Equal(t, 1, rep.Summary.Failed)
	assert.Zero(t, rep.Summary.NotStarted)
	regs, err := reg.Applications(t.Context())
	require.NoError(t, err)
	assert.Len(t, regs, 4)
}
