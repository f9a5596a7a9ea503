// Command ocjob keeps the Compass applications of one Open Connectors tenant
// in sync with its connector instances. It runs once and exits, as a
// Kubernetes CronJob expects:
//
//	ocjob [-config /config/config.json] [-dry-run] [-output text|json] [-force]
//	ocjob -version
//
// The plan and the summary go to stdout (a table, or one JSON document with
// -output json); logs go to stderr, as text on a terminal and as JSON
// otherwise unless the configuration's logFormat says which.
//
// Exit codes: 0 converged or dry run done; 1 nothing changed because of a
// configuration, authentication or listing failure; 2 usage error; 3 some
// items failed, the rest applied; 4 deletions withheld by the deletion guard.
// When several apply, 1 wins over 3 and 3 over 4.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
