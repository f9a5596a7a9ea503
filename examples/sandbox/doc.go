// Command sandbox runs the real ocjob code against two fakes on loopback: a
// fake SAP Open Connectors tenant (openconnectors/octest) with a few dozen
// demo instances of ten connectors, and a fake Compass Director
// (compass/compasstest). It writes an ocjob configuration file pointing at
// them and runs the job ten times, the way ocjob runs it (config.Load,
// config.NewController, ocsync.Controller.RunOnce, ocsync.Report.WriteText),
// with the
// flags ocjob would get (-dry-run, -approve):
//
//  1. a first sync: every enabled instance becomes an application; the
//     disabled instance is skipped and the instance whose document is not JSON
//     is an item failure (exit 3);
//  2. a second sync with nothing changed: every application is unchanged and
//     the Director receives no mutation (exit 3, the broken document again);
//  3. a third sync after changes on the fake platform (a rename, a deletion,
//     a new instance, a rotated token, a new document, a fixed document):
//     updates, a delete and creates (exit 0);
//  4. a long run: the platform reissues every token and the fake Director
//     answers slowly (its latency chosen so that the changes take about a
//     second), so the job logs "progress" records (done, total, failed,
//     rate, eta) while it applies the updates; the sandbox sets the
//     engine's progress interval to 200ms instead of 10s for every run;
//  5. many instances deleted at once: the deletion guard (30%) withholds the
//     deletions, the rest is applied, and the report ends with the
//     deletions digest (exit 4);
//  6. a dry run to review them shows the same digest (exit 0);
//  7. one more instance deleted, then -approve with the reviewed digest: the
//     plan's deletions no longer match it, so nothing is deleted and the new
//     digest is printed (exit 4);
//  8. a dry run shows the new digest (exit 0);
//  9. -approve with that digest: exactly those deletions are applied
//     (exit 0);
//  10. a dry run of a second job (another sync.owner, the same
//     applicationPrefix, no tags): every name it would create is held by
//     the first job, a conflict that names the first job and says that the
//     two jobs' selections overlap (exit 0).
//
// Each run prints an explanation, the ocjob command line it stands for and
// its report, and is checked against what it should do and against the
// fakes' state (which applications the Director holds, that withheld
// deletions deleted nothing, that the slow run logged progress); the command
// exits 0 when every run behaved as expected and 1 otherwise. The demo data
// is fixed, so every run prints the same names; the digests cover the
// Compass ids the fake Director draws, and the progress records depend on
// the machine. The whole scenario takes a second or two.
//
// Usage:
//
//	go run ./examples/sandbox [-instances 36] [-serve] [-config FILE] [-keep-config] [-v]
//
// With -v the job's log records (the progress records among them) go to
// stderr. With -serve the fakes keep running after the ten runs, until
// interrupted, and the sandbox prints the configuration file's path, so that
// ocjob can be run by hand against them:
//
//	go run ./cmd/ocjob -config /tmp/ocjob-sandbox-123/config.json -dry-run
//	go run ./cmd/ocjob -config /tmp/ocjob-sandbox-123/config.json -output json
//
// The configuration file holds the fakes' made-up credentials; it is removed
// on exit unless -keep-config is given or -config named it.
package main
