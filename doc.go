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
// This package puts the sync together from Go values: New builds the Open
// Connectors source, the Compass registry of the same scope and the engine,
// and returns the ocsync.Controller that runs it once (RunOnce, with the exit
// code ocjob returns) or every interval (Run). The module is a library first:
//
//   - ocsync is the engine and its controller: the Source and Registry
//     interfaces, the pure planner with its policies, ownership rules and
//     deletion guard, the Engine that applies a plan with bounded concurrency,
//     and the Controller with its Observer hooks and exit codes.
//     ocsync/ocsynctest has in-memory implementations for tests;
//     ocsync/metrics exports runs to Prometheus (scraped or pushed);
//     ocsync/redact keeps secrets out of logs and errors; ocsync/remote is
//     the retry vocabulary and error classes both clients share.
//   - openconnectors implements ocsync.Source over the Open Connectors
//     platform API; openconnectors/octest is a fake platform on loopback.
//   - compass implements ocsync.Registry over the Director with a generated
//     genqlient client and OAuth2 client credentials; compass/compasstest is a
//     fake Director on loopback, built on gqlgen like the real one.
//   - cmd/ocjob is the CronJob binary: flags, the JSON configuration file
//     (cmd/ocjob/config) and its mapping to the values of this package.
//   - examples holds a sandbox that runs the job against both fakes, a program
//     that embeds the engine with its own Source, and Kubernetes manifests.
//
// See README.md for the configuration, the exit codes and how to embed the
// sync.
package ocjob
