package metrics_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	_, err := runEngine(context.Background(), e)
	require.NoError(t, err)
	return src, reg
}

func engine(src ocsync.Source, reg ocsync.Registry) *ocsync.Engine {
	return &ocsync.Engine{Source: src, Registry: reg, Now: func() time.Time { return now }, Concurrency: 2}
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

// runEngine runs e once as a Controller does.
func runEngine(ctx context.Context, e *ocsync.Engine) (*ocsync.Report, error) {
	o := (&ocsync.Controller{Engine: e}).RunOnce(ctx)
	return o.Report, o.Err
}
