package ocsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
)

func TestUnusableSourceObjectLeavesItsApplicationAlone(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(3)...)
	bad := desired(1)
	bad.Unusable = "token contains white space"
	bad.Description = "would change"
	src.Put(bad, ocsynctest.DefaultSpec(bad.Name))
	fresh := desired(7)
	fresh.Unusable = "no element key"
	src.Put(fresh, ocsynctest.DefaultSpec(fresh.Name))
	reg := ocsynctest.NewRegistry()
	for _, r := range syncedN(3) {
		reg.Seed(ocsynctest.Entry{Registered: r})
	}
	before, _ := reg.Get("app-001")

	rep, err := run(t, newEngine(src, reg))
	require.Error(t, err)
	assert.ErrorIs(t, err, ocsync.ErrUnusable)
	assert.ErrorIs(t, err, ocsync.ErrItemFailed, "an unusable object makes the run report item failures")
	var ue *ocsync.UnusableError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, ocsync.Summary{Unchanged: 2, Unusable: 2}, rep.Summary)
	assert.Zero(t, reg.Mutations(), "neither updated, deleted nor created")
	after, ok := reg.Get("app-001")
	require.True(t, ok)
	assert.Equal(t, before, after)
	_, ok = reg.Get("app-007")
	assert.False(t, ok)
	for _, c := range rep.Plan.Changes {
		if c.Name == "app-001" || c.Name == "app-007" {
			assert.Equal(t, ocsync.KindSkipped, c.Kind)
			assert.True(t, c.Unusable)
			assert.Contains(t, c.Reason, "unusable: ")
		}
	}
	assert.Contains(t, rep.Summary.String(), "2 unusable")

	// Even a source whose every object is unusable deletes nothing.
	only := ocsynctest.NewSource()
	for i := range 3 {
		d := desired(i)
		d.Unusable = "no token"
		only.Put(d, ocsynctest.DefaultSpec(d.Name))
	}
	rep, err = run(t, newEngine(only, reg))
	assert.ErrorIs(t, err, ocsync.ErrUnusable)
	assert.NotErrorIs(t, err, ocsync.ErrGuardTripped)
	assert.Equal(t, 3, rep.Summary.Unusable)
	assert.Zero(t, reg.Mutations())
}

func TestApplyRefusesAPlanItDidNotMake(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(3)...)
	reg := ocsynctest.NewRegistry()
	changed := synced(desired(1))
	changed.State.Fields[ocsync.FieldDescription] = "old"
	reg.Seed(ocsynctest.Entry{Registered: changed})
	reg.Seed(ocsynctest.Entry{Registered: synced(desired(9))})
	e := newEngine(src, reg)
	plan, err := e.Plan(context.Background())
	require.NoError(t, err)
	data, err := json.Marshal(plan)
	require.NoError(t, err)
	var decoded ocsync.Plan
	require.NoError(t, json.Unmarshal(data, &decoded))

	for _, dry := range []bool{false, true} {
		e.DryRun = dry
		rep, err := e.Apply(context.Background(), &decoded)
		assert.Nil(t, rep)
		assert.ErrorIs(t, err, ocsync.ErrPlanInvalid)
		var pe *ocsync.PlanError
		require.ErrorAs(t, err, &pe)
		assert.Contains(t, pe.Error(), "JSON")
	}
	_, err = e.Apply(context.Background(), nil)
	assert.ErrorIs(t, err, ocsync.ErrPlanInvalid)
	assert.Zero(t, reg.Mutations())
	assert.Zero(t, src.Count(ocsynctest.OpSpec))

	// An altered plan is refused too.
	plan.Changes[0].Name = "renamed"
	_, err = e.Apply(context.Background(), plan)
	assert.ErrorIs(t, err, ocsync.ErrPlanInvalid)
}

// recordingRegistry records every Update it is asked for, and the pending
// state a registry that writes in steps records first for it.
type recordingRegistry struct {
	*ocsynctest.Registry
	mu      sync.Mutex
	updates []ocsync.Update
	pending []*ocsync.State
}

func (r *recordingRegistry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	r.mu.Lock()
	r.updates = append(r.updates, u)
	r.pending = append(r.pending, u.PendingState(cur.State))
	r.mu.Unlock()
	return r.Registry.Update(ctx, cur, app, u)
}

func TestUpdateWritesWhatChangedWhenTheSpecFails(t *testing.T) {
	src := ocsynctest.NewSource(desired(1))
	rotated := desired(1)
	rotated.Credential = "User u, Organization o, Element rotated"
	rotated.Revision = "2"
	src.Put(rotated, ocsynctest.DefaultSpec(rotated.Name))
	reg := &recordingRegistry{Registry: ocsynctest.NewRegistry()}
	stored := synced(desired(1))
	reg.Seed(ocsynctest.Entry{Registered: stored, Credential: desired(1).Credential})
	down := errors.New("docs: 403 Forbidden")
	src.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op == ocsynctest.OpSpec {
			return down
		}
		return nil
	}
	e := newEngine(src, reg)

	rep, err := run(t, e)
	require.Error(t, err)
	assert.ErrorIs(t, err, down)
	assert.ErrorIs(t, err, ocsync.ErrItemFailed)
	assert.Equal(t, 1, rep.Summary.Failed)
	assert.Contains(t, rep.Results[0].Error, "credential")
	got, _ := reg.Get("app-001")
	assert.Equal(t, rotated.Credential.Reveal(), got.Credential.Reveal(), "the rotated token is written although the document failed")
	assert.Equal(t, stored.State.SpecSHA256, got.State.SpecSHA256, "the spec hash still names the stored spec")
	assert.Equal(t, stored.State.SpecFetchedAt, got.State.SpecFetchedAt)
	assert.Equal(t, stored.State.Fields[ocsync.FieldRevision], got.State.Fields[ocsync.FieldRevision],
		"the revision is not recorded, so the spec stays due")
	require.Len(t, reg.updates, 1)
	assert.NotContains(t, reg.updates[0].Fields, ocsync.FieldRevision)
	require.NotNil(t, reg.pending[0])
	assert.True(t, reg.pending[0].Pending)
	assert.NotContains(t, reg.pending[0].Fields, ocsync.FieldCredential)

	// Next run, the document loads: only the spec part is left, and it is done.
	src.Hook = nil
	rep, err = run(t, e)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Summary.Updated)
	assert.Equal(t, []string{ocsync.FieldRevision}, rep.Plan.Changes[0].Fields, "the changed revision makes the spec load")
	got, _ = reg.Get("app-001")
	assert.Equal(t, ocsync.SpecSHA256(ocsynctest.DefaultSpec("app-001").Data), got.State.SpecSHA256)
	rep, err = run(t, e)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Summary.Unchanged)
}

func TestUpdateWithoutADueSpecDownloadsNothing(t *testing.T) {
	src := ocsynctest.NewSource()
	for i := range 4 {
		d := desired(i)
		switch i {
		case 0:
			d.Description = "renamed"
		case 1:
			d.Credential = "User u, Organization o, Element rotated"
		case 2:
			d.Status = ocsync.StatusFailed
		case 3:
			d.TargetURL = "https://other.example.com/elements/api-v2"
		}
		src.Put(d, ocsynctest.DefaultSpec(d.Name))
	}
	reg := &recordingRegistry{Registry: ocsynctest.NewRegistry()}
	for _, r := range syncedN(4) {
		reg.Seed(ocsynctest.Entry{Registered: r})
	}
	rep, err := run(t, newEngine(src, reg))
	require.NoError(t, err)
	assert.Equal(t, 4, rep.Summary.Updated)
	assert.Zero(t, src.Count(ocsynctest.OpSpec))
	assert.Zero(t, rep.Summary.SpecFetches)
	for i, u := range reg.updates {
		assert.Nil(t, u.Spec)
		p := reg.pending[i]
		require.NotNil(t, p)
		assert.Equal(t, synced(desired(0)).State.SpecSHA256, p.SpecSHA256, "the stored spec is still claimed: it is not rewritten")
		assert.Len(t, p.Fields, len(desired(0).Fingerprint())-1)
	}
}

// interruptingRegistry writes the pending state and then fails, as a run
// killed in the middle of a multi-step update would leave the target.
type interruptingRegistry struct {
	*ocsynctest.Registry
	interrupt bool
}

func (r *interruptingRegistry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	if !r.interrupt {
		return r.Registry.Update(ctx, cur, app, u)
	}
	// The spec (and every other field) reaches the target, the final state
	// label does not.
	half := u
	switch p := u.PendingState(cur.State); {
	case p != nil:
		half.State = *p
	case cur.State != nil:
		half.State = *cur.State // no pending state: the old one stays
	}
	if err := r.Registry.Update(ctx, cur, app, half); err != nil {
		return err
	}
	return errors.New("connection reset before the state label was written")
}

func TestInterruptedUpdateConvergesWhenTheSourceChangesBack(t *testing.T) {
	specA := ocsynctest.DefaultSpec("A")
	specB := ocsynctest.DefaultSpec("B")
	src := ocsynctest.NewSource()
	src.Put(desired(1), specA)
	reg := &interruptingRegistry{Registry: ocsynctest.NewRegistry()}
	clock := now
	e := newEngine(src, reg)
	e.Now = func() time.Time { return clock }
	_, err := run(t, e)
	require.NoError(t, err)

	// The document and the description change; the update is interrupted
	// after writing them but before the state label.
	changed := desired(1)
	changed.Description = "new"
	src.Put(changed, specB)
	clock = clock.Add(ocsync.DefaultSpecRefreshInterval)
	reg.interrupt = true
	_, err = run(t, e)
	require.Error(t, err)
	got, _ := reg.Get("app-001")
	require.Equal(t, specB.Data, got.Spec.Data)
	require.True(t, got.State.Pending)

	// Then the source changes back. The next run must restore both.
	src.Put(desired(1), specA)
	reg.interrupt = false
	clock = clock.Add(time.Minute)
	rep, err := run(t, e)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Summary.Updated)
	got, _ = reg.Get("app-001")
	assert.Equal(t, specA.Data, got.Spec.Data, "the stored spec is corrected")
	assert.Equal(t, desired(1).Description, got.Attributes.Description)
	assert.False(t, got.State.Pending)
	rep, err = run(t, e)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Summary.Unchanged)
}

func TestApplyStartsNothingAfterTheDeadline(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(5)...)
	reg := ocsynctest.NewRegistry()
	e := newEngine(src, reg)
	e.Concurrency = 1
	plan, err := e.Plan(context.Background())
	require.NoError(t, err)
	calls := 0
	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		calls++
		return nil
	}
	// The clock passes the deadline after the second create.
	clock := now
	e.Deadline = now.Add(time.Minute)
	e.Now = func() time.Time {
		if calls >= 2 {
			return clock.Add(2 * time.Minute)
		}
		return clock
	}
	rep, err := e.Apply(context.Background(), plan)
	require.Error(t, err)
	assert.ErrorIs(t, err, ocsync.ErrDeadline)
	assert.Equal(t, 2, rep.Summary.Created)
	assert.Equal(t, 3, rep.Summary.NotStarted)
	assert.Len(t, reg.Names(), 2)
	for _, r := range rep.Results[2:] {
		assert.Equal(t, ocsync.OutcomeNotStarted, r.Outcome)
		assert.Contains(t, r.Error, "deadline")
	}

	// Plan lists under the deadline.
	e.Deadline = time.Now().Add(-time.Second)
	_, err = e.Plan(context.Background())
	assert.ErrorIs(t, err, ocsync.ErrListFailed)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// signalHandler is a slog handler that keeps the records and signals the
// first one named msg.
type signalHandler struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	msg     string
	once    sync.Once
	arrived chan struct{}
}

func (h *signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *signalHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *signalHandler) WithGroup(string) slog.Handler            { return h }
func (h *signalHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(&h.buf, "%s", r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&h.buf, " %s=%v", a.Key, a.Value); return true })
	h.buf.WriteByte('\n')
	if r.Message == h.msg {
		h.once.Do(func() { close(h.arrived) })
	}
	return nil
}

func TestApplyLogsProgressOnLongRuns(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(4)...)
	reg := ocsynctest.NewRegistry()
	h := &signalHandler{msg: "progress", arrived: make(chan struct{})}
	// Every create waits until a progress record was logged, so the run is
	// longer than the interval however fast the machine is.
	reg.Hook = func(ctx context.Context, op ocsynctest.Op, name string) error {
		if op == ocsynctest.OpCreate {
			select {
			case <-h.arrived:
			case <-time.After(10 * time.Second):
				return errors.New("no progress record")
			}
		}
		return nil
	}
	e := newEngine(src, reg)
	e.Now = nil
	e.ProgressInterval = time.Millisecond
	e.Logger = slog.New(h)
	_, err := run(t, e)
	require.NoError(t, err)
	h.mu.Lock()
	out := h.buf.String()
	h.mu.Unlock()
	line := out[strings.Index(out, "progress"):]
	line = line[:strings.IndexByte(line, '\n')]
	for _, attr := range []string{"done=", "total=4", "failed=0", "rate=", "eta="} {
		assert.Contains(t, line, attr)
	}

	// A run shorter than the interval logs none.
	h2 := &signalHandler{msg: "progress", arrived: make(chan struct{})}
	e2 := newEngine(ocsynctest.NewSource(desiredN(2)...), ocsynctest.NewRegistry())
	e2.Logger = slog.New(h2)
	e2.ProgressInterval = time.Hour
	_, err = run(t, e2)
	require.NoError(t, err)
	assert.NotContains(t, h2.buf.String(), "progress")
}

// scopedRegistry is a Registry that knows its scope and name rule.
type scopedRegistry struct {
	*ocsynctest.Registry
	scope ocsync.Scope
	taken []ocsync.Registered
	err   error
}

func (r *scopedRegistry) Scope() ocsync.Scope        { return r.scope }
func (r *scopedRegistry) NameKey(name string) string { return strings.ToLower(name) }
func (r *scopedRegistry) Taken(ctx context.Context, names []string) ([]ocsync.Registered, error) {
	return r.taken, r.err
}

type scopedSource struct {
	*ocsynctest.Source
	scope ocsync.Scope
}

func (s *scopedSource) Scope() ocsync.Scope { return s.scope }

func TestNewEngineChecksTheScopes(t *testing.T) {
	a := ocsync.Scope{Context: "api.example.com", Owner: "shard-a"}
	src := &scopedSource{Source: ocsynctest.NewSource(), scope: a}
	reg := &scopedRegistry{Registry: ocsynctest.NewRegistry(), scope: a}
	e, err := ocsync.NewEngine(src, reg)
	require.NoError(t, err)
	assert.Equal(t, "app-x", e.NameKey("APP-X"), "the name rule comes with the registry")

	reg.scope.Owner = "shard-b"
	_, err = ocsync.NewEngine(src, reg)
	assert.ErrorIs(t, err, ocsync.ErrScopeMismatch)
	_, err = ocsync.NewEngine(nil, reg)
	assert.Error(t, err)

	// A side that does not know its scope is accepted.
	_, err = ocsync.NewEngine(ocsynctest.NewSource(), reg)
	assert.NoError(t, err)
}

func TestPlanFindsClashesWithNamesTheListingDoesNotShow(t *testing.T) {
	src := ocsynctest.NewSource(desiredN(3)...)
	reg := &scopedRegistry{Registry: ocsynctest.NewRegistry(),
		taken: []ocsync.Registered{{ID: "foreign-1", Name: "APP-001", Owned: false}}}
	e, err := ocsync.NewEngine(src, reg)
	require.NoError(t, err)
	e.Now = func() time.Time { return now }
	rep, err := run(t, e)
	require.Error(t, err)
	assert.ErrorIs(t, err, ocsync.ErrConflict)
	assert.Equal(t, 2, rep.Summary.Created)
	assert.Equal(t, 1, rep.Summary.Conflicts)
	assert.Equal(t, 2, src.Count(ocsynctest.OpSpec), "a known clash costs no download")
	assert.Equal(t, 2, reg.Count(ocsynctest.OpCreate), "and no refused create")

	reg.err = errors.New("lookup: 502")
	_, err = e.Plan(context.Background())
	assert.ErrorIs(t, err, ocsync.ErrListFailed)
}

// TestSpecRefreshesAreSpreadOverTheInterval simulates two days of runs every
// 30 minutes over 2000 applications created together: after the first run,
// every run refreshes about N × period / interval documents, never all at
// once, and every document is refreshed once per interval.
func TestSpecRefreshesAreSpreadOverTheInterval(t *testing.T) {
	const n = 2000
	period, interval := 30*time.Minute, 24*time.Hour
	desiredApps := make([]ocsync.Application, n)
	registered := make([]ocsync.Registered, n)
	index := map[string]int{}
	for i := range desiredApps {
		desiredApps[i] = desired(i)
		registered[i] = synced(desiredApps[i])
		index[desiredApps[i].Name] = i
	}
	perDay := map[string]int{}
	maxPerRun := 0
	for run := 1; run <= 2*48; run++ {
		at := now.Add(time.Duration(run) * period)
		plan := ocsync.Calculate(desiredApps, registered, ocsync.PlanOptions{Now: at, SpecRefreshInterval: interval})
		due := 0
		for _, c := range plan.Changes {
			if c.Kind == ocsync.KindUpdate {
				require.Equal(t, []string{ocsync.FieldSpec}, c.Fields)
				due++
				perDay[c.Name]++
				registered[index[c.Name]].State.SpecFetchedAt = at // the runs refresh them
			}
		}
		maxPerRun = max(maxPerRun, due)
	}
	expected := n * int(period) / int(interval) // about 42
	assert.LessOrEqual(t, maxPerRun, 2*expected, "no run refreshes much more than its share")
	for name, count := range perDay {
		assert.Equal(t, 2, count, "%s is refreshed once per interval", name)
	}
	assert.Len(t, perDay, n)
}

// A stored state that claims a spec but no field (what an interrupted
// repair leaves) still gets a pending state before the spec is rewritten.
func TestInterruptedUpdateOfAStateWithoutFieldsConverges(t *testing.T) {
	specA := ocsynctest.DefaultSpec("A")
	specB := ocsynctest.DefaultSpec("B")
	src := ocsynctest.NewSource()
	src.Put(desired(1), specB)
	reg := &interruptingRegistry{Registry: ocsynctest.NewRegistry(), interrupt: true}
	stored := synced(desired(1))
	stored.State = &ocsync.State{SpecSHA256: ocsync.SpecSHA256(specA.Data), SpecFetchedAt: now}
	reg.Seed(ocsynctest.Entry{Registered: stored, Spec: specA})
	clock := now.Add(time.Minute)
	e := newEngine(src, reg)
	e.Now = func() time.Time { return clock }
	_, err := run(t, e)
	require.Error(t, err)
	got, _ := reg.Get("app-001")
	require.Equal(t, specB.Data, got.Spec.Data, "the spec reached the target, the final state did not")

	src.Put(desired(1), specA)
	reg.interrupt = false
	clock = clock.Add(time.Minute)
	_, err = run(t, e)
	require.NoError(t, err)
	got, _ = reg.Get("app-001")
	assert.Equal(t, specA.Data, got.Spec.Data, "the stored spec is corrected")
}

// A part missing in the target that the listing could not show is found by
// the update, which then gets the spec it needs in the same run.
func TestUpdateLoadsTheSpecWhenTheTargetLacksParts(t *testing.T) {
	d := desired(1)
	src := ocsynctest.NewSource()
	changed := d
	changed.Description = "renamed"
	src.Put(changed, ocsynctest.DefaultSpec(d.Name))
	inner := ocsynctest.NewRegistry()
	broken := synced(d)
	broken.Incomplete = true // its bundle was deleted by hand
	inner.Seed(ocsynctest.Entry{Registered: broken})
	reg := ocsynctest.InterceptRegistry(inner, ocsynctest.RegistryFuncs{
		Applications: func(ctx context.Context, next ocsync.Registry) ([]ocsync.Registered, error) {
			list, err := next.Applications(ctx)
			for i := range list {
				list[i].Incomplete = false // a listing that does not read the parts
			}
			return list, err
		},
	})
	rep, err := run(t, newEngine(src, reg))
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Summary.Updated)
	assert.Equal(t, 1, rep.Summary.SpecFetches)
	assert.True(t, rep.Results[0].SpecReplaced)
	got, _ := inner.Get("app-001")
	assert.False(t, got.Incomplete, "repaired in one run")
	assert.Equal(t, "renamed", got.Attributes.Description)
	assert.Equal(t, ocsync.SpecSHA256(ocsynctest.DefaultSpec(d.Name).Data), got.State.SpecSHA256)
	assert.Equal(t, 1, inner.Count(ocsynctest.OpUpdate), "one update: the registry loads the spec it needs through LoadSpec")
}
