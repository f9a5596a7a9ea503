package ocsync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

func newEngine(src ocsync.Source, reg ocsync.Registry) *ocsync.Engine {
	return &ocsync.Engine{Source: src, Registry: reg, Concurrency: 4, Now: func() time.Time { return now }}
}

func run(t *testing.T, e *ocsync.Engine) (*ocsync.Report, error) {
	t.Helper()
	plan, err := e.Plan(context.Background())
	require.NoError(t, err)
	return e.Apply(context.Background(), plan)
}

func TestEngineConvergesAndIsIdempotent(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(5)...)
	reg := ocsynctest.NewRegistry()
	reg.Seed(ocsynctest.Entry{Registered: ocsync.Registered{Name: "gone", Owned: true}})
	e := newEngine(src, reg)

	rep, err := run(t, e)
	require.NoError(t, err)
	assert.Equal(t, ocsync.Summary{Created: 5, Deleted: 1, SpecFetches: 5}, rep.Summary)
	assert.Equal(t, []string{"app-000", "app-001", "app-002", "app-003", "app-004"}, reg.Names())
	stored, ok := reg.Get("app-003")
	require.True(t, ok)
	assert.Equal(t, desired(3).Credential.Reveal(), stored.Credential.Reveal())
	assert.Equal(t, ocsynctest.DefaultSpec("app-003").Data, stored.Spec.Data)
	assert.Equal(t, ocsync.SpecSHA256(stored.Spec.Data), stored.State.SpecSHA256)
	assert.Equal(t, now, stored.State.SpecFetchedAt)

	mutations, specs := reg.Mutations(), src.Count(ocsynctest.OpSpec)
	rep, err = run(t, e)
	require.NoError(t, err)
	assert.Equal(t, ocsync.Summary{Unchanged: 5}, rep.Summary)
	assert.Equal(t, mutations, reg.Mutations(), "a no-op run mutates nothing")
	assert.Equal(t, specs, src.Count(ocsynctest.OpSpec), "a no-op run fetches no spec")
}

func TestEngineSpecLaziness(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(6)...)
	reg := ocsynctest.NewRegistry()
	clock := now
	e := newEngine(src, reg)
	e.Now = func() time.Time { return clock }
	_, err := run(t, e)
	require.NoError(t, err)
	require.Equal(t, 6, src.Count(ocsynctest.OpSpec), "every create fetches its spec")

	// Metadata changes on two items; a third gets a new spec document only,
	// which is invisible without a fetch and so waits for the refresh.
	a1 := desired(1)
	a1.Description = "changed"
	src.Put(a1, ocsynctest.DefaultSpec(a1.Name))
	a2 := desired(2)
	a2.Credential = "User u, Organization o, Element rotated"
	src.Put(a2, ocsynctest.DefaultSpec(a2.Name))
	newSpec := ocsync.Spec{Type: "OPEN_API", Format: "JSON", Data: []byte(`{"swagger":"2.0","info":{"title":"v2"},"paths":{}}`)}
	src.Put(desired(3), newSpec)

	rep, err := run(t, e)
	require.NoError(t, err)
	assert.Equal(t, 6, src.Count(ocsynctest.OpSpec), "an update whose spec is not due downloads nothing")
	assert.Equal(t, 2, rep.Summary.Updated)
	for _, r := range rep.Results {
		if r.Kind == ocsync.KindUpdate {
			assert.False(t, r.SpecReplaced, "%s: unchanged spec is not sent again", r.Name)
		}
	}
	stored, _ := reg.Get("app-003")
	assert.NotEqual(t, newSpec.Data, stored.Spec.Data)

	// After the refresh interval, every spec is fetched again and only the
	// changed document is replaced.
	clock = now.Add(ocsync.DefaultSpecRefreshInterval)
	rep, err = run(t, e)
	require.NoError(t, err)
	assert.Equal(t, 12, src.Count(ocsynctest.OpSpec))
	assert.Equal(t, 6, rep.Summary.Updated)
	replaced := 0
	for _, r := range rep.Results {
		if r.SpecReplaced {
			replaced++
			assert.Equal(t, "app-003", r.Name)
		}
	}
	assert.Equal(t, 1, replaced)
	stored, _ = reg.Get("app-003")
	assert.Equal(t, newSpec.Data, stored.Spec.Data)

	// And then it is quiet again.
	rep, err = run(t, e)
	require.NoError(t, err)
	assert.Equal(t, 12, src.Count(ocsynctest.OpSpec))
	assert.Equal(t, 6, rep.Summary.Unchanged)
}

func TestEngineListingFailureAbortsWithoutChange(t *testing.T) {
	boom := errors.New("page 3: connection reset")
	for _, side := range []string{"source", "registry"} {
		t.Run(side, func(t *testing.T) {
			src := ocsynctest.NewSource(desiredN(3)...)
			reg := ocsynctest.NewRegistry()
			fail := func(ctx context.Context, op ocsynctest.Op, name string) error {
				if op == ocsynctest.OpList {
					return boom
				}
				t.Errorf("%s %s called after a listing failure", op, name)
				return nil
			}
			if side == "source" {
				src.Hook = fail
			} else {
				reg.Hook = fail
			}
			plan, err := newEngine(src, reg).Plan(context.Background())
			require.Error(t, err)
			assert.Nil(t, plan)
			assert.ErrorIs(t, err, ocsync.ErrListFailed)
			assert.ErrorIs(t, err, boom)
			var le *ocsync.ListError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, side, le.Side)
			assert.Zero(t, reg.Mutations())
		})
	}
}

// When both listings fail, both problems are reported at once.
func TestPlanReportsBothListingFailures(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(3)...)
	reg := ocsynctest.NewRegistry()
	src.Hook = func(context.Context, ocsynctest.Op, string) error {
		return errors.New("platform refused the user secret")
	}
	reg.Hook = func(context.Context, ocsynctest.Op, string) error { return errors.New("director answered 503") }
	plan, err := newEngine(src, reg).Plan(context.Background())
	assert.Nil(t, plan)
	require.ErrorIs(t, err, ocsync.ErrListFailed)
	assert.Contains(t, err.Error(), "list source: platform refused the user secret")
	assert.Contains(t, err.Error(), "list registry: director answered 503")
}

// An empty source while the job owns applications trips the guard and
// says so, in the plan, the error and the text report.
func TestEmptySourceIsNamed(t *testing.T) {
	reg := ocsynctest.NewRegistry()
	for _, r := range syncedN(3) {
		reg.Seed(ocsynctest.Entry{Registered: r})
	}
	rep, err := run(t, newEngine(ocsynctest.NewSource(), reg))
	require.ErrorIs(t, err, ocsync.ErrGuardTripped)
	assert.True(t, rep.Plan.Guard.SourceEmpty)
	assert.Contains(t, err.Error(), "the source listed no application while this job owns 3")
	var buf bytes.Buffer
	require.NoError(t, rep.WriteText(&buf))
	assert.Contains(t, buf.String(), "The source listed no application")
	assert.Contains(t, buf.String(), "withheld by the deletion guard: the source listed no application")
	assert.Zero(t, reg.Mutations())
}

// strictRegistry fails the test on any mutation.
func strictRegistry(t *testing.T, reg *ocsynctest.Registry) {
	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op != ocsynctest.OpList {
			t.Errorf("dry run called %s %s", op, name)
		}
		return nil
	}
}

func TestEngineDryRun(t *testing.T) {
	src := ocsynctest.NewSource(desired(1), desired(2))
	reg := ocsynctest.NewRegistry()
	changed := synced(desired(2))
	changed.State.Fields[ocsync.FieldDescription] = "old"
	reg.Seed(ocsynctest.Entry{Registered: changed})
	reg.Seed(ocsynctest.Entry{Registered: synced(desired(3))})
	strictRegistry(t, reg)
	src.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op == ocsynctest.OpSpec {
			t.Errorf("dry run fetched the spec of %s", name)
		}
		return nil
	}
	e := newEngine(src, reg)
	e.DryRun = true
	rep, err := run(t, e)
	require.NoError(t, err)
	assert.True(t, rep.DryRun)
	assert.Equal(t, ocsync.Summary{Created: 1, Updated: 1, Deleted: 1}, rep.Summary)
	for _, r := range rep.Results {
		assert.Equal(t, ocsync.OutcomePlanned, r.Outcome, r.Name)
	}
}

func TestEngineItemFailuresDoNotBlockOthers(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(6)...)
	reg := ocsynctest.NewRegistry()
	reg.Seed(ocsynctest.Entry{Registered: ocsync.Registered{Name: "app-003", Owned: false}})
	bad := errors.New("spec is not JSON")
	src.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op == ocsynctest.OpSpec && name == "app-001" {
			return fmt.Errorf("%w: %w", remote.ErrInvalidSpec, bad)
		}
		return nil
	}
	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op == ocsynctest.OpCreate && name == "app-004" {
			return fmt.Errorf("director: %w", remote.ErrRetryable)
		}
		return nil
	}
	rep, err := run(t, newEngine(src, reg))
	require.Error(t, err)
	assert.ErrorIs(t, err, ocsync.ErrItemFailed)
	assert.ErrorIs(t, err, remote.ErrInvalidSpec)
	assert.ErrorIs(t, err, ocsync.ErrConflict)
	assert.True(t, remote.Retryable(err))
	assert.NotErrorIs(t, err, ocsync.ErrGuardTripped)
	assert.Equal(t, ocsync.Summary{Created: 3, Conflicts: 1, Failed: 2, SpecFetches: 5}, rep.Summary)
	assert.Equal(t, []string{"app-000", "app-002", "app-003", "app-005"}, reg.Names())

	var ie *ocsync.ItemError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "app-001", ie.Name, "errors are joined in plan order")
	assert.Equal(t, 3, len(err.(interface{ Unwrap() []error }).Unwrap()))
}

func TestEngineConflictFoundAtCreate(t *testing.T) {
	src := ocsynctest.NewSource(desired(1))
	reg := ocsynctest.NewRegistry()
	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op == ocsynctest.OpCreate {
			return fmt.Errorf("name not unique: %w", ocsync.ErrConflict)
		}
		return nil
	}
	rep, err := run(t, newEngine(src, reg))
	assert.ErrorIs(t, err, ocsync.ErrConflict)
	assert.Equal(t, ocsync.OutcomeConflict, rep.Results[0].Outcome)
	assert.Equal(t, 1, rep.Summary.Conflicts)
}

func TestEngineGuardWithholdsDeletesOnly(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(5)...)
	src.Put(desired(20), ocsynctest.DefaultSpec("app-020"))
	reg := ocsynctest.NewRegistry()
	for _, r := range syncedN(12) {
		reg.Seed(ocsynctest.Entry{Registered: r})
	}
	rep, err := run(t, newEngine(src, reg))
	require.Error(t, err)
	assert.ErrorIs(t, err, ocsync.ErrGuardTripped)
	assert.NotErrorIs(t, err, ocsync.ErrItemFailed)
	var ge *ocsync.GuardError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, ocsync.GuardError{Deletes: 7, Owned: 12, MaxPercent: 30, Digest: rep.Plan.DeletionsDigest}, *ge)
	assert.Regexp(t, `^sha256:[0-9a-f]{32}$`, ge.Digest)
	assert.Equal(t, ocsync.Summary{Created: 1, Unchanged: 5, Withheld: 7, SpecFetches: 1}, rep.Summary)
	assert.Len(t, reg.Names(), 13)

	e := newEngine(src, reg)
	e.Force = true
	rep, err = run(t, e)
	require.NoError(t, err)
	assert.Equal(t, 7, rep.Summary.Deleted)
	assert.Len(t, reg.Names(), 6)
}

func TestEngineEmptySourceTripsGuard(t *testing.T) {
	reg := ocsynctest.NewRegistry()
	reg.Seed(ocsynctest.Entry{Registered: synced(desired(1))})
	rep, err := run(t, newEngine(ocsynctest.NewSource(), reg))
	assert.ErrorIs(t, err, ocsync.ErrGuardTripped)
	assert.Equal(t, 1, rep.Summary.Withheld)
	assert.Equal(t, []string{"app-001"}, reg.Names())
}

func TestEngineCancellationStopsNewItems(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(40)...)
	reg := ocsynctest.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Int32
	reg.Hook = func(hctx context.Context, op ocsynctest.Op, name string) error {
		if op != ocsynctest.OpCreate {
			return nil
		}
		if started.Add(1) == 2 {
			cancel()
		}
		<-hctx.Done() // a slow call that honours its context
		return hctx.Err()
	}
	e := newEngine(src, reg)
	e.Concurrency = 2
	plan, err := e.Plan(context.Background())
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.LessOrEqual(t, int(started.Load()), 4, "no new item starts after cancel")
	assert.Equal(t, 40, rep.Summary.Failed+rep.Summary.NotStarted)
	assert.GreaterOrEqual(t, rep.Summary.NotStarted, 36)
	for _, r := range rep.Results {
		assert.NotEqual(t, ocsync.OutcomeApplied, r.Outcome)
	}
}

func TestEngineFatalErrorStopsNewItems(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(20)...)
	reg := ocsynctest.NewRegistry()
	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op == ocsynctest.OpCreate {
			return fmt.Errorf("tenant not found: %w", ocsync.ErrFatal)
		}
		return nil
	}
	e := newEngine(src, reg)
	e.Concurrency = 1
	rep, err := run(t, e)
	assert.ErrorIs(t, err, ocsync.ErrFatal)
	assert.Equal(t, 1, reg.Count(ocsynctest.OpCreate))
	assert.Equal(t, ocsync.Summary{Failed: 1, NotStarted: 19, SpecFetches: 1}, rep.Summary)
}

func TestEngineConcurrencyIsBounded(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(30)...)
	reg := ocsynctest.NewRegistry()
	var inFlight, peak atomic.Int32
	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op != ocsynctest.OpCreate {
			return nil
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		return nil
	}
	e := newEngine(src, reg)
	e.Concurrency = 3
	_, err := run(t, e)
	require.NoError(t, err)
	assert.LessOrEqual(t, peak.Load(), int32(3))
	assert.Len(t, reg.Names(), 30)
}

func TestEngineNeedsSourceAndRegistry(t *testing.T) {
	_, err := (&ocsync.Engine{}).Plan(context.Background())
	require.Error(t, err)
	_, err = (&ocsync.Engine{}).Apply(context.Background(), nil)
	require.Error(t, err)
}

func TestEngineDoesNotTouchForeignApplications(t *testing.T) {
	reg := ocsynctest.NewRegistry()
	reg.Seed(ocsynctest.Entry{Registered: ocsync.Registered{Name: "app-001", Owned: false}})
	reg.Seed(ocsynctest.Entry{Registered: ocsync.Registered{Name: "other", Owned: false}})
	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op != ocsynctest.OpList {
			t.Errorf("%s %s on a foreign application", op, name)
		}
		return nil
	}
	rep, err := run(t, newEngine(ocsynctest.NewSource(desired(1)), reg))
	assert.ErrorIs(t, err, ocsync.ErrConflict)
	assert.Equal(t, ocsync.Summary{Conflicts: 1}, rep.Summary)
}
