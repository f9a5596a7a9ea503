// Package job runs one synchronisation the way the ocjob binary does: from a
// loaded configuration (package job/config) it builds an ocsync.Engine with an
// Open Connectors source and a Compass registry, plans, applies unless it is a
// dry run, and maps the outcome to the exit code a CronJob reports.
//
// The binary is a thin shell of flags and output around NewEngine, Sync (or
// RunEngine), ExitCode, WriteText and the Metrics; programs that want the
// same behaviour (a sandbox, an operator) call the same functions:
//
//   - NewEngine maps the configuration to the library values and shares the
//     run's secret Scrubber (NewScrubber) with both clients; NewScrubHandler
//     and ScrubReport put the same Scrubber in front of the logs and the
//     output.
//   - Sync runs once and times the list, plan and apply phases.
//   - Metrics are the run's Prometheus collectors; Push sends them to a
//     Pushgateway with add semantics, so that the last success survives
//     failed runs.
//   - Service runs the sync every interval, one run at a time, and serves
//     /metrics, /healthz and /readyz.
//
// Exit codes, when several apply the first listed wins:
//
//	1 ExitFailed       configuration, authentication or listing failure, or a
//	                   fatal error (rejected credentials, unknown tenant)
//	                   during apply, which stops further changes
//	3 ExitItemsFailed  some changes failed, were refused as conflicts, or were
//	                   not started because the run was interrupted or its
//	                   deadline passed; the rest were applied
//	4 ExitGuard        the deletion guard withheld deletions; everything else
//	                   was applied
//	0 ExitOK           converged, or a dry run completed
//
// A run with failed items and withheld deletions exits 3: the failures need a
// look first, and the next run reports the guard again if it still trips. A
// dry run exits 0 whatever its plan holds (the plan shows the guard's verdict)
// and 1 only when the plan could not be made.
package job
