package ocsync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
)

// folderSource is a custom Source: one application per OpenAPI file in a folder.
type folderSource struct{ dir string }

func (s folderSource) Applications(ctx context.Context) ([]ocsync.Application, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var apps []ocsync.Application
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		apps = append(apps, ocsync.Application{
			Name: "files-" + name,
			Key:  name,
			Attributes: ocsync.Attributes{
				Description: "OpenAPI document " + filepath.Base(f),
				Status:      ocsync.StatusConnected,
				Bundle:      name,
				API:         name,
				TargetURL:   "https://api.example.com/" + name,
			},
		})
	}
	return apps, nil
}

func (s folderSource) Spec(ctx context.Context, app ocsync.Application) (ocsync.Spec, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, app.Key+".json"))
	return ocsync.Spec{Type: "OPEN_API", Format: "JSON", Data: data}, err
}

// A custom Source synchronised into the in-memory Registry: the first run
// creates, the plan of the second run is all unchanged.
func Example() {
	dir, _ := os.MkdirTemp("", "specs")
	defer os.RemoveAll(dir)
	for _, name := range []string{"orders", "billing"} {
		_ = os.WriteFile(filepath.Join(dir, name+".json"), []byte(`{"openapi":"3.0.3","info":{"title":"`+name+`","version":"1"},"paths":{}}`), 0o600)
	}
	registry := ocsynctest.NewRegistry()
	registry.Seed(ocsynctest.Entry{Registered: ocsync.Registered{Name: "files-legacy", Owned: true}})

	engine, err := ocsync.NewEngine(folderSource{dir}, registry)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	plan, err := engine.Plan(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range plan.Changes {
		fmt.Println(c.Kind, c.Name)
	}
	report, err := engine.Apply(ctx, plan)
	fmt.Println(report.Summary, err)

	plan, _ = engine.Plan(ctx)
	fmt.Println(plan.Count(ocsync.KindUnchanged), "unchanged,", plan.Mutations(), "mutations")
	// Output:
	// create files-billing
	// delete files-legacy
	// create files-orders
	// 2 created, 0 updated, 1 deleted, 0 unchanged, 0 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started <nil>
	// 2 unchanged, 0 mutations
}

// Calculate is pure: given both listings it returns the plan, here with the
// deletion guard holding back the removal of every owned application.
func ExampleCalculate() {
	var registered []ocsync.Registered
	for i := range 12 {
		registered = append(registered, ocsync.Registered{Name: fmt.Sprintf("app-%02d", i), Owned: true})
	}
	plan := ocsync.Calculate(nil, registered, ocsync.PlanOptions{Now: time.Now()})
	fmt.Println(plan.Guard.Tripped, plan.Count(ocsync.KindDelete), plan.Mutations())
	// Output: true 12 0
}

// A dry run returns the plan and calls no mutation of the Registry.
func ExampleEngine_dryRun() {
	source := ocsynctest.NewSource(ocsync.Application{Name: "app-1", Attributes: ocsync.Attributes{Status: ocsync.StatusConnected}})
	registry := ocsynctest.NewRegistry()
	engine := &ocsync.Engine{Source: source, Registry: registry, DryRun: true}
	plan, _ := engine.Plan(context.Background())
	report, _ := engine.Apply(context.Background(), plan)
	fmt.Println(report.Results[0].Kind, report.Results[0].Outcome, registry.Mutations(), source.Count(ocsynctest.OpSpec))
	// Output: create planned 0 0
}

// An operator reviews the deletions of a dry run and approves exactly those:
// the guard is lifted for that set of deletions only.
func ExamplePlanOptions_approveDigest() {
	var registered []ocsync.Registered
	for i := range 12 {
		registered = append(registered, ocsync.Registered{ID: fmt.Sprint(i), Name: fmt.Sprintf("app-%02d", i), Owned: true})
	}
	reviewed := ocsync.Calculate(nil, registered, ocsync.PlanOptions{Now: time.Now()})
	fmt.Println("dry run:", reviewed.Guard.Tripped, reviewed.Mutations())

	approved := ocsync.Calculate(nil, registered, ocsync.PlanOptions{Now: time.Now(), ApproveDigest: reviewed.DeletionsDigest})
	fmt.Println("approved:", approved.Guard.Approved, approved.Mutations())

	// One more application appeared in the meantime: the approval no longer fits.
	registered = append(registered, ocsync.Registered{ID: "12", Name: "app-12", Owned: true})
	changed := ocsync.Calculate(nil, registered, ocsync.PlanOptions{Now: time.Now(), ApproveDigest: reviewed.DeletionsDigest})
	fmt.Println("changed:", changed.Guard.Tripped, changed.Guard.Refused == reviewed.DeletionsDigest, changed.Mutations())
	// Output:
	// dry run: true 0
	// approved: true 12
	// changed: true true 0
}
