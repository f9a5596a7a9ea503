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
// applies the platform's changes, the fourth rotates every token on a slow
// Director; the fifth withholds a mass deletion (exit 4), the sixth reviews
// it in a dry run, the seventh's approval is refused because one more
// instance went away meanwhile, the eighth reviews again and the ninth
// approves exactly what was reviewed.
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
	// run 4, exit code 0: 0 created, 11 updated, 0 deleted, 0 unchanged, 1 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started
	// run 5, exit code 4: 0 created, 0 updated, 0 deleted, 4 unchanged, 1 skipped, 0 conflicts, 0 failed, 7 withheld, 0 not started
	// run 6, exit code 0: 0 created, 0 updated, 0 deleted, 4 unchanged, 1 skipped, 0 conflicts, 0 failed, 7 withheld, 0 not started
	// run 7, exit code 4: 0 created, 0 updated, 0 deleted, 3 unchanged, 1 skipped, 0 conflicts, 0 failed, 8 withheld, 0 not started
	// run 8, exit code 0: 0 created, 0 updated, 0 deleted, 3 unchanged, 1 skipped, 0 conflicts, 0 failed, 8 withheld, 0 not started
	// run 9, exit code 0: 0 created, 0 updated, 8 deleted, 3 unchanged, 1 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started
	// run 10, exit code 0: 0 created, 0 updated, 0 deleted, 0 unchanged, 1 skipped, 3 conflicts, 0 failed, 0 withheld, 0 not started
	// as expected: true
}
