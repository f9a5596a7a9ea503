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

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job"
	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
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

// sandbox is a fake Open Connectors tenant with demo instances, a fake
// Director, and a configuration file of ocjob pointing at both.
type sandbox struct {
	oc *octest.Server
	cp *compasstest.Server
	// n is how many demo instances the platform started with.
	n int
	// configPath is the configuration file.
	configPath string
	// logger receives the job's records.
	logger *slog.Logger
}

// startSandbox starts both fakes on loopback, seeds n demo instances and
// writes the configuration to configPath. Close the sandbox when done.
func startSandbox(n int, configPath string, logger *slog.Logger) (*sandbox, error) {
	if n < minInstances {
		return nil, fmt.Errorf("the scenario needs at least %d instances, got %d", minInstances, n)
	}
	instances, specs := demoInstances(n)
	s := &sandbox{
		oc: octest.NewServer(octest.WithSecrets(userSecret, organizationSecret), octest.WithInstances(instances...)),
		cp: compasstest.NewServer(compasstest.Config{
			Clients: []compasstest.Client{{ID: clientID, Secret: clientSecret}},
		}),
		n:          n,
		configPath: configPath,
		logger:     logger,
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
			"maxDeletePercent": 30,
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

// sync runs the job once exactly as ocjob does: load the configuration, build
// the engine, plan and apply, map the outcome to an exit code. The report is
// nil when no plan was made.
func (s *sandbox) sync(ctx context.Context) (*ocsync.Report, int, error) {
	cfg, err := config.Load(ctx, s.configPath, nil)
	if err != nil {
		return nil, job.ExitFailed, err
	}
	engine, err := job.NewEngine(cfg, job.Options{Logger: s.logger})
	if err != nil {
		return nil, job.ExitFailed, err
	}
	rep, err := job.RunEngine(ctx, engine)
	return rep, job.ExitCode(rep, err), err
}

// appName is the application name of an instance.
func appName(id int64) string { return applicationPrefix + "-" + strconv.FormatInt(id, 10) }

// step is one run of the scenario: what changes on the platform before it,
// what the run should do, and what a person is told about it.
type step struct {
	title string
	// prepare changes the platform and returns what it changed, for the
	// explanation; nil changes nothing.
	prepare func(s *sandbox) []string
	// explain is printed before the run's report.
	explain []string
	// exit and summary are what the run must end with.
	exit    int
	summary ocsync.Summary
	// changes lists every change that is not "unchanged" as
	// "<kind> <application> [fields]", sorted by application.
	changes []string
	// written are the applications whose spec document the run writes,
	// sorted.
	written []string
}

// steps returns the three runs of the scenario for the sandbox's tenant.
func (s *sandbox) steps() []step {
	disabled, broken := appName(instanceID(idxDisabled)), appName(instanceID(idxBroken))
	owned := s.n - 2 // all but the disabled and the broken instance
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
	return []step{{
		title: "first sync",
		explain: []string{
			"The Director holds no application yet. Every enabled instance becomes an application",
			fmt.Sprintf("named %s-<instance id>. Instance %d is disabled: it is skipped, as a disabled instance",
				applicationPrefix, instanceID(idxDisabled)),
			fmt.Sprintf("is never created. Instance %d serves an HTML error page instead of its OpenAPI", instanceID(idxBroken)),
			"document: its create is an item failure, reported while the rest goes on (exit code 3).",
		},
		exit:    job.ExitItemsFailed,
		summary: ocsync.Summary{Created: owned, Skipped: 1, Failed: 1, SpecFetches: owned + 1},
		changes: sortChanges(first),
		written: sorted(created),
	}, {
		title: "second sync, nothing changed on the platform",
		explain: []string{
			"Nothing changed, so every application is unchanged and the Director receives no mutation:",
			"the run costs the two listings and a token. Only the broken instance is tried again (and fails",
			"again, exit code 3): a failed create is retried on every run until its document is fixed.",
		},
		exit:    job.ExitItemsFailed,
		summary: ocsync.Summary{Unchanged: owned, Skipped: 1, Failed: 1, SpecFetches: 1},
		changes: sortChanges(second),
	}, {
		title:   "third sync, after changes on the platform",
		prepare: (*sandbox).changePlatform,
		explain: []string{
			"The platform bumps an instance's updatedDate whenever it changes, and the job records it as the",
			"revision: a changed revision makes the job fetch the document again and replace it when its",
			"content differs. (A document changed without a new updatedDate would only be noticed at the",
			"next spec refresh, sync.specRefreshInterval, 24h by default.) The rename changes the description",
			"and the API name, the rotated token the bundle's Authorization header, and the deleted instance's",
			"application is unregistered (1 of " + strconv.Itoa(owned) + " owned applications, well below the deletion guard's 30%).",
		},
		exit: job.ExitOK,
		summary: ocsync.Summary{Created: 2, Updated: 3, Deleted: 1, Unchanged: owned - 4, Skipped: 1,
			SpecFetches: 5},
		changes: sortChanges(third),
		written: sorted([]string{appName(instanceID(idxSpec)), broken, appName(added)}),
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
	// problems are the ways the run differed from its step; empty when it
	// behaved as expected.
	problems []string
}

// scenario runs the three steps, printing each plan with its explanation to
// w, and returns what every run did. It stops early only when a run could
// not make its plan. The error is nil when every run behaved as expected.
func (s *sandbox) scenario(ctx context.Context, w io.Writer) ([]outcome, error) {
	steps := s.steps()
	s.writeInstances(w)
	var outcomes []outcome
	var failed []string
	for i, st := range steps {
		fmt.Fprintf(w, "\n=== Run %d of %d: %s ===\n", i+1, len(steps), st.title)
		if st.prepare != nil {
			fmt.Fprintln(w, "Changes on the fake platform:")
			for _, line := range st.prepare(s) {
				fmt.Fprintln(w, "  -", line)
			}
		}
		for _, line := range st.explain {
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w)
		rep, code, err := s.sync(ctx)
		o := outcome{report: rep, exit: code}
		if rep == nil {
			o.problems = append(o.problems, fmt.Sprintf("no plan was made: %v", err))
			outcomes = append(outcomes, o)
			failed = append(failed, fmt.Sprintf("run %d: %s", i+1, strings.Join(o.problems, "; ")))
			break
		}
		if werr := job.WriteText(w, rep); werr != nil {
			return outcomes, werr
		}
		docs := written(rep)
		fmt.Fprintf(w, "Spec documents: %d fetched from the platform, %d written to the Director", rep.Summary.SpecFetches, len(docs))
		if len(docs) > 0 && len(docs) <= 6 {
			fmt.Fprintf(w, " (%s)", strings.Join(docs, ", "))
		}
		fmt.Fprintln(w, ".")
		o.problems = check(st, rep, code)
		if len(o.problems) == 0 {
			fmt.Fprintf(w, "Exit code %d, as expected.\n", code)
		} else {
			fmt.Fprintf(w, "Exit code %d. UNEXPECTED:\n", code)
			for _, p := range o.problems {
				fmt.Fprintln(w, "  -", p)
			}
			failed = append(failed, fmt.Sprintf("run %d: %s", i+1, strings.Join(o.problems, "; ")))
		}
		outcomes = append(outcomes, o)
	}
	if len(failed) > 0 {
		return outcomes, errors.New(strings.Join(failed, "\n"))
	}
	return outcomes, nil
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

// check compares a run with its step.
func check(st step, rep *ocsync.Report, code int) []string {
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
	return problems
}
