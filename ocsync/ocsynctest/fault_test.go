package ocsynctest_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
)

func TestRegistryFaults(t *testing.T) {
	ctx := context.Background()
	create := func(reg *ocsynctest.Registry, name string) error {
		return reg.Create(ctx, ocsync.Application{Name: name}, ocsync.Spec{}, ocsync.State{})
	}
	refused := errors.New("refused")

	t.Run("times 0 is every call until cleared", func(t *testing.T) {
		reg := ocsynctest.NewRegistry()
		reg.AddFault(ocsynctest.OpCreate, ocsynctest.Fault{Err: refused})
		for _, name := range []string{"a", "b", "c"} {
			assert.ErrorIs(t, create(reg, name), refused, name)
		}
		assert.Empty(t, reg.Names(), "nothing was stored")
		reg.ClearFaults()
		require.NoError(t, create(reg, "a"))
		assert.Equal(t, []string{"a"}, reg.Names())
		assert.Equal(t, 4, reg.Count(ocsynctest.OpCreate))
	})

	t.Run("times n is the next n", func(t *testing.T) {
		reg := ocsynctest.NewRegistry()
		reg.AddFault(ocsynctest.OpCreate, ocsynctest.Fault{Times: 2})
		assert.ErrorIs(t, create(reg, "a"), ocsynctest.ErrInjected, "no Err is ErrInjected")
		assert.ErrorIs(t, create(reg, "b"), ocsynctest.ErrInjected)
		assert.NoError(t, create(reg, "c"))
		assert.Equal(t, []string{"c"}, reg.Names())
	})

	t.Run("in the order added, by name", func(t *testing.T) {
		reg := ocsynctest.NewRegistry()
		reg.AddFault(ocsynctest.OpCreate, ocsynctest.Fault{Name: "b", Err: refused, Times: 1})
		reg.AddFault(ocsynctest.OpCreate, ocsynctest.Fault{Times: 1})
		assert.ErrorIs(t, create(reg, "a"), ocsynctest.ErrInjected, "the named fault is not for a")
		assert.ErrorIs(t, create(reg, "b"), refused)
		assert.NoError(t, create(reg, "b"), "both are used up")
		assert.NoError(t, create(reg, "a"))
	})

	t.Run("a named fault never matches a listing", func(t *testing.T) {
		reg := ocsynctest.NewRegistry()
		reg.AddFault(ocsynctest.OpList, ocsynctest.Fault{Name: "a"})
		_, err := reg.Applications(ctx)
		assert.NoError(t, err)
		reg.AddFault(ocsynctest.OpList, ocsynctest.Fault{Err: refused})
		list, err := reg.Applications(ctx)
		assert.ErrorIs(t, err, refused)
		assert.Nil(t, list)
	})

	t.Run("after: committed, the answer lost", func(t *testing.T) {
		reg := ocsynctest.NewRegistry()
		reg.AddFault(ocsynctest.OpCreate, ocsynctest.Fault{Err: refused, After: true, Times: 1})
		assert.ErrorIs(t, create(reg, "a"), refused)
		assert.Equal(t, []string{"a"}, reg.Names(), "stored although the caller saw an error")
		assert.ErrorIs(t, create(reg, "a"), ocsync.ErrConflict, "a resend finds it")

		list, err := reg.Applications(ctx)
		require.NoError(t, err)
		reg.AddFault(ocsynctest.OpDelete, ocsynctest.Fault{After: true, Times: 1})
		assert.ErrorIs(t, reg.Delete(ctx, list[0]), ocsynctest.ErrInjected)
		assert.Empty(t, reg.Names(), "deleted")

		require.NoError(t, create(reg, "b"))
		list, err = reg.Applications(ctx)
		require.NoError(t, err)
		reg.AddFault(ocsynctest.OpUpdate, ocsynctest.Fault{After: true, Times: 1})
		err = reg.Update(ctx, list[0], ocsync.Application{Name: "b", Attributes: ocsync.Attributes{Description: "new"}},
			ocsync.Update{Fields: []string{ocsync.FieldDescription}, State: ocsync.State{SpecSHA256: "z"}})
		assert.ErrorIs(t, err, ocsynctest.ErrInjected)
		got, ok := reg.Get("b")
		require.True(t, ok)
		assert.Equal(t, "new", got.Attributes.Description, "updated")

		reg.AddFault(ocsynctest.OpList, ocsynctest.Fault{After: true, Times: 1})
		list, err = reg.Applications(ctx)
		assert.ErrorIs(t, err, ocsynctest.ErrInjected)
		assert.Nil(t, list, "a lost answer lists nothing")
	})

	t.Run("the hook and the context come first", func(t *testing.T) {
		reg := ocsynctest.NewRegistry()
		hooked := errors.New("hook")
		reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
			if name == "h" {
				return hooked
			}
			return nil
		}
		reg.AddFault(ocsynctest.OpCreate, ocsynctest.Fault{Err: refused, Times: 1})
		assert.ErrorIs(t, create(reg, "h"), hooked)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		assert.ErrorIs(t, reg.Create(cancelled, ocsync.Application{Name: "x"}, ocsync.Spec{}, ocsync.State{}), context.Canceled)
		assert.ErrorIs(t, create(reg, "a"), refused, "the fault was not used by the calls that failed before it")
		assert.NoError(t, create(reg, "a"))
		assert.Equal(t, 4, reg.Count(ocsynctest.OpCreate), "every call counts")
	})
}

func TestSourceFaults(t *testing.T) {
	ctx := context.Background()
	src := ocsynctest.NewSource(ocsync.Application{Name: "a"}, ocsync.Application{Name: "b"})
	docs := errors.New("docs: 500")
	src.AddFault(ocsynctest.OpSpec, ocsynctest.Fault{Name: "b", Err: docs})
	for range 3 {
		_, err := src.Spec(ctx, ocsync.Application{Name: "a"})
		require.NoError(t, err)
		_, err = src.Spec(ctx, ocsync.Application{Name: "b"})
		assert.ErrorIs(t, err, docs)
	}
	src.AddFault(ocsynctest.OpList, ocsynctest.Fault{Times: 1})
	_, err := src.Applications(ctx)
	assert.ErrorIs(t, err, ocsynctest.ErrInjected)
	apps, err := src.Applications(ctx)
	require.NoError(t, err)
	assert.Len(t, apps, 2)
	src.ClearFaults()
	_, err = src.Spec(ctx, ocsync.Application{Name: "b"})
	assert.NoError(t, err)

	assert.Equal(t, map[ocsynctest.Op]int{ocsynctest.OpSpec: 7, ocsynctest.OpList: 2}, src.Counts())
	src.ResetCounts()
	assert.Zero(t, src.Count(ocsynctest.OpSpec))
	assert.Empty(t, src.Counts())
}

func TestRegistryCounts(t *testing.T) {
	ctx := context.Background()
	reg := &ocsynctest.Registry{} // the zero value is ready to use
	counts := reg.Counts()
	assert.Empty(t, counts)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, _ = reg.Applications(ctx)
			_ = reg.Delete(ctx, ocsync.Registered{Name: "gone"})
		})
	}
	wg.Wait()
	assert.Equal(t, map[ocsynctest.Op]int{ocsynctest.OpList: 8, ocsynctest.OpDelete: 8}, reg.Counts())
	assert.Equal(t, 8, reg.Mutations())
	counts = reg.Counts()
	counts[ocsynctest.OpList] = 100
	assert.Equal(t, 8, reg.Count(ocsynctest.OpList), "Counts returns a copy")
	reg.ResetCounts()
	assert.Zero(t, reg.Mutations())
}
