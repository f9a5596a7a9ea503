package ocsync_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// A Controller runs any Source and Registry the way ocjob runs Open
// Connectors and Compass; here the in-memory ones of ocsynctest.
func ExampleController_RunOnce() {
	src := ocsynctest.NewSource(
		ocsync.Application{Name: "oc-1", Key: "1", Attributes: ocsync.Attributes{Status: ocsync.StatusConnected}},
		ocsync.Application{Name: "oc-2", Key: "2", Attributes: ocsync.Attributes{Status: ocsync.StatusConnected}},
	)
	reg := ocsynctest.NewRegistry()
	ctl := &ocsync.Controller{Engine: &ocsync.Engine{Source: src, Registry: reg, DryRun: true}}

	out := ctl.RunOnce(context.Background())
	if err := out.Report.WriteText(os.Stdout); err != nil {
		fmt.Println(err)
	}
	fmt.Println("exit code", out.ExitCode())
	// Output:
	// ACTION  APPLICATION  INSTANCE  RESULT   DETAILS
	// create  oc-1         1         planned  -
	// create  oc-2         2         planned  -
	// Dry run, nothing applied. Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged, 0 skipped, 0 conflicts, 0 to withhold.
	// exit code 0
}

func ExampleExitCode() {
	rep := &ocsync.Report{}
	item := &ocsync.ItemError{Name: "oc-1", Kind: ocsync.KindCreate, Err: remote.ErrInvalidSpec}
	guard := &ocsync.GuardError{Deletes: 5, Owned: 10, MaxPercent: 30}

	fmt.Println(ocsync.ExitCode(rep, nil))
	fmt.Println(ocsync.ExitCode(nil, &ocsync.ListError{Side: "source", Err: errors.New("401")}))
	fmt.Println(ocsync.ExitCode(rep, errors.Join(item)))
	fmt.Println(ocsync.ExitCode(rep, errors.Join(guard)))
	fmt.Println(ocsync.ExitCode(rep, errors.Join(item, guard)))
	// Output:
	// 0
	// 1
	// 3
	// 4
	// 3
}
