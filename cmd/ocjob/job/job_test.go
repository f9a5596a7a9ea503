package job_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job"
	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

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
	_, err := job.RunEngine(context.Background(), e)
	require.NoError(t, err)
	return src, reg
}

func engine(src ocsync.Source, reg ocsync.Registry) *ocsync.Engine {
	return &ocsync.Engine{Source: src, Registry: reg, Now: func() time.Time { return now }, Concurrency: 2}
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
		{"converged", func(*ocsynctest.Source, *ocsynctest.Registry, *ocsync.Engine) {}, job.ExitOK, false},
		{"new instance", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			src.Put(app(30), ocsynctest.DefaultSpec("x"))
		}, job.ExitOK, false},
		{"source listing fails", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			src.Hook = func(_ context.Context, op ocsynctest.Op, _ string) error {
				if op == ocsynctest.OpList {
					return fmt.Errorf("page 2: %w", remote.ErrRetryable)
				}
				return nil
			}
		}, job.ExitFailed, true},
		{"credentials rejected during apply", func(src *ocsynctest.Source, reg *ocsynctest.Registry, _ *ocsync.Engine) {
			src.Put(app(30), ocsynctest.DefaultSpec("x"))
			reg.Hook = func(_ context.Context, op ocsynctest.Op, _ string) error {
				if op == ocsynctest.OpCreate {
					return fmt.Errorf("token: %w", ocsync.ErrFatal)
				}
				return nil
			}
		}, job.ExitFailed, false},
		{"item fails", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			src.Put(app(30), ocsynctest.DefaultSpec("x"))
			src.Hook = failSpec(app(30).Name)
		}, job.ExitItemsFailed, false},
		{"guard trips", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			for i := range 4 {
				src.Remove(app(i).Name)
			}
		}, job.ExitGuard, false},
		{"guard forced", func(src *ocsynctest.Source, _ *ocsynctest.Registry, e *ocsync.Engine) {
			for i := range 4 {
				src.Remove(app(i).Name)
			}
			e.Force = true
		}, job.ExitOK, false},
		{"guard and item failure", func(src *ocsynctest.Source, _ *ocsynctest.Registry, _ *ocsync.Engine) {
			for i := range 4 {
				src.Remove(app(i).Name)
			}
			src.Put(app(30), ocsynctest.DefaultSpec("x"))
			src.Hook = failSpec(app(30).Name)
		}, job.ExitItemsFailed, false},
		{"dry run with guard", func(src *ocsynctest.Source, _ *ocsynctest.Registry, e *ocsync.Engine) {
			for i := range 4 {
				src.Remove(app(i).Name)
			}
			e.DryRun = true
		}, job.ExitOK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, reg := world(t, 10)
			e := engine(src, reg)
			var logs bytes.Buffer
			e.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: config.LevelTrace}))
			tt.prepare(src, reg, e)
			rep, err := job.RunEngine(context.Background(), e)
			assert.Equal(t, tt.code, job.ExitCode(rep, err), "err: %v", err)
			assert.Equal(t, tt.nilRep, rep == nil)
			assert.Equal(t, tt.code == job.ExitOK && !e.DryRun, err == nil)
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
		{"success", applied, nil, job.ExitOK},
		{"dry run", dry, nil, job.ExitOK},
		{"listing", nil, &ocsync.ListError{Side: "source", Err: errors.New("x")}, job.ExitFailed},
		{"config", nil, &config.Error{Key: "compass", Problem: "x"}, job.ExitFailed},
		{"unknown error without report", nil, errors.New("x"), job.ExitFailed},
		{"unknown error with report", applied, errors.New("x"), job.ExitFailed},
		{"item", applied, errors.Join(item), job.ExitItemsFailed},
		{"interrupted", applied, fmt.Errorf("apply interrupted: %w", context.Canceled), job.ExitItemsFailed},
		{"guard", applied, errors.Join(guard), job.ExitGuard},
		{"item and guard", applied, errors.Join(item, guard), job.ExitItemsFailed},
		{"fatal item and guard", applied, errors.Join(item, fatalItem, guard), job.ExitFailed},
		{"dry run guard", dry, errors.Join(guard), job.ExitOK},
		{"dry run listing", nil, &ocsync.ListError{Side: "registry", Err: errors.New("x")}, job.ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, job.ExitCode(tt.rep, tt.err))
		})
	}
}

func TestNewEngine(t *testing.T) {
	cfg, err := config.Load(context.Background(), filepath.Join("config", "testdata", "original.json"), nil)
	require.NoError(t, err)

	e, err := job.NewEngine(cfg, job.Options{DryRun: true, Force: true})
	require.NoError(t, err)
	assert.True(t, e.DryRun)
	assert.True(t, e.Force)
	assert.Equal(t, ocsync.PolicySync, e.Policy)
	assert.Equal(t, config.DefaultConcurrency, e.Concurrency)
	assert.Equal(t, config.DefaultMaxDeletePercent, e.MaxDeletePercent)
	assert.Equal(t, config.DefaultSpecRefreshInterval, e.SpecRefreshInterval)
	require.NotNil(t, e.NameKey)
	assert.Equal(t, e.NameKey("App Prefix_1"), e.NameKey("app-prefix-1"))
	assert.NotNil(t, e.Source)
	assert.NotNil(t, e.Registry)

	_, err = job.NewEngine(nil, job.Options{})
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.Equal(t, job.ExitFailed, job.ExitCode(nil, err))
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
	return job.RunEngine(context.Background(), e)
}

func TestWriteText(t *testing.T) {
	for _, dryRun := range []bool{false, true} {
		t.Run(fmt.Sprintf("dryRun=%v", dryRun), func(t *testing.T) {
			rep, _ := guardReport(t, dryRun)
			require.NotNil(t, rep)
			var buf bytes.Buffer
			require.NoError(t, job.WriteText(&buf, rep))
			golden(t, fmt.Sprintf("report-dryrun-%v.txt", dryRun), buf.Bytes())
			assert.NotContains(t, buf.String(), "tok-")
		})
	}
	t.Run("no changes", func(t *testing.T) {
		src, reg := world(t, 3)
		rep, err := job.RunEngine(context.Background(), engine(src, reg))
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, job.WriteText(&buf, rep))
		assert.Equal(t, "No changes.\nSummary: "+rep.Summary.String()+".\n", buf.String())
	})
	t.Run("spec replaced", func(t *testing.T) {
		plan := &ocsync.Plan{Changes: []ocsync.Change{{Kind: ocsync.KindUpdate, Name: "oc-1", Key: "1", Fields: []string{ocsync.FieldRevision}}}}
		rep := &ocsync.Report{Plan: plan, Results: []ocsync.Result{{Kind: ocsync.KindUpdate, Name: "oc-1", Outcome: ocsync.OutcomeApplied, SpecReplaced: true}}}
		var buf bytes.Buffer
		require.NoError(t, job.WriteText(&buf, rep))
		assert.Contains(t, buf.String(), "changes revision; spec replaced")
	})
	t.Run("write error", func(t *testing.T) {
		rep, _ := guardReport(t, false)
		assert.Error(t, job.WriteText(failingWriter{}, rep))
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestListingPastTheDeadline(t *testing.T) {
	src, reg := world(t, 3)
	e := engine(src, reg)
	e.Deadline = time.Now().Add(-time.Second)
	rep, err := job.RunEngine(context.Background(), e)
	assert.Nil(t, rep)
	assert.ErrorIs(t, err, ocsync.ErrDeadline)
	assert.ErrorIs(t, err, ocsync.ErrListFailed)
	assert.Equal(t, job.ExitFailed, job.ExitCode(rep, err))
	assert.Contains(t, err.Error(), "the run timeout passed while listing")
}
