// Command ocjob keeps the Compass applications of one Open Connectors tenant
// in sync with its connector instances. By default it runs once and exits, as
// a Kubernetes CronJob expects; with -interval it stays up as a service:
//
//	ocjob [-config /config/config.json] [-dry-run] [-output text|json]
//	      [-approve sha256:... | -force] [-listen :8080]
//	ocjob [-config /config/config.json] [-dry-run] [-output text|json]
//	      -interval 5m [-listen :8080]
//	ocjob -version
//
// The plan and the summary go to stdout (a table, or one JSON document per run
// with -output json); logs go to stderr, as text on a terminal and as JSON
// otherwise unless the configuration's logFormat says which. Every log record,
// report and document passes through the run's secret scrubber.
//
// -approve applies withheld deletions only when they are exactly those whose
// digest a dry run printed; -force lifts the deletion guard without a review.
// Both concern one run and are refused with -interval (exit 2).
//
// With -interval D the sync runs every D (never two at once) until SIGTERM or
// SIGINT, which cancels the current run; /metrics, /healthz and /readyz are
// served on -listen (":8080" by default then, off when running once unless
// given).
//
// Exit codes of a run: 0 converged or dry run done; 1 nothing changed because
// of a configuration, authentication or listing failure; 2 usage error; 3 some
// items failed (or were left undone at the run timeout), the rest applied; 4
// deletions withheld by the deletion guard. When several apply, 1 wins over 3
// and 3 over 4. In service mode the process exits 0 after a clean shutdown
// and 1 when the configuration cannot be loaded.
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
