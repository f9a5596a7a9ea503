package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// Credentials of the fakes. They exist only in the fakes and in the
// configuration file the sandbox writes; the sandbox never prints them.
const (
	userSecret         = "sandbox-user-secret"
	organizationSecret = "sandbox-organization-secret"
	clientID           = "ocjob-sandbox"
	clientSecret       = "sandbox-client-secret"
	applicationPrefix  = "sandbox"
	// tenant is the Director tenant the applications are registered in.
	tenant = compasstest.DefaultTenant
)

// Settings of the runs.
const (
	// maxDeletePercent is sync.maxDeletePercent in the configuration: the
	// deletion guard withholds every deletion of a run that would delete
	// more than this share of the owned applications.
	maxDeletePercent = 30
	// applyConcurrency is sync.concurrency in the configuration (the
	// default, written out because the slow run's latency depends on it).
	applyConcurrency = 8
	// progressInterval replaces the engine's 10 s between progress records
	// in every run of the sandbox (the configuration file has no key for
	// it), so that a run of about a second logs several.
	progressInterval = 200 * time.Millisecond
	// slowApply is how long the slow run's changes take at the least: five
	// progress intervals, whatever the number of instances.
	slowApply = 5 * progressInterval
	// requestsPerRotation is how many Director requests the update of a
	// reissued token makes one after the other: the application query for
	// the ids of its bundle and API, the pending state label, the bundle,
	// the state label (checked by TestProgressAndApproval).
	requestsPerRotation = 4
)

// sandbox is a fake Open Connectors tenant with demo instances, a fake
// Director, and a configuration file of ocjob pointing at both.
type sandbox struct {
	oc *octest.Server
	cp *compasstest.Server
	// n is how many demo instances the platform started with.
	n int
	// configPath is the configuration file.
	configPath string
	// logger receives the job's records; progress keeps the progress
	// records among them.
	logger   *slog.Logger
	progress *progressSink
}

// startSandbox starts both fakes on loopback, seeds n demo instances and
// writes the configuration to configPath. Close the sandbox when done.
func startSandbox(n int, configPath string, logger *slog.Logger) (*sandbox, error) {
	if n < minInstances {
		return nil, fmt.Errorf("the scenario needs at least %d instances, got %d", minInstances, n)
	}
	instances, specs := demoInstances(n)
	next := slog.Handler(slog.DiscardHandler)
	if logger != nil {
		next = logger.Handler()
	}
	sink := &progressSink{}
	s := &sandbox{
		oc:         octest.NewServer(octest.WithSecrets(userSecret, organizationSecret), octest.WithInstances(instances...)),
		cp:         compasstest.NewServer(compasstest.WithClients(compasstest.Client{ID: clientID, Secret: clientSecret})),
		n:          n,
		configPath: configPath,
		logger:     slog.New(progressHandler{next: next, sink: sink}),
		progress:   sink,
	}
	for id, spec := range specs {
		s.oc.SetSpec(id, spec)
	}
	if err := s.writeConfig(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops both fakes. It leaves the configuration file alone.
func (s *sandbox) Close() {
	s.oc.Close()
	s.cp.Close()
}

// writeConfig writes the ocjob configuration (the keys of the product's
// configuration file) that points at the fakes.
func (s *sandbox) writeConfig() error {
	doc := map[string]any{
		"logLevel":  "Info",
		"logFormat": "text",
		"compass": map[string]any{
			"directorURL":         s.cp.GraphQLURL(),
			"tokenUrl":            s.cp.TokenURL(),
			"tenantId":            tenant,
			"clientID":            clientID,
			"clientSecret":        clientSecret,
			"applicationPrefix":   applicationPrefix,
			"integrationSystemID": compasstest.DefaultIntegrationSystemID,
			"timeoutMills":        5000,
		},
		"openConnectors": map[string]any{
			"hostname":           s.oc.URL,
			"organizationSecret": organizationSecret,
			"userSecret":         userSecret,
			"timeoutMills":       5000,
		},
		"sync": map[string]any{
			"policy":           "sync",
			"maxDeletePercent": maxDeletePercent,
			"concurrency":      applyConcurrency,
		},
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.configPath), 0o700); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	if err := os.WriteFile(s.configPath, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	return nil
}

// runOptions are the command line flags of one run of ocjob.
type runOptions struct {
	// dryRun is -dry-run.
	dryRun bool
	// approve is the value of -approve: a deletions digest.
	approve string
	// owner, when set, replaces sync.owner: the run stands for a second
	// job with its own configuration.
	owner string
}

// command is the ocjob command line of a run with o.
func (s *sandbox) command(o runOptions) string {
	cmd := "ocjob -config " + s.configPath
	if o.dryRun {
		cmd += " -dry-run"
	}
	if o.approve != "" {
		cmd += " -approve " + o.approve
	}
	if o.owner != "" {
		cmd += fmt.Sprintf("   # a second job: the same file with \"sync\": {\"owner\": %q}", o.owner)
	}
	return cmd
}

// sync runs the job once exactly as ocjob does with the flags o: load the
// configuration, build the engine, plan and apply, map the outcome to an
// exit code. Only the engine's progress interval is the sandbox's own. The
// report is nil when no plan was made. The progress records of the run are
// in s.progress afterwards.
func (s *sandbox) sync(ctx context.Context, o runOptions) (*ocsync.Report, int, error) {
	s.progress.take() // forget the records of an earlier run
	cfg, err := config.Load(ctx, s.configPath, nil)
	if err != nil {
		return nil, ocsync.ExitFailed, err
	}
	if o.owner != "" {
		cfg.Source.Owner = o.owner
	}
	ctl, err := config.NewController(cfg, config.Options{Logger: s.logger, DryRun: o.dryRun, Approve: o.approve})
	if err != nil {
		return nil, ocsync.ExitFailed, err
	}
	ctl.Engine.ProgressInterval = progressInterval
	out := ctl.RunOnce(ctx)
	return out.Report, out.ExitCode(), out.Err
}

// slowLatency is the delay of every Director request that makes a run of
// changes token rotations last slowApply at the least: the run applies
// them in rounds of applyConcurrency, each a chain of requestsPerRotation
// requests.
func slowLatency(changes int) time.Duration {
	rounds := max(1, (changes+applyConcurrency-1)/applyConcurrency)
	chain := time.Duration(rounds * requestsPerRotation)
	return max(time.Millisecond, (slowApply+chain-1)/chain)
}

// appName is the application name of an instance.
func appName(id int64) string { return applicationPrefix + "-" + strconv.FormatInt(id, 10) }

// Verdicts of the deletion guard a step expects (step.guard).
const (
	guardWithheld = "withheld"
	guardRefused  = "refused"
	guardApproved = "approved"
	guardForced   = "forced"
)

// step is one run of the scenario: what changes on the platform before it,
// the run's flags, what the run should do, and what a person is told about
// it.
type step struct {
	title string
	// prepare changes the platform and returns what it changed, for the
	// explanation; nil changes nothing.
	prepare func(s *sandbox) []string
	// explain is printed before the run's report.
	explain []string
	// dryRun is the run's -dry-run.
	dryRun bool
	// approve is the number of the earlier run whose deletions digest the
	// run passes to -approve; 0 approves nothing.
	approve int
	// slow makes the fake Director answer slowly while the run applies, so
	// that it lasts several progress intervals: the run must log progress
	// records then.
	slow bool
	// exit and summary are what the run must end with.
	exit    int
	summary ocsync.Summary
	// changes lists every change that is not "unchanged" as
	// "<kind> <application> [fields]", with " withheld" after a withheld
	// deletion, sorted by application.
	changes []string
	// written are the applications whose spec document the run writes,
	// sorted.
	written []string
	// guard is the deletion guard's verdict: empty when it did not trip,
	// else guardWithheld, guardRefused, guardApproved or guardForced.
	guard string
	// sameDigest and newDigest are the numbers of earlier runs whose
	// deletions digest the run's must equal, or differ from; 0 for none.
	sameDigest, newDigest int
	// registered is how many applications the Director holds afterwards.
	registered int
	// owner, when set, makes the run a second job's, with that sync.owner.
	owner string
	// reason is what every conflict's reason must say; empty for none.
	reason string
}

// options are the flags of st's run; approvals take their digest from the
// earlier runs done.
func (st step) options(done []outcome) (runOptions, error) {
	o := runOptions{dryRun: st.dryRun, owner: st.owner}
	if st.approve == 0 {
		return o, nil
	}
	if st.approve > len(done) || done[st.approve-1].report == nil {
		return o, fmt.Errorf("run %d approves the digest of run %d, which made no plan", len(done)+1, st.approve)
	}
	o.approve = done[st.approve-1].report.Plan.DeletionsDigest
	return o, nil
}

// secondOwner is the sync.owner of the second job of the tenth run.
const secondOwner = "shard-b"

// lastDeleted is the position of the instance deleted after the review
// (before the seventh run): one that never changed before.
const lastDeleted = 0

// cutOf is the position from which on the fifth run's clean-up deletes
// every instance of a tenant of n (the instances with the highest ids, all
// with an application, since cutOf(minInstances) is above idxDeleted and
// idxDisabled).
func cutOf(n int) int { return n / 2 }

// steps returns the runs of the scenario for the sandbox's tenant.
func (s *sandbox) steps() []step {
	disabled, broken := appName(instanceID(idxDisabled)), appName(instanceID(idxBroken))
	// The applications owned after the first two runs: all but the disabled
	// and the broken instance's; after the third, all but the disabled and
	// the deleted instance's.
	early, owned := s.n-2, s.n-1
	first := []string{"skipped " + disabled}
	second := []string{"create " + broken, "skipped " + disabled}
	var created []string
	for i := range s.n {
		if i != idxDisabled && i != idxBroken {
			first = append(first, "create "+appName(instanceID(i)))
			created = append(created, appName(instanceID(i)))
		}
	}
	first = append(first, "create "+broken)
	added := instanceID(s.n)
	third := []string{
		"update " + appName(instanceID(idxRenamed)) + " [api description revision]",
		"delete " + appName(instanceID(idxDeleted)),
		"update " + appName(instanceID(idxRotated)) + " [credential revision]",
		"update " + appName(instanceID(idxSpec)) + " [revision]",
		"skipped " + disabled,
		"create " + broken,
		"create " + appName(added),
	}

	var rotations []string
	for i := 0; i <= s.n; i++ {
		if i != idxDeleted && i != idxDisabled {
			rotations = append(rotations, "update "+appName(instanceID(i))+" [credential revision]")
		}
	}
	rotations = append(rotations, "skipped "+disabled)

	cut := cutOf(s.n)
	removed := s.n - cut + 1 // positions cut..n
	withheld := func(extra ...int) []string {
		lines := []string{"skipped " + disabled}
		for i := cut; i <= s.n; i++ {
			lines = append(lines, "delete "+appName(instanceID(i))+" withheld")
		}
		for _, i := range extra {
			lines = append(lines, "delete "+appName(instanceID(i))+" withheld")
		}
		return sortChanges(lines)
	}
	approved := func() []string {
		lines := []string{"skipped " + disabled, "delete " + appName(instanceID(lastDeleted))}
		for i := cut; i <= s.n; i++ {
			lines = append(lines, "delete "+appName(instanceID(i)))
		}
		return sortChanges(lines)
	}
	// A second job with the same prefix selects every instance of the first:
	// each application left after the ninth run is a conflict for it.
	overlap := func() []string {
		lines := []string{"skipped " + disabled}
		for i := 0; i <= s.n; i++ {
			if i != idxDeleted && i != idxDisabled && i != lastDeleted && i < cut {
				lines = append(lines, "conflict "+appName(instanceID(i)))
			}
		}
		return sortChanges(lines)
	}
	guardShare := fmt.Sprintf("%d of %d owned applications (%d%%, more than the deletion guard's %d%%)",
		removed, owned, removed*100/owned, maxDeletePercent)

	return []step{{
		title: "first sync",
		explain: []string{
			"The Director holds no application yet. Every enabled instance becomes an application",
			fmt.Sprintf("named %s-<instance id>. Instance %d is disabled: it is skipped, as a disabled instance",
				applicationPrefix, instanceID(idxDisabled)),
			fmt.Sprintf("is never created. Instance %d serves an HTML error page instead of its OpenAPI", instanceID(idxBroken)),
			"document: its create is an item failure, reported while the rest goes on (exit code 3).",
		},
		exit:       ocsync.ExitItemsFailed,
		summary:    ocsync.Summary{Created: early, Skipped: 1, Failed: 1, SpecFetches: early + 1},
		changes:    sortChanges(first),
		written:    sorted(created),
		registered: early,
	}, {
		title: "second sync, nothing changed on the platform",
		explain: []string{
			"Nothing changed, so every application is unchanged and the Director receives no mutation:",
			"the run costs the two listings and a token. Only the broken instance is tried again (and fails",
			"again, exit code 3): a failed create is retried on every run until its document is fixed.",
		},
		exit:       ocsync.ExitItemsFailed,
		summary:    ocsync.Summary{Unchanged: early, Skipped: 1, Failed: 1, SpecFetches: 1},
		changes:    sortChanges(second),
		registered: early,
	}, {
		title:   "third sync, after changes on the platform",
		prepare: (*sandbox).changePlatform,
		explain: []string{
			"The platform bumps an instance's updatedDate whenever it changes, and the job records it as the",
			"revision: a changed revision makes the job fetch the document again and replace it when its",
			"content differs. (A document changed without a new updatedDate would only be noticed at the",
			"next spec refresh, sync.specRefreshInterval, 24h by default.) The rename changes the description",
			"and the API name, the rotated token the bundle's Authorization header, and the deleted instance's",
			fmt.Sprintf("application is unregistered (1 of %d owned applications, well below the deletion guard's %d%%).", early, maxDeletePercent),
		},
		exit: ocsync.ExitOK,
		summary: ocsync.Summary{Created: 2, Updated: 3, Deleted: 1, Unchanged: early - 4, Skipped: 1,
			SpecFetches: 5},
		changes:    sortChanges(third),
		written:    sorted([]string{appName(instanceID(idxSpec)), broken, appName(added)}),
		registered: owned,
	}, {
		title:   "fourth sync, every token reissued, on a slow Director",
		prepare: (*sandbox).reissueTokens,
		slow:    true,
		explain: []string{
			"Every application gets its bundle's new Authorization header (the document is fetched because",
			"the revision changed, and left alone because it did not): a long run. The fake Director answers",
			"slowly during this run, and the sandbox sets the engine's progress interval to " + progressInterval.String() + " (10s in",
			"ocjob), so the job logs \"progress\" records (done, total, failed, rate, eta) while it applies.",
		},
		exit:       ocsync.ExitOK,
		summary:    ocsync.Summary{Updated: owned, Skipped: 1, SpecFetches: owned},
		changes:    sortChanges(rotations),
		registered: owned,
	}, {
		title:   "fifth sync, many instances deleted: the deletion guard trips",
		prepare: (*sandbox).cleanUp,
		explain: []string{
			"The plan would unregister " + guardShare + ".",
			"The job cannot tell a clean-up from a mistake (a wrong tag filter, a tenant half migrated), so it",
			"withholds every deletion, applies the rest, prints the digest of the withheld deletions and exits 4.",
		},
		exit:       ocsync.ExitGuard,
		summary:    ocsync.Summary{Unchanged: owned - removed, Skipped: 1, Withheld: removed},
		changes:    withheld(),
		guard:      guardWithheld,
		registered: owned,
	}, {
		title:  "sixth run, a dry run to review the withheld deletions",
		dryRun: true,
		explain: []string{
			"A dry run lists the deletions and ends with the same digest: it stands for exactly this set of",
			"deletions (application names and Compass ids). A dry run changes nothing and exits 0.",
		},
		exit:       ocsync.ExitOK,
		summary:    ocsync.Summary{Unchanged: owned - removed, Skipped: 1, Withheld: removed},
		changes:    withheld(),
		guard:      guardWithheld,
		sameDigest: 5,
		registered: owned,
	}, {
		title:   "seventh run, approving the reviewed digest after one more instance was deleted",
		prepare: (*sandbox).deleteOneMore,
		approve: 6,
		explain: []string{
			"The run approves the digest of the review, but the plan now holds one deletion more, so the",
			"digests differ: the job deletes nothing, applies everything else, exits 4 and prints the new",
			"digest with the deletions it now withholds, for a fresh review. An approval never deletes more",
			"than was reviewed.",
		},
		exit:       ocsync.ExitGuard,
		summary:    ocsync.Summary{Unchanged: owned - removed - 1, Skipped: 1, Withheld: removed + 1},
		changes:    withheld(lastDeleted),
		guard:      guardRefused,
		newDigest:  6,
		registered: owned,
	}, {
		title:  "eighth run, a dry run to review the deletions again",
		dryRun: true,
		explain: []string{
			fmt.Sprintf("The review shows the %d deletions and the digest the refused run printed.", removed+1),
		},
		exit:       ocsync.ExitOK,
		summary:    ocsync.Summary{Unchanged: owned - removed - 1, Skipped: 1, Withheld: removed + 1},
		changes:    withheld(lastDeleted),
		guard:      guardWithheld,
		sameDigest: 7,
		registered: owned,
	}, {
		title:   "ninth run, approving the new digest",
		approve: 8,
		explain: []string{
			fmt.Sprintf("The approved digest is the plan's: the guard is lifted for exactly these %d deletions, which", removed+1),
			"are applied (exit 0). An approval counts for the run that carries it: a run without -approve",
			"withholds the next mass deletion again.",
		},
		exit:       ocsync.ExitOK,
		summary:    ocsync.Summary{Deleted: removed + 1, Unchanged: owned - removed - 1, Skipped: 1},
		changes:    approved(),
		guard:      guardApproved,
		registered: owned - removed - 1,
	}, {
		title:  "tenth run, a second job whose selection overlaps the first's",
		owner:  secondOwner,
		dryRun: true,
		explain: []string{
			fmt.Sprintf("A second job (sync.owner %q) is configured with the same applicationPrefix and no tags, so it", secondOwner),
			"selects the same instances. Every name it would create is held by the first job: each is a",
			"conflict that names the first job and says that the two selections overlap. Give each job its",
			"own applicationPrefix, or tags that no instance carries for both.",
		},
		exit:       ocsync.ExitOK,
		summary:    ocsync.Summary{Conflicts: owned - removed - 1, Skipped: 1},
		changes:    overlap(),
		registered: owned - removed - 1,
		reason:     "the two jobs' selections overlap",
	}}
}

// changePlatform makes the changes of the third run on the fake platform and
// says what it did.
func (s *sandbox) changePlatform() []string {
	var done []string
	bump := func(in *octest.Instance) { in.UpdatedDate += 86_400_000 }

	renamed := instanceID(idxRenamed)
	s.oc.Update(renamed, func(in *octest.Instance) {
		done = append(done, fmt.Sprintf("renamed instance %d from %q to %q", in.ID, in.Name, in.Name+" (EU)"))
		in.Name += " (EU)"
		bump(in)
	})

	deleted := instanceID(idxDeleted)
	s.oc.Remove(deleted)
	done = append(done, fmt.Sprintf("deleted instance %d", deleted))

	s.oc.Update(instanceID(idxRotated), func(in *octest.Instance) {
		in.Token = demoToken(fmt.Sprintf("instance-%d-rotated", idxRotated))
		bump(in)
		done = append(done, fmt.Sprintf("rotated the token of instance %d", in.ID))
	})

	spec := instanceID(idxSpec)
	if in, ok := s.oc.Instance(spec); ok {
		s.oc.SetSpec(spec, changedSpec(in))
		s.oc.Update(spec, bump)
		done = append(done, fmt.Sprintf("published a new OpenAPI document for instance %d (and bumped its updatedDate)", spec))
	}

	broken := instanceID(idxBroken)
	if in, ok := s.oc.Instance(broken); ok {
		s.oc.SetSpec(broken, demoSpec(in, idxBroken))
		done = append(done, fmt.Sprintf("fixed the document of instance %d", broken))
	}

	added := demoInstance(s.n)
	s.oc.Put(added)
	s.oc.SetSpec(added.ID, demoSpec(added, s.n))
	done = append(done, fmt.Sprintf("added instance %d %q (%s)", added.ID, added.Name, added.Element.Name))
	return done
}

// reissueTokens gives every instance of the platform a new token, as the
// fourth run's change.
func (s *sandbox) reissueTokens() []string {
	n := 0
	for _, in := range s.oc.Instances() {
		if s.oc.Update(in.ID, func(in *octest.Instance) {
			in.Token = reissuedToken(position(in.ID))
			in.UpdatedDate += 86_400_000
		}) {
			n++
		}
	}
	return []string{fmt.Sprintf("reissued the tokens of all %d instances (as after a suspected leak)", n)}
}

// cleanUp deletes the instances from position cutOf(n) on, as the fifth
// run's change.
func (s *sandbox) cleanUp() []string {
	from := instanceID(cutOf(s.n))
	var ids []int64
	for _, in := range s.oc.Instances() {
		if in.ID >= from {
			ids = append(ids, in.ID)
		}
	}
	s.oc.Remove(ids...)
	return []string{fmt.Sprintf("deleted the %d instances with an id of %d or more", len(ids), from)}
}

// deleteOneMore deletes the instance at position lastDeleted, as the
// seventh run's change.
func (s *sandbox) deleteOneMore() []string {
	id := instanceID(lastDeleted)
	s.oc.Remove(id)
	return []string{fmt.Sprintf("deleted instance %d, after the review", id)}
}

// sorted returns names sorted.
func sorted(names []string) []string {
	slices.Sort(names)
	return names
}

// sortChanges sorts change lines by application name, as plans are sorted.
func sortChanges(lines []string) []string {
	name := func(l string) string { return strings.Fields(l)[1] }
	slices.SortStableFunc(lines, func(a, b string) int { return strings.Compare(name(a), name(b)) })
	return lines
}

// changeLines lists the changes of rep that are not "unchanged" in the form
// of step.changes.
func changeLines(rep *ocsync.Report) []string {
	var out []string
	for _, c := range rep.Plan.Changes {
		if c.Kind == ocsync.KindUnchanged {
			continue
		}
		line := string(c.Kind) + " " + c.Name
		if len(c.Fields) > 0 {
			line += " [" + strings.Join(c.Fields, " ") + "]"
		}
		if c.Withheld {
			line += " withheld"
		}
		out = append(out, line)
	}
	return out
}

// written lists the applications whose spec document rep wrote, sorted.
func written(rep *ocsync.Report) []string {
	var out []string
	for _, r := range rep.Results {
		if r.SpecReplaced {
			out = append(out, r.Name)
		}
	}
	slices.Sort(out)
	return out
}

// outcome is what one run of the scenario did.
type outcome struct {
	report *ocsync.Report
	exit   int
	// progress are the progress records the run logged.
	progress []progressRecord
	// problems are the ways the run differed from its step; empty when it
	// behaved as expected.
	problems []string
}

// scenario runs the steps, printing each plan with its explanation to w,
// and returns what every run did. It stops early only when a run could not
// make its plan. The error is nil when every run behaved as expected.
func (s *sandbox) scenario(ctx context.Context, w io.Writer) ([]outcome, error) {
	steps := s.steps()
	s.writeInstances(w)
	var outcomes []outcome
	var failed []string
	for i, st := range steps {
		fmt.Fprintf(w, "\n=== Run %d of %d: %s ===\n", i+1, len(steps), st.title)
		o, err := s.runStep(ctx, w, st, outcomes)
		if err != nil {
			return outcomes, err
		}
		outcomes = append(outcomes, o)
		if len(o.problems) > 0 {
			failed = append(failed, fmt.Sprintf("run %d: %s", i+1, strings.Join(o.problems, "; ")))
		}
		if o.report == nil {
			break
		}
	}
	if len(failed) > 0 {
		return outcomes, errors.New(strings.Join(failed, "\n"))
	}
	return outcomes, nil
}

// runStep prepares the platform for st, runs the job with st's flags,
// prints the report and checks the run against st and the fakes' state.
// done are the outcomes of the runs before. The error is a failure to
// write to w; a run that made no plan is an outcome with a problem and no
// report.
func (s *sandbox) runStep(ctx context.Context, w io.Writer, st step, done []outcome) (outcome, error) {
	if st.prepare != nil {
		fmt.Fprintln(w, "Changes on the fake platform:")
		for _, line := range st.prepare(s) {
			fmt.Fprintln(w, "  -", line)
		}
	}
	for _, line := range st.explain {
		fmt.Fprintln(w, line)
	}
	opts, err := st.options(done)
	if err != nil {
		return outcome{exit: ocsync.ExitFailed, problems: []string{err.Error()}}, nil
	}
	if st.slow {
		latency := slowLatency(st.summary.Created + st.summary.Updated + st.summary.Deleted)
		fmt.Fprintf(w, "The fake Director delays every request by %s during this run.\n", latency)
		s.cp.SetLatency(latency)
		defer s.cp.SetLatency(0)
	}
	fmt.Fprintf(w, "\n$ %s\n", s.command(opts))
	rep, code, err := s.sync(ctx, opts)
	o := outcome{report: rep, exit: code, progress: s.progress.take()}
	if rep == nil {
		o.problems = append(o.problems, fmt.Sprintf("no plan was made: %v", err))
		return o, nil
	}
	if werr := rep.WriteText(w); werr != nil {
		return o, werr
	}
	docs := written(rep)
	fmt.Fprintf(w, "Spec documents: %d fetched from the platform, %d written to the Director", rep.Summary.SpecFetches, len(docs))
	if len(docs) > 0 && len(docs) <= 6 {
		fmt.Fprintf(w, " (%s)", strings.Join(docs, ", "))
	}
	fmt.Fprintln(w, ".")
	if len(o.progress) > 0 {
		fmt.Fprintf(w, "Logged while applying (every %s; the numbers depend on the machine):\n", progressInterval)
		for _, p := range o.progress {
			fmt.Fprintln(w, "  -", p)
		}
	}
	o.problems = s.check(st, o, done)
	if len(o.problems) == 0 {
		fmt.Fprintf(w, "Exit code %d, as expected.\n", code)
	} else {
		fmt.Fprintf(w, "Exit code %d. UNEXPECTED:\n", code)
		for _, p := range o.problems {
			fmt.Fprintln(w, "  -", p)
		}
	}
	return o, nil
}

// writeInstances prints the platform's instances as a table.
func (s *sandbox) writeInstances(w io.Writer) {
	fmt.Fprintln(w, "\nInstances on the fake platform:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tCONNECTOR\tTAGS\tSTATE\tNAME")
	for _, in := range s.oc.Instances() {
		state := "enabled"
		if in.Disabled {
			state = "disabled"
		}
		if in.ID == instanceID(idxBroken) {
			state += ", document is not JSON"
		}
		fmt.Fprintf(tw, "  %d\t%s (%s)\t%s\t%s\t%s\n", in.ID, in.Element.Name, in.Element.Key, strings.Join(in.Tags, ","), state, in.Name)
	}
	_ = tw.Flush()
}

// verdict names the deletion guard's verdict on plan as step.guard does.
func verdict(g ocsync.Guard) string {
	switch {
	case g.Refused != "":
		return guardRefused
	case g.Tripped:
		return guardWithheld
	case g.Approved:
		return guardApproved
	case g.Forced:
		return guardForced
	}
	return ""
}

// check compares a run with its step, the runs done before it and the
// fakes' state after it.
func (s *sandbox) check(st step, o outcome, done []outcome) []string {
	rep, code := o.report, o.exit
	var problems []string
	if code != st.exit {
		problems = append(problems, fmt.Sprintf("exit code %d, want %d", code, st.exit))
	}
	if rep.Summary != st.summary {
		problems = append(problems, fmt.Sprintf("summary %q (%d spec fetches), want %q (%d spec fetches)",
			rep.Summary, rep.Summary.SpecFetches, st.summary, st.summary.SpecFetches))
	}
	if got := changeLines(rep); !slices.Equal(got, st.changes) {
		problems = append(problems, fmt.Sprintf("changes %q, want %q", got, st.changes))
	}
	if got := written(rep); !slices.Equal(got, st.written) {
		problems = append(problems, fmt.Sprintf("spec documents written for %q, want %q", got, st.written))
	}
	problems = append(problems, checkGuard(st, rep, done)...)
	for i, c := range rep.Plan.Changes {
		if c.Kind != ocsync.KindDelete {
			continue
		}
		_, exists := s.cp.Application(tenant, c.Name)
		if applied := rep.Results[i].Outcome == ocsync.OutcomeApplied; exists == applied {
			problems = append(problems, fmt.Sprintf("deletion of %s %s, but the Director holds it: %t", c.Name, rep.Results[i].Outcome, exists))
		}
	}
	if got := len(s.cp.Applications(tenant)); got != st.registered {
		problems = append(problems, fmt.Sprintf("the Director holds %d applications, want %d", got, st.registered))
	}
	if st.slow {
		problems = append(problems, checkProgress(o.progress, rep.Plan.Mutations())...)
	}
	for _, c := range rep.Plan.Changes {
		if st.reason != "" && c.Kind == ocsync.KindConflict && !strings.Contains(c.Reason, st.reason) {
			problems = append(problems, fmt.Sprintf("conflict %s: reason %q does not say %q", c.Name, c.Reason, st.reason))
		}
	}
	return problems
}

// checkGuard compares the deletion guard's verdict and the deletions digest
// of rep with the step's and the earlier runs' digests.
func checkGuard(st step, rep *ocsync.Report, done []outcome) []string {
	var problems []string
	g, digest := rep.Plan.Guard, rep.Plan.DeletionsDigest
	if got := verdict(g); got != st.guard {
		problems = append(problems, fmt.Sprintf("deletion guard %q, want %q", got, st.guard))
	}
	if st.guard != "" && digest == "" {
		problems = append(problems, "no deletions digest")
	}
	earlier := func(run int) (string, bool) {
		if run < 1 || run > len(done) || done[run-1].report == nil {
			problems = append(problems, fmt.Sprintf("no digest of run %d to compare with", run))
			return "", false
		}
		return done[run-1].report.Plan.DeletionsDigest, true
	}
	if st.sameDigest > 0 {
		if want, ok := earlier(st.sameDigest); ok && digest != want {
			problems = append(problems, fmt.Sprintf("deletions digest %s, want run %d's %s", digest, st.sameDigest, want))
		}
	}
	if st.newDigest > 0 {
		if old, ok := earlier(st.newDigest); ok && digest == old {
			problems = append(problems, fmt.Sprintf("deletions digest %s is run %d's, want a new one", digest, st.newDigest))
		}
	}
	if st.guard == guardRefused && st.approve > 0 {
		if want, ok := earlier(st.approve); ok && g.Refused != want {
			problems = append(problems, fmt.Sprintf("refused digest %s, want the approved %s", g.Refused, want))
		}
	}
	return problems
}

// checkProgress checks the progress records of a run that applied total
// changes: there must be some, each counting those changes, and none
// failed.
func checkProgress(records []progressRecord, total int) []string {
	if len(records) == 0 {
		return []string{"no progress record was logged"}
	}
	var problems []string
	last := 0
	for _, p := range records {
		if p.total != total || p.done < last || p.done > total || p.failed != 0 {
			problems = append(problems, fmt.Sprintf("progress record %q, want %d in total, none failed, done counting up", p, total))
		}
		last = p.done
	}
	return problems
}
