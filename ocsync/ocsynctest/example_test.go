package ocsynctest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
)

// A create whose answer is lost: the Registry stores the application but the
// engine sees an error, and the next run finds it already there. The
// counters tell what each run cost.
func ExampleRegistry_AddFault() {
	ctx := context.Background()
	source := ocsynctest.NewSource(
		ocsync.Application{Name: "app-1", Key: "1", Attributes: ocsync.Attributes{Status: ocsync.StatusConnected}},
		ocsync.Application{Name: "app-2", Key: "2", Attributes: ocsync.Attributes{Status: ocsync.StatusConnected}},
	)
	registry := ocsynctest.NewRegistry()
	registry.AddFault(ocsynctest.OpCreate, ocsynctest.Fault{Name: "app-2", Err: errors.New("502 Bad Gateway"), After: true, Times: 1})

	engine, err := ocsync.NewEngine(source, registry)
	if err != nil {
		fmt.Println(err)
		return
	}
	for run := 1; run <= 2; run++ {
		plan, err := engine.Plan(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		report, err := engine.Apply(ctx, plan)
		fmt.Printf("run %d: %s; error: %v\n", run, report.Summary, err != nil)
		fmt.Printf("run %d: %d creates, %d specs, stored %v\n", run,
			registry.Count(ocsynctest.OpCreate), source.Count(ocsynctest.OpSpec), registry.Names())
		registry.ResetCounts()
		source.ResetCounts()
	}
	// Output:
	// run 1: 1 created, 0 updated, 0 deleted, 0 unchanged, 0 skipped, 0 conflicts, 1 failed, 0 withheld, 0 not started; error: true
	// run 1: 2 creates, 2 specs, stored [app-1 app-2]
	// run 2: 0 created, 0 updated, 0 deleted, 2 unchanged, 0 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started; error: false
	// run 2: 0 creates, 0 specs, stored [app-1 app-2]
}

// A fault for every call of one operation stays until ClearFaults.
func ExampleSource_AddFault() {
	ctx := context.Background()
	source := ocsynctest.NewSource(ocsync.Application{Name: "app-1"})
	source.AddFault(ocsynctest.OpSpec, ocsynctest.Fault{}) // Times 0: every call
	for range 2 {
		_, err := source.Spec(ctx, ocsync.Application{Name: "app-1"})
		fmt.Println(err)
	}
	source.ClearFaults()
	_, err := source.Spec(ctx, ocsync.Application{Name: "app-1"})
	fmt.Println(err, source.Count(ocsynctest.OpSpec))
	// Output:
	// ocsynctest: injected fault
	// ocsynctest: injected fault
	// <nil> 3
}
