package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The scenario on the smallest demo tenant: the first run creates all but the
// disabled and the broken instance, the second changes nothing, the third
// applies the platform's changes.
func Example() {
	dir, err := os.MkdirTemp("", "sandbox-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	sb, err := startSandbox(minInstances, filepath.Join(dir, "config.json"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()

	outcomes, err := sb.scenario(context.Background(), io.Discard)
	for i, o := range outcomes {
		fmt.Printf("run %d, exit code %d: %s\n", i+1, o.exit, o.report.Summary)
	}
	fmt.Println("as expected:", err == nil)
	// Output:
	// run 1, exit code 3: 10 created, 0 updated, 0 deleted, 0 unchanged, 1 skipped, 0 conflicts, 1 failed, 0 withheld, 0 not started
	// run 2, exit code 3: 0 created, 0 updated, 0 deleted, 10 unchanged, 1 skipped, 0 conflicts, 1 failed, 0 withheld, 0 not started
	// run 3, exit code 0: 2 created, 3 updated, 1 deleted, 6 unchanged, 1 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started
	// as expected: true
}
