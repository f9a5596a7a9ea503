package ocsynctest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

func TestSource(t *testing.T) {
	ctx := context.Background()
	src := ocsynctest.NewSource(ocsync.Application{Name: "b"}, ocsync.Application{Name: "a"})
	apps, err := src.Applications(ctx)
	require.NoError(t, err)
	require.Len(t, apps, 2)
	assert.Equal(t, "a", apps[0].Name)

	spec, err := src.Spec(ctx, apps[0])
	require.NoError(t, err)
	assert.Equal(t, ocsynctest.DefaultSpec("a"), spec)

	src.Remove("a")
	_, err = src.Spec(ctx, apps[0])
	assert.ErrorIs(t, err, remote.ErrNotFound)

	boom := errors.New("boom")
	src.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error { return boom }
	_, err = src.Applications(ctx)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 2, src.Count(ocsynctest.OpList))
	assert.Equal(t, 2, src.Count(ocsynctest.OpSpec))

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = (&ocsynctest.Source{}).Applications(cancelled)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	reg := ocsynctest.NewRegistry()
	reg.Seed(ocsynctest.Entry{Registered: ocsync.Registered{Name: "foreign"}})
	app := ocsync.Application{Name: "mine", Key: "1", Credential: "secret"}
	require.NoError(t, reg.Create(ctx, app, ocsynctest.DefaultSpec("mine"), ocsync.State{SpecSHA256: "x"}))
	assert.ErrorIs(t, reg.Create(ctx, app, ocsync.Spec{}, ocsync.State{}), ocsync.ErrConflict)
	assert.ErrorIs(t, reg.Create(ctx, ocsync.Application{Name: "foreign"}, ocsync.Spec{}, ocsync.State{}), ocsync.ErrConflict)

	list, err := reg.Applications(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "foreign", list[0].Name)
	assert.False(t, list[0].Owned)
	assert.True(t, list[1].Owned)
	assert.NotEmpty(t, list[1].ID)

	// Updates and deletes refuse what is not owned; a missing one is fine to delete.
	assert.ErrorIs(t, reg.Update(ctx, list[0], app, ocsync.Update{}), ocsync.ErrConflict)
	assert.ErrorIs(t, reg.Delete(ctx, list[0]), ocsync.ErrConflict)
	assert.ErrorIs(t, reg.Update(ctx, ocsync.Registered{Name: "nope"}, app, ocsync.Update{}), remote.ErrNotFound)
	assert.NoError(t, reg.Delete(ctx, ocsync.Registered{Name: "nope"}))

	spec := ocsync.Spec{Data: []byte("new")}
	app.Description = "changed"
	require.NoError(t, reg.Update(ctx, list[1], app, ocsync.Update{Fields: []string{ocsync.FieldDescription}, Spec: &spec, State: ocsync.State{SpecSHA256: "y"}}))
	got, _ := reg.Get("mine")
	assert.Equal(t, "secret", got.Credential.Reveal(), "a field the update does not name is kept")
	got, ok := reg.Get("mine")
	require.True(t, ok)
	assert.Equal(t, "changed", got.Attributes.Description)
	assert.Equal(t, []byte("new"), got.Spec.Data)
	assert.Equal(t, "y", got.State.SpecSHA256)

	require.NoError(t, reg.Delete(ctx, list[1]))
	assert.Equal(t, []string{"foreign"}, reg.Names())
	assert.Equal(t, 9, reg.Mutations(), "failed calls count too")
	_, ok = reg.Get("mine")
	assert.False(t, ok)

	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error { return ocsync.ErrFatal }
	_, err = reg.Applications(ctx)
	assert.ErrorIs(t, err, ocsync.ErrFatal)
}
