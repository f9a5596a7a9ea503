package ocsynctest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
)

func TestInterceptRegistryFailsBeforeOrAfterTheCall(t *testing.T) {
	ctx := context.Background()
	inner := ocsynctest.NewRegistry()
	lost := errors.New("connection reset after the request was sent")
	refused := errors.New("503 before anything happened")
	reg := ocsynctest.InterceptRegistry(inner, ocsynctest.RegistryFuncs{
		Create: func(ctx context.Context, next ocsync.Registry, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
			if app.Name == "refused" {
				return refused
			}
			if err := next.Create(ctx, app, spec, state); err != nil {
				return err
			}
			return lost // committed, but the answer is lost
		},
	})
	assert.ErrorIs(t, reg.Create(ctx, ocsync.Application{Name: "refused"}, ocsync.Spec{}, ocsync.State{}), refused)
	assert.ErrorIs(t, reg.Create(ctx, ocsync.Application{Name: "lost"}, ocsync.Spec{}, ocsync.State{}), lost)
	assert.Equal(t, []string{"lost"}, inner.Names(), "only the one sent was committed")

	// Calls without a function pass through.
	list, err := reg.Applications(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NoError(t, reg.Delete(ctx, list[0]))
	assert.Empty(t, inner.Names())
	assert.Equal(t, "Name", reg.NameKey("Name"))
	assert.Equal(t, ocsync.Scope{}, reg.Scope())
	taken, err := reg.Taken(ctx, []string{"x"})
	assert.NoError(t, err)
	assert.Empty(t, taken)
}

func TestInterceptedSidesStillMakeAnEngine(t *testing.T) {
	src := ocsynctest.InterceptSource(ocsynctest.NewSource(ocsync.Application{Name: "a", Key: "1"}), ocsynctest.SourceFuncs{
		Spec: func(ctx context.Context, next ocsync.Source, app ocsync.Application) (ocsync.Spec, error) {
			return ocsync.Spec{}, errors.New("docs: 500")
		},
	})
	reg := ocsynctest.InterceptRegistry(ocsynctest.NewRegistry(), ocsynctest.RegistryFuncs{})
	e, err := ocsync.NewEngine(src, reg)
	require.NoError(t, err)
	plan, err := e.Plan(context.Background())
	require.NoError(t, err)
	rep, err := e.Apply(context.Background(), plan)
	assert.ErrorIs(t, err, ocsync.ErrItemFailed)
	assert.Equal(t, 1, rep.Summary.Failed)
}
