package ocsync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

var runNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func app(i int) ocsync.Application {
	return ocsync.Application{
		Name: fmt.Sprintf("oc-%d", 4700+i),
		Key:  fmt.Sprint(4700 + i),
		Attributes: ocsync.Attributes{
			Description: fmt.Sprintf("SAP Open Connectors Salesforce: crm-%d", i), ProviderName: "SAP Open Connectors",
			Status: ocsync.StatusConnected, Bundle: "sfdc", API: fmt.Sprintf("Salesforce: crm-%d", i),
			TargetURL: "https://api.example.org/elements/api-v2",
		},
		Credential: redact.Secret(fmt.Sprintf("User u, Organization o, Element tok-%d", i)),
	}
}

// world is an in-memory source holding n applications and a registry
// holding what a first run created.
func world(t *testing.T, n int) (*ocsynctest.Source, *ocsynctest.Registry) {
	t.Helper()
	src := ocsynctest.NewSource()
	for i := range n {
		src.Put(app(i), ocsynctest.DefaultSpec(app(i).Name))
	}
	reg := ocsynctest.NewRegistry()
	// One change at a time: the registry's ids, and so the digest of the
	// deletions, are the same on every run.
	e := engine(src, reg)
	e.Concurrency = 1
	_, err := runEngine(context.Background(), e)
	require.NoError(t, err)
	return src, reg
}

func engine(src ocsync.Source, reg ocsync.Registry) *ocsync.Engine {
	return &ocsync.Engine{Source: src, Registry: reg, Now: func() time.Time { return runNow }, Concurrency: 2}
}

func TestRunEngineExitCodes(t *testing.T) {
	failSpec := func(name string) ocsynctest.Hook {
		return func(_ context.Context, op ocsynctest.Op, n string) error {
			if op == ocsynctest.OpSpec && n == name {
				return fmt.Errorf("spec of %s: %w", n, remote.ErrInvalidSpec)
			}
			return nil
		}
	}
	tests := []struct {
		name    string
		prepare func(src *ocsynctest.Source, reg *ocsynctest.Registry, e *ocsync.Engine)
		code    int
		nilRep  bool
	}{
		{"converged", func(*ocsynctest.Source, *ocsynctest.Registry, *ocsync.Engine) {}, ocsync.ExitOK, false},
		{"new instance", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			src.Put(app(30), ocsynctest.DefaultSpec("x"))
		}, ocsync.ExitOK, false},
		{"source listing fails", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			src.Hook = func(_ context.Context, op ocsynctest.Op, _ string) error {
				if op == ocsynctest.OpList {
					return fmt.Errorf("page 2: %w", remote.ErrRetryable)
				}
				return nil
			}
		}, ocsync.ExitFailed, true},
		{"credentials rejected during apply", func(src *ocsynctest.Source, reg *ocsynctest.Registry, _ *ocsync.Engine) {
			src.Put(app(30), ocsynctest.DefaultSpec("x"))
			reg.Hook = func(_ context.Context, op ocsynctest.Op, _ string) error {
				if op == ocsynctest.OpCreate {
					return fmt.Errorf("token: %w", ocsync.ErrFatal)
				}
				return nil
			}
		}, ocsync.ExitFailed, false},
		{"item fails", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			src.Put(app(30), ocsynctest.DefaultSpec("x"))
			src.Hook = failSpec(app(30).Name)
		}, ocsync.ExitItemsFailed, false},
		{"guard trips", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			for i := range 4 {
				src.Remove(app(i).Name)
			}
		}, ocsync.ExitGuard, false},
		{"guard forced", func(src *ocsynctest.Source, _ *ocsynctest.Registry, e *ocsync.Engine) {
			for i := range 4 {
				src.Remove(app(i).Name)
			}
			e.Force = true
		}, ocsync.ExitOK, false},
		{"guard and item failure", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			for i := range 4 {
				src.Remove(app(i).Name)
			}
			src.Put(app(30), ocsynctest.DefaultSpec("x"))
			src.Hook = failSpec(app(30).Name)
		}, ocsync.ExitItemsFailed, false},
		{"dry run with guard", func(src *ocsynctest.Source, _ *ocsynctest.Registry, e *ocsync.Engine) {
			for i := range 4 {
				src.Remove(app(i).Name)
			}
			e.DryRun = true
		}, ocsync.ExitOK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, reg := world(t, 10)
			e := engine(src, reg)
			var logs bytes.Buffer
			e.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))
			tt.prepare(src, reg, e)
			rep, err := runEngine(context.Background(), e)
			assert.Equal(t, tt.code, ocsync.ExitCode(rep, err), "err: %v", err)
			assert.Equal(t, tt.nilRep, rep == nil)
			assert.Equal(t, tt.code == ocsync.ExitOK && !e.DryRun, err == nil)
			assert.NotContains(t, logs.String(), "tok-")
		})
	}
}

func TestExitCode(t *testing.T) {
	applied := &ocsync.Report{}
	dry := &ocsync.Report{DryRun: true}
	item := &ocsync.ItemError{Name: "a", Kind: ocsync.KindCreate, Err: errors.New("boom")}
	guard := &ocsync.GuardError{Deletes: 5, Owned: 10, MaxPercent: 30}
	fatalItem := &ocsync.ItemError{Name: "b", Kind: ocsync.KindUpdate, Err: fmt.Errorf("401: %w", ocsync.ErrFatal)}
	tests := []struct {
		name string
		rep  *ocsync.Report
		err  error
		want int
	}{
		{"success", applied, nil, ocsync.ExitOK},
		{"dry run", dry, nil, ocsync.ExitOK},
		{"listing", nil, &ocsync.ListError{Side: "source", Err: errors.New("x")}, ocsync.ExitFailed},
		{"unknown error without report", nil, errors.New("x"), ocsync.ExitFailed},
		{"unknown error with report", applied, errors.New("x"), ocsync.ExitFailed},
		{"item", applied, errors.Join(item), ocsync.ExitItemsFailed},
		{"interrupted", applied, fmt.Errorf("apply interrupted: %w", context.Canceled), ocsync.ExitItemsFailed},
		{"guard", applied, errors.Join(guard), ocsync.ExitGuard},
		{"item and guard", applied, errors.Join(item, guard), ocsync.ExitItemsFailed},
		{"fatal item and guard", applied, errors.Join(item, fatalItem, guard), ocsync.ExitFailed},
		{"dry run guard", dry, errors.Join(guard), ocsync.ExitOK},
		{"dry run listing", nil, &ocsync.ListError{Side: "registry", Err: errors.New("x")}, ocsync.ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ocsync.ExitCode(tt.rep, tt.err))
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func guardReport(t *testing.T, dryRun bool) (*ocsync.Report, error) {
	t.Helper()
	src, reg := world(t, 10)
	for i := range 4 {
		src.Remove(app(i).Name)
	}
	changed := app(5)
	changed.Description = "renamed"
	src.Put(changed, ocsynctest.DefaultSpec(changed.Name))
	src.Put(app(30), ocsynctest.DefaultSpec("x"))
	src.Hook = func(_ context.Context, op ocsynctest.Op, n string) error {
		if op == ocsynctest.OpSpec && n == app(30).Name {
			return fmt.Errorf("instance 4730: API document:\n%w", remote.ErrInvalidSpec)
		}
		return nil
	}
	reg.Seed(ocsynctest.Entry{Registered: ocsync.Registered{Name: app(31).Name}})
	src.Put(app(31), ocsynctest.DefaultSpec("y"))
	e := engine(src, reg)
	e.DryRun = dryRun
	return runEngine(context.Background(), e)
}

func TestWriteText(t *testing.T) {
	for _, dryRun := range []bool{false, true} {
		t.Run(fmt.Sprintf("dryRun=%v", dryRun), func(t *testing.T) {
			rep, _ := guardReport(t, dryRun)
			require.NotNil(t, rep)
			var buf bytes.Buffer
			require.NoError(t, rep.WriteText(&buf))
			golden(t, fmt.Sprintf("report-dryrun-%v.txt", dryRun), buf.Bytes())
			assert.NotContains(t, buf.String(), "tok-")
		})
	}
	t.Run("no changes", func(t *testing.T) {
		src, reg := world(t, 3)
		rep, err := runEngine(context.Background(), engine(src, reg))
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, rep.WriteText(&buf))
		assert.Equal(t, "No changes.\nSummary: "+rep.Summary.String()+".\n", buf.String())
	})
	t.Run("spec replaced", func(t *testing.T) {
		plan := &ocsync.Plan{Changes: []ocsync.Change{{Kind: ocsync.KindUpdate, Name: "oc-1", Key: "1", Fields: []string{ocsync.FieldRevision}}}}
		rep := &ocsync.Report{Plan: plan, Results: []ocsync.Result{{Kind: ocsync.KindUpdate, Name: "oc-1", Outcome: ocsync.OutcomeApplied, SpecReplaced: true}}}
		var buf bytes.Buffer
		require.NoError(t, rep.WriteText(&buf))
		assert.Contains(t, buf.String(), "changes revision; spec replaced")
	})
	t.Run("values of a dry run", func(t *testing.T) {
		src, reg := world(t, 3)
		rotated := app(1)
		rotated.Credential = redact.Secret("User u, Organization o, Element tok-rotated")
		rotated.TargetURL = "https://eu.example.org/elements/api-v2"
		src.Put(rotated, ocsynctest.DefaultSpec(rotated.Name))
		e := engine(src, reg)
		e.DryRun = true
		rep, err := runEngine(context.Background(), e)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, rep.WriteText(&buf))
		out := buf.String()
		assert.Regexp(t, `credential [0-9a-f]{8} → [0-9a-f]{8} \(hashes\)`, out)
		assert.Contains(t, out, `targetURL "https://api.example.org/elements/api-v2" → "https://eu.example.org/elements/api-v2"`)
		assert.Contains(t, out, "Plan: 0 to create, 1 to update, 0 to delete, 2 unchanged")
		assert.NotContains(t, out, "tok-", "credentials never in clear")
	})
	t.Run("a value the listing does not show", func(t *testing.T) {
		src, reg := world(t, 2)
		hidden := ocsynctest.InterceptRegistry(reg, ocsynctest.RegistryFuncs{
			Applications: func(ctx context.Context, next ocsync.Registry) ([]ocsync.Registered, error) {
				list, err := next.Applications(ctx)
				for i := range list {
					list[i].Attributes.TargetURL = "" // a slim listing: the state holds its hash only
				}
				return list, err
			},
		})
		moved := app(1)
		moved.TargetURL = "https://eu.example.org/elements/api-v2"
		src.Put(moved, ocsynctest.DefaultSpec(moved.Name))
		e := engine(src, hidden)
		e.DryRun = true
		rep, err := runEngine(context.Background(), e)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, rep.WriteText(&buf))
		assert.Contains(t, buf.String(), `targetURL → "https://eu.example.org/elements/api-v2"`, "no made-up empty old value")
	})
	t.Run("long values are cut", func(t *testing.T) {
		long := strings.Repeat("é", 100)
		plan := &ocsync.Plan{Changes: []ocsync.Change{{Kind: ocsync.KindUpdate, Name: "oc-1", Fields: []string{ocsync.FieldDescription},
			Old: &ocsync.Attributes{Description: long}, New: &ocsync.Attributes{Description: "short"}}}}
		rep := &ocsync.Report{DryRun: true, Plan: plan, Results: []ocsync.Result{{Kind: ocsync.KindUpdate, Name: "oc-1", Outcome: ocsync.OutcomePlanned}}}
		var buf bytes.Buffer
		require.NoError(t, rep.WriteText(&buf))
		assert.Contains(t, buf.String(), `description "`+strings.Repeat("é", 60)+`…" → "short"`)
	})
	t.Run("write error", func(t *testing.T) {
		rep, _ := guardReport(t, false)
		assert.Error(t, rep.WriteText(failingWriter{}))
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestListingPastTheDeadline(t *testing.T) {
	src, reg := world(t, 3)
	e := engine(src, reg)
	e.Deadline = time.Now().Add(-time.Second)
	rep, err := runEngine(context.Background(), e)
	assert.Nil(t, rep)
	assert.ErrorIs(t, err, ocsync.ErrDeadline)
	assert.ErrorIs(t, err, ocsync.ErrListFailed)
	assert.Equal(t, ocsync.ExitFailed, ocsync.ExitCode(rep, err))
	assert.Contains(t, err.Error(), "the run timeout passed while listing")
}

// runEngine runs e once as a Controller does.
func runEngine(ctx context.Context, e *ocsync.Engine) (*ocsync.Report, error) {
	o := (&ocsync.Controller{Engine: e}).RunOnce(ctx)
	return o.Report, o.Err
}

func TestRunOutcomeSaysDryRunWithoutAPlan(t *testing.T) {
	src, reg := world(t, 1)
	src.Hook = func(_ context.Context, op ocsynctest.Op, _ string) error {
		if op == ocsynctest.OpList {
			return errors.New("platform down")
		}
		return nil
	}
	e := engine(src, reg)
	e.DryRun = true
	o := (&ocsync.Controller{Engine: e}).RunOnce(context.Background())
	assert.Nil(t, o.Report)
	assert.True(t, o.DryRun, "a dry run that could not list is still a dry run")
	src.Hook = nil
	e.DryRun = false
	assert.False(t, (&ocsync.Controller{Engine: e}).RunOnce(context.Background()).DryRun)
}
