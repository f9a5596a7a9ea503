// Package ocsync is a reconciliation engine that keeps the applications of a
// target registry in line with a source of desired applications. It knows
// nothing of Open Connectors or Compass: packages openconnectors and compass
// implement its two interfaces, and any program can bring its own.
//
// A Source lists the desired applications ([Application]) and loads each one's
// spec document lazily. A Registry lists the applications in scope
// ([Registered]), tells which of them this job owns, and creates, updates and
// deletes one at a time. The [Engine] is the [Reconciler]: Plan lists both
// sides concurrently and calls [Calculate], a pure and deterministic function
// that turns the two listings into a [Plan] of changes sorted by application
// name (create, update with the changed fields and old and new values,
// delete, unchanged, conflict, skipped). Apply carries the plan out with
// bounded concurrency and returns a [Report] with one [Result] per change.
//
// Build an Engine with [NewEngine]: it checks that the Source and the Registry
// name the same [Scope] (when both know theirs) and takes the Registry's name
// rule ([Names]), so an embedder cannot wire the two sides of different
// syncs together.
//
// The rules:
//   - A listing failure on either side aborts the run before any change
//     ([ErrListFailed]); a partial list is never taken for the whole. Both
//     sides always list to the end, so both failures are reported at once.
//   - Only owned applications are updated or deleted. A desired application
//     whose name is taken by one the job does not own is a conflict, found at
//     plan time when the Registry lists it (see [PlanOptions].NameKey for
//     targets that compare names normalised) or can look the name up
//     ([Names]), and otherwise when the Registry refuses the create
//     ([ErrConflict]).
//   - A source object that cannot be mapped ([Application].Unusable) leaves its
//     application exactly as it is (no update, no status change, no delete),
//     is never created, and is reported ([ErrUnusable], an item failure).
//   - The [Policy] limits the kinds of change: [PolicySync],
//     [PolicyUpsertOnly], [PolicyCreateOnly].
//   - The mass-deletion guard withholds every deletion when the job owns at
//     least 10 applications and the plan deletes more than MaxDeletePercent
//     (default 30) of them, or when the source is empty while the job owns
//     applications. Everything else is applied and Apply returns a
//     [*GuardError] ([ErrGuardTripped]). Force lifts the guard; better,
//     ApproveDigest lifts it only for the deletions whose [DeletionsDigest] an
//     operator reviewed in a dry run.
//   - Drift is detected from the [State] the Registry stores with each
//     application: a hash per synchronised field (the credential included, never
//     in clear), the spec's SHA-256 and when it was fetched. Specs are loaded
//     only for creates, for updates whose spec is due or whose source revision
//     changed, and for refreshes: each stored spec is due once per
//     SpecRefreshInterval (default 24h), at a phase of its own, so refreshes
//     are spread evenly over the interval. A run with nothing to do costs the
//     two listings only. An update sends the spec only when its hash changed.
//   - An update writes what changed, independently: when its spec cannot be
//     loaded, the other fields are still written and the item is reported
//     failed; the spec stays due. A Registry that finds parts missing which
//     only the spec can restore loads it through [Update].LoadSpec, in the
//     same call. A Registry that writes an update in several steps records
//     [Update.PendingState] first and the final state last, so an update
//     interrupted anywhere is completed by the next run, even if the source
//     changed back.
//   - Applications whose source is disabled or invalid ([StatusFailed]) are
//     kept and marked failed, and never created.
//   - One failing item never stops the others: Apply keeps going and returns
//     every item error joined with errors.Join, each an [*ItemError]
//     ([ErrItemFailed]). Once the context is cancelled, an item fails with an
//     error marked [ErrFatal], or the [Engine].Deadline passes ([ErrDeadline]),
//     no new item starts.
//   - Apply refuses, before any change, a plan it did not make ([PlanError],
//     [ErrPlanInvalid]): a plan that went through JSON describes its changes
//     but no longer carries the applications, credentials and registry
//     references needed to apply them.
//   - Dry run is decided in one place, [Engine].DryRun: Apply then reports the
//     plan and calls neither the Registry's mutations nor the Source's Spec.
//   - Long runs log a "progress" record every ProgressInterval (10 s).
//
// A [Controller] runs an Engine the way ocjob does: RunOnce plans, applies,
// logs the plan, the guard's verdict and the summary, and classifies the
// [RunOutcome] into an exit code ([ExitCode]: 0, 1, 3 or 4); Run does that
// every Interval until its context ends, never two runs at once. An
// [Observer] is told about every run (progress and outcome): package
// ocsync/metrics has the Prometheus one. Prepare, when set, runs before every
// run (ocjob reads rotated secrets there). After each run the controller
// closes the idle connections of a side that has them ([IdleCloser]) and
// reports the retries of a side that counts them ([RetryCounter]).
//
// Application credentials travel as redact.Secret (package ocsync/redact),
// which prints, logs and marshals redacted.
//
// Package ocsynctest has an in-memory Source and Registry for tests, and
// interceptors that wrap any Source or Registry to fail calls before or
// after they run.
package ocsync
