// Package ocjob keeps a Compass runtime (the Kyma Director GraphQL API) in sync
// with the connector instances of one SAP Open Connectors tenant.
//
// Every connector instance (optionally selected by tags) becomes a Compass
// application named <prefix>-<instance id>, with one bundle holding one API
// definition: the instance's OpenAPI document, the platform's target URL and
// the "Authorization: User …, Organization …, Element …" header the instance
// needs. Renamed instances, changed documents and rotated tokens are updated;
// applications whose instance is gone are unregistered. The job acts as a
// Compass integration system and only ever touches the applications that carry
// its own identity label.
//
// The module is a library first:
//
//   - ocsync is the engine: the Source and Registry interfaces, the pure
//     planner with its policies, ownership rules and deletion guard, and the
//     Engine that applies a plan with bounded concurrency, per-item results
//     and a dry run decided in one place. ocsync/ocsynctest has in-memory
//     implementations for tests.
//   - openconnectors implements ocsync.Source over the Open Connectors
//     platform API (paged instance listing, tags, lazily fetched and validated
//     documents, retries); openconnectors/octest is a fake platform on
//     loopback for tests.
//   - compass implements ocsync.Registry over the Director with a generated
//     genqlient client and OAuth2 client credentials; compass/compasstest is a
//     fake Director on loopback, built on gqlgen like the real one.
//   - cmd/ocjob is the CronJob binary; its packages cmd/ocjob/job and
//     cmd/ocjob/config turn the JSON configuration into an engine and a
//     run into an exit code.
//   - examples holds a sandbox that runs the job against both fakes, a program
//     that embeds the engine with its own Source, and Kubernetes manifests.
//
// See README.md for the configuration, the exit codes and how to embed the
// engine.
package ocjob
