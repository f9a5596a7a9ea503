// Command sandbox runs the real ocjob code against two fakes on loopback: a
// fake SAP Open Connectors tenant (openconnectors/octest) with a few dozen
// demo instances of ten connectors, and a fake Compass Director
// (compass/compasstest). It writes an ocjob configuration file pointing at
// them and runs the job three times, the way ocjob runs it (config.Load,
// job.NewEngine, job.RunEngine, job.WriteText, job.ExitCode):
//
//  1. a first sync: every enabled instance becomes an application; the
//     disabled instance is skipped and the instance whose document is not JSON
//     is an item failure;
//  2. a second sync with nothing changed: every application is unchanged and
//     the Director receives no mutation;
//  3. a third sync after changes on the fake platform (a rename, a deletion,
//     a new instance, a rotated token, a new document, a fixed document):
//     updates, a delete and creates.
//
// Each run prints an explanation and its plan, and is checked against what
// it should do; the command exits 0 when all three behaved as expected and 1
// otherwise. The demo data is fixed, so every run prints the same names.
//
// Usage:
//
//	go run ./examples/sandbox [-instances 36] [-serve] [-config FILE] [-keep-config] [-v]
//
// With -serve the fakes keep running after the three runs, until interrupted,
// and the sandbox prints the configuration file's path, so that ocjob can be
// run by hand against them:
//
//	go run ./cmd/ocjob -config /tmp/ocjob-sandbox-123/config.json -dry-run
//	go run ./cmd/ocjob -config /tmp/ocjob-sandbox-123/config.json -output json
//
// The configuration file holds the fakes' made-up credentials; it is removed
// on exit unless -keep-config is given or -config named it.
package main
