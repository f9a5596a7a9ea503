package chaos

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

var (
	flagRuns = flag.Int("chaos.runs", 60, "how many chaos runs TestChaos makes")
	flagSeed = flag.Uint64("chaos.seed", 0, "the seed of TestChaos; 0 picks one (printed, to replay a failure)")
	flagConc = flag.Int("chaos.concurrency", 0, "when set, the concurrency of every run instead of the seed's choice "+
		"(1 makes a seed replay exactly)")
)

// Violation kinds, counted and reported.
const (
	vLost         = "lost"            // an application the platform asks for is missing after a clean run, or was deleted while its instance exists
	vDuplicated   = "duplicated"      // two applications for one instance
	vForeign      = "foreign touched" // a foreign application changed, or a mutation named one
	vExtra        = "extra"           // an owned application no selected instance asks for, after a clean run
	vInconsistent = "inconsistent"    // a report that disagrees with itself, its plan, its error or the Director
	vWrong        = "wrong state"     // an application that differs from what the platform says where it must not
	vUnusable     = "unusable changed"
	vSecret       = "secret leaked"
	vConverge     = "not converged" // a clean run that fails or a second clean run that is not a no-op
	vListing      = "listing"       // a failed listing that changed something
)

var violationKinds = []string{vLost, vDuplicated, vForeign, vExtra, vInconsistent, vWrong, vUnusable, vSecret, vConverge, vListing}

// stats are the figures of one chaos test.
type stats struct {
	runs, cleanChecks, cleanRuns, extraCleanRuns int
	platformDrift, directorDrift                 map[string]int
	transportFaults                              [numFaults]int
	serverFaults                                 int
	cancellations, notStarted                    int
	listingFailures                              int
	applied                                      map[ocsync.ChangeKind]int
	failedItems                                  int
	violations                                   map[string]int
}

// TestChaos syncs a seeded Open Connectors tenant into a Director that also
// holds foreign applications, through the real clients and both fakes on
// loopback, over many runs. Before each run the platform drifts and
// sometimes the Director is changed behind the job's back; during the run
// both sides fail in every way the fakes and a chaos transport can
// produce, and the run is cancelled after a random number of Director
// mutations. After every run the report must agree with its plan, its error
// and the Director, no foreign application may have changed, no instance
// may have two applications and none may have lost its application while it
// exists. Every few runs, and after the last one, a clean run must bring
// the Director to exactly what the platform says and a second clean run
// must change and download nothing.
//
// go test ./internal/chaos -run TestChaos -chaos.runs=2000 -chaos.seed=N
// makes a long run; a failure names the seed that replays it.
func TestChaos(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -chaos.seed=%d), %d runs", seed, seed, *flagRuns)
	w := newWorld(t, seed)
	defer w.close()
	w.loop(*flagRuns)
	w.logStats()
	for _, k := range violationKinds {
		if n := w.stats.violations[k]; n > 0 {
			t.Errorf("seed %d: %d violations of kind %q", seed, n, k)
		}
	}
}

// loop makes runs chaos runs, each followed now and then by a clean check,
// and always after the last, until the first run with a violation.
func (w *world) loop(runs int) {
	for run := 1; run <= runs && !w.t.Failed(); run++ {
		w.run = run
		w.chaosRun()
		if !w.t.Failed() && (w.rng.IntN(3) == 0 || run == runs) {
			w.cleanCheck()
		}
	}
}

// world holds the two fakes, the test's model of the platform and what was
// done behind the job's back.
type world struct {
	t    reporter
	seed uint64
	rng  *rand.Rand
	run  int

	plat  *platform
	dir   *director
	marks *marks
	// unusable holds, for every selected instance with an empty token, its
	// application as it was when the token went (nil: none). It must stay
	// exactly so.
	unusable map[int64]*compasstest.Application

	base        *http.Transport
	ocRT, dirRT *chaosTransport
	logs        *syncBuffer
	clock       time.Time
	stats       stats
	// tokens are the instance tokens the coming run can know.
	tokens []string
	// sabotage, when set, breaks the job on purpose from run sabotageFrom
	// on (see TestChaosDetects).
	sabotage     sabotage
	sabotageFrom int
}

// reporter is the part of *testing.T the world uses, so that the test of
// the test can record violations instead of failing.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
	Context() context.Context
}

// sabotage wraps the job's two sides; nil keeps them as they are.
type sabotage func(w *world, src *openconnectors.Source, reg *compass.Registry) (ocsync.Source, ocsync.Registry)

func newWorld(t reporter, seed uint64) *world {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := &world{t: t, seed: seed, rng: rng, marks: newMarks(), unusable: map[int64]*compasstest.Application{},
		logs: &syncBuffer{}, clock: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	w.stats.platformDrift, w.stats.directorDrift = map[string]int{}, map[string]int{}
	w.stats.applied, w.stats.violations = map[ocsync.ChangeKind]int{}, map[string]int{}
	w.plat = newPlatform(rng, 60, clashing...)
	_, ctxName, err := openconnectors.ParseHost(w.plat.srv.URL)
	if err != nil {
		w.plat.srv.Close()
		t.Fatalf("seed %d: %v", seed, err)
	}
	w.dir, err = newDirector(ctxName)
	if err != nil {
		w.plat.srv.Close()
		t.Fatalf("seed %d: %v", seed, err)
	}
	w.base = http.DefaultTransport.(*http.Transport).Clone()
	w.ocRT = newChaosTransport(w.base, false)
	w.dirRT = newChaosTransport(w.base, true)
	w.dirRT.forbidden = w.dir.foreignIDs
	w.trackUnusable()
	return w
}

func (w *world) close() {
	w.base.CloseIdleConnections()
	w.plat.srv.Close()
	w.dir.srv.Close()
}

// violation records one broken promise.
func (w *world) violation(kind, format string, args ...any) {
	w.t.Helper()
	w.stats.violations[kind]++
	w.t.Errorf("seed %d run %d: %s: %s", w.seed, w.run, kind, fmt.Sprintf(format, args...))
}

// trackUnusable starts watching the application of every selected instance
// whose token went, and stops watching the others.
func (w *world) trackUnusable() {
	owned, _ := w.dir.owned()
	for id := range w.unusable {
		if in, ok := w.plat.instances[id]; !ok || !in.unusable() || !in.selected() {
			delete(w.unusable, id)
		}
	}
	for _, id := range w.plat.ids() {
		in := w.plat.instances[id]
		if _, known := w.unusable[id]; known || !in.unusable() || !in.selected() {
			continue
		}
		if app, ok := owned[id]; ok {
			w.unusable[id] = &app
		} else {
			w.unusable[id] = nil
		}
	}
}

// concurrency draws the concurrency of a run: 1 to 8, or -chaos.concurrency.
func (w *world) concurrency() int {
	c := 1 + w.rng.IntN(8)
	if *flagConc > 0 {
		c = *flagConc
	}
	return c
}

// fastBackoff waits only what a server asked for.
func fastBackoff(_ int, retryAfter time.Duration) time.Duration { return retryAfter }

// job builds the engine of one run: new clients, as in one CronJob
// invocation, sharing one Scrubber.
func (w *world) job(concurrency, ocPage, dirPage int, force bool, now time.Time) *ocsync.Engine {
	w.t.Helper()
	scrub := redact.NewScrubber()
	log := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := openconnectors.NewClient(openconnectors.Config{
		Host: w.plat.srv.URL, UserSecret: userSec, OrganizationSecret: orgSec, Tags: jobTags, PageSize: ocPage,
		Timeout: time.Minute, SpecTimeout: time.Minute, Backoff: fastBackoff,
		HTTPClient: &http.Client{Transport: w.ocRT}, Scrubber: scrub, Logger: log,
	})
	if err != nil {
		w.t.Fatalf("seed %d: %v", w.seed, err)
	}
	reg, err := compass.NewRegistry(compass.Config{
		DirectorURL: w.dir.srv.GraphQLURL(), TokenURL: w.dir.srv.TokenURL(),
		ClientID: compasstest.DefaultClientID, ClientSecret: compasstest.DefaultClientSecret, Tenant: tenant,
		IntegrationSystemID: compasstest.DefaultIntegrationSystemID,
		Scope:               ocsync.Scope{Context: client.Context(), Owner: owner},
		PageSize:            dirPage, Timeout: time.Minute, SpecTimeout: time.Minute, Backoff: fastBackoff,
		HTTPClient: &http.Client{Transport: w.dirRT}, Scrubber: scrub, Logger: log,
	})
	if err != nil {
		w.t.Fatalf("seed %d: %v", w.seed, err)
	}
	src, err := openconnectors.NewSource(client, openconnectors.SourceOptions{ApplicationPrefix: prefix, Owner: owner})
	if err != nil {
		w.t.Fatalf("seed %d: %v", w.seed, err)
	}
	var (
		source   ocsync.Source   = src
		registry ocsync.Registry = reg
	)
	if w.sabotage != nil && w.run >= w.sabotageFrom {
		source, registry = w.sabotage(w, src, reg)
	}
	e, err := ocsync.NewEngine(source, registry)
	if err != nil {
		w.t.Fatalf("seed %d: %v", w.seed, err)
	}
	e.Concurrency, e.Force, e.Logger, e.ProgressInterval = concurrency, force, log, -1
	e.Now = func() time.Time { return now }
	return e
}

// secrets are every secret the job of a run can know: it must show none
// of them. Drift calls live before each run.
func (w *world) secrets() []string {
	return append([]string{userSec, orgSec, compasstest.DefaultClientSecret}, w.tokens...)
}

// chaosRun is one run under drift, faults and cancellation.
func (w *world) chaosRun() {
	w.stats.runs++
	w.clock = w.clock.Add(3 * time.Hour)
	for range w.rng.IntN(5) {
		if what := w.plat.drift(w.rng); what != "" {
			w.stats.platformDrift[what]++
		}
	}
	if w.rng.IntN(3) == 0 {
		exclude := map[int64]bool{}
		for id, in := range w.plat.instances {
			exclude[id] = in.unusable()
		}
		for range 1 + w.rng.IntN(2) {
			what, err := w.dir.drift(w.t.Context(), w.rng, w.marks, exclude)
			if err != nil {
				w.t.Fatalf("seed %d run %d: %s behind the job's back: %v", w.seed, w.run, what, err)
			}
			if what != "" {
				w.stats.directorDrift[what]++
			}
		}
	}
	w.trackUnusable()
	w.tokens = w.plat.live()

	runSeed := w.rng.Uint64()
	rate := []float64{0, 0.02, 0.05, 0.1, 0.2}[w.rng.IntN(5)]
	slow := 0
	if w.rng.IntN(8) == 0 {
		slow = 1
	}
	w.ocRT.arm(runSeed, rate, slow)
	w.dirRT.arm(runSeed^0x5bd1e995, rate, slow)
	w.armServerFaults()
	w.plat.srv.SetEcho(w.rng.IntN(4) == 0)

	pages := []int{7, 25, 200}
	e := w.job(w.concurrency(), pages[w.rng.IntN(3)], []int{5, 17, 200}[w.rng.IntN(3)], false, w.clock)
	cancelRoll, cancelBefore := w.rng.IntN(100), w.rng.IntN(2) == 0
	cancelPoint := w.rng.Uint64()

	ctx, cancel := context.WithCancel(w.t.Context())
	defer cancel()
	before := w.observe()
	plan, err := e.Plan(ctx)
	if err != nil {
		w.disarm()
		w.stats.listingFailures++
		w.afterListingFailure(before, err)
		return
	}
	for _, p := range w.checkPlan(plan, before.owned) {
		w.violation(vInconsistent, "plan: %s", p)
	}
	if cancelRoll < 40 && plan.Mutations() > 0 {
		w.dirRT.cancelOn(1+int(cancelPoint%uint64(3*plan.Mutations())), cancelBefore, cancel)
	}
	rep, err := e.Apply(ctx, plan)
	_, _, cancelled := w.dirRT.report()
	w.disarm()
	if cancelled {
		w.stats.cancellations++
	}
	w.afterApply(plan, rep, err, cancelled, before)
}

// disarm turns every fault off and collects the transport's figures.
func (w *world) disarm() {
	for _, rt := range []*chaosTransport{w.ocRT, w.dirRT} {
		fired, _, _ := rt.report()
		for k, n := range fired {
			w.stats.transportFaults[k] += n
		}
		rt.disarm()
	}
	w.plat.srv.ClearFaults()
	w.dir.srv.ClearFaults()
}

// armServerFaults queues up to three faults in the fakes for this run.
func (w *world) armServerFaults() {
	rng := w.rng
	var usable []int64
	for _, id := range w.plat.ids() {
		if in := w.plat.instances[id]; in.selected() && !in.unusable() {
			usable = append(usable, id)
		}
	}
	malformed := [][]byte{[]byte(`null`), []byte(`{"instances": []}`), []byte(`[{"id": 1001, "name": "cut`)}
	for range rng.IntN(4) {
		w.stats.serverFaults++
		switch rng.IntN(12) {
		case 0:
			w.plat.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 500 + rng.IntN(4), Times: 1 + rng.IntN(5)})
		case 1:
			w.plat.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 1})
		case 2:
			w.plat.srv.AddFault(octest.EndpointInstances, octest.Fault{Body: malformed[rng.IntN(len(malformed))], Times: 1})
		case 3:
			if len(usable) > 0 {
				w.plat.srv.AddFault(octest.EndpointDocs, octest.Fault{InstanceID: usable[rng.IntN(len(usable))],
					Status: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}[rng.IntN(3)]})
			}
		case 4:
			w.plat.srv.AddFault(octest.EndpointDocs, octest.Fault{Status: http.StatusBadGateway, Times: 1 + rng.IntN(3)})
		case 5:
			w.plat.srv.AddFault(octest.EndpointDocs, octest.Fault{Latency: 3 * time.Millisecond, Times: 5})
		case 6:
			w.dir.srv.AddFault("registerApplication", compasstest.Fault{Status: http.StatusBadGateway, After: true, Times: 1})
		case 7:
			op := []string{"updateApplication", "updateBundle", "updateAPIDefinition", "setApplicationLabel"}[rng.IntN(4)]
			f := compasstest.Fault{Status: http.StatusGatewayTimeout, After: true, Times: 1}
			if rng.IntN(2) == 0 {
				f = compasstest.Fault{Code: compasstest.InternalError, Times: 1 + rng.IntN(2)}
			}
			w.dir.srv.AddFault(op, f)
		case 8:
			w.dir.srv.AddFault("unregisterApplication", compasstest.Fault{Code: compasstest.InternalError, After: true, Times: 1})
		case 9:
			w.dir.srv.AddFault("applications", compasstest.Fault{Code: compasstest.InternalError, Times: 1 + rng.IntN(5)})
		case 10:
			w.dir.srv.AddFault("setApplicationLabel", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
		case 11:
			w.dir.srv.AddFault(compasstest.TokenOperation, compasstest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
		}
	}
}

// observation is the state of both sides before a run.
type observation struct {
	all       map[string]compasstest.Application
	owned     map[int64]compasstest.Application
	mutations map[string]int
	docs      int
}

func (w *world) observe() observation {
	owned, _ := w.dir.owned()
	return observation{all: w.dir.snapshot(), owned: owned, mutations: w.dir.mutationCalls(), docs: w.plat.srv.Count(octest.EndpointDocs)}
}

// afterListingFailure checks a run whose plan failed: nothing may have
// changed and nothing may have been downloaded.
func (w *world) afterListingFailure(before observation, err error) {
	if !errors.Is(err, ocsync.ErrListFailed) {
		w.violation(vInconsistent, "plan failed without ErrListFailed: %v", err)
	}
	if code := ocsync.ExitCode(nil, err); code != ocsync.ExitFailed {
		w.violation(vInconsistent, "a failed listing exits %d, want %d", code, ocsync.ExitFailed)
	}
	if n := mutationsSince(before.mutations, w.dir.mutationCalls()); n > 0 {
		w.violation(vListing, "%d mutations in a run whose listing failed", n)
	}
	if n := w.plat.srv.Count(octest.EndpointDocs) - before.docs; n > 0 {
		w.violation(vListing, "%d documents downloaded in a run whose listing failed", n)
	}
	if after := w.dir.snapshot(); !reflect.DeepEqual(after, before.all) {
		w.violation(vListing, "the Director changed in a run whose listing failed")
	}
	w.scanSecrets(nil, err)
}

// afterApply checks everything a run must leave true.
func (w *world) afterApply(plan *ocsync.Plan, rep *ocsync.Report, err error, cancelled bool, before observation) {
	for _, p := range checkReport(plan, rep, err, cancelled) {
		w.violation(vInconsistent, "%s", p)
	}
	if rep == nil {
		return
	}
	if got, want := ocsync.ExitCode(rep, err), exitCode(rep, err, cancelled); got != want {
		w.violation(vInconsistent, "exit code %d, want %d for %s (error %v)", got, want, rep.Summary, err)
	}
	w.stats.notStarted += rep.Summary.NotStarted
	w.stats.failedItems += rep.Summary.Failed
	for _, r := range rep.Results {
		if r.Outcome == ocsync.OutcomeApplied {
			w.stats.applied[r.Kind]++
		}
	}
	if plan.Count(ocsync.KindCreate)+plan.Count(ocsync.KindUpdate) == 0 {
		if n := w.plat.srv.Count(octest.EndpointDocs) - before.docs; n > 0 {
			w.violation(vInconsistent, "%d documents downloaded by a plan without creates or updates", n)
		}
	}
	w.checkInvariants(before)

	owned, _ := w.dir.owned()
	for i, c := range plan.Changes {
		r := rep.Results[i]
		id, in := w.instanceOf(c.Name)
		switch {
		case c.Kind == ocsync.KindDelete && r.Outcome == ocsync.OutcomeApplied:
			if app, ok := owned[id]; ok && app.ID == c.ID {
				w.violation(vInconsistent, "%s reported deleted but still there", c.Name)
			}
		case (c.Kind == ocsync.KindCreate || c.Kind == ocsync.KindUpdate) && r.Outcome == ocsync.OutcomeApplied,
			c.Kind == ocsync.KindUnchanged:
			app, ok := owned[id]
			if !ok || in == nil {
				w.violation(vInconsistent, "%s reported %s (%s) but it is not there", c.Name, c.Kind, r.Outcome)
				continue
			}
			for _, d := range w.diffApp(app, in, w.marks) {
				w.violation(vWrong, "%s after %s (%s, fields %v): %s", c.Name, c.Kind, r.Outcome, c.Fields, d)
			}
		}
	}
	w.clearMarks()
	w.scanSecrets(rep, err)
}

// exitCode is the exit code the README gives a run's outcome: 1 for a fatal
// error, 3 when items failed, conflicted, were unusable or were left by a
// cancellation, 4 when only the guard withheld deletions, 0 otherwise.
func exitCode(rep *ocsync.Report, err error, cancelled bool) int {
	s := rep.Summary
	switch {
	case errors.Is(err, ocsync.ErrFatal):
		return ocsync.ExitFailed
	case s.Failed+s.Conflicts+s.Unusable+s.NotStarted > 0 || (cancelled && errors.Is(err, context.Canceled)):
		return ocsync.ExitItemsFailed
	case s.Withheld > 0:
		return ocsync.ExitGuard
	}
	return ocsync.ExitOK
}

// instanceOf returns the instance an application name stands for, if it
// exists.
func (w *world) instanceOf(name string) (int64, *instance) {
	var id int64
	if _, err := fmt.Sscanf(strings.TrimPrefix(name, prefix+"-"), "%d", &id); err != nil {
		return 0, nil
	}
	return id, w.plat.instances[id]
}

// checkInvariants checks what must hold after any run, whatever happened
// in it.
func (w *world) checkInvariants(before observation) {
	if n := w.dirRT.touchedForeign(); n > 0 {
		w.violation(vForeign, "%d mutations named a foreign application, bundle or API", n)
	}
	all := w.dir.snapshot()
	for id, want := range w.dir.foreign {
		if got, ok := all[id]; !ok || !reflect.DeepEqual(got, want) {
			w.violation(vForeign, "foreign application %s changed", want.Name)
		}
	}
	owned, dup := w.dir.owned()
	for _, id := range dup {
		w.violation(vDuplicated, "instance %d has more than one application", id)
	}
	for id, app := range owned {
		if app.Name != fmt.Sprintf("%s-%d", prefix, id) {
			w.violation(vWrong, "application %s carries the identity of instance %d", app.Name, id)
		}
		if slices.Contains(clashing, id) {
			w.violation(vForeign, "instance %d got an application although a foreign one holds its name", id)
		}
	}
	for id, app := range before.owned {
		in, exists := w.plat.instances[id]
		if !exists || !in.selected() {
			continue
		}
		if now, ok := owned[id]; !ok || now.ID != app.ID {
			w.violation(vLost, "application %s was deleted although instance %d exists", app.Name, id)
		}
	}
	for id, want := range w.unusable {
		got, ok := owned[id]
		switch {
		case want == nil && ok:
			w.violation(vUnusable, "instance %d with an empty token got an application", id)
		case want != nil && (!ok || !reflect.DeepEqual(got, *want)):
			w.violation(vUnusable, "the application of instance %d changed while its token is empty", id)
		}
	}
	for _, app := range all {
		if text := fmt.Sprint(app.Labels); len(leaks(w.tokens, text)) > 0 {
			w.violation(vSecret, "a label of %s holds an instance token", app.Name)
		}
	}
}

// clearMarks forgets the changes made by hand that the job has since
// overwritten.
func (w *world) clearMarks() {
	all := w.dir.snapshot()
	for id := range w.marks.bundleGone {
		if app, ok := all[id]; !ok || len(app.Bundles) > 0 {
			delete(w.marks.bundleGone, id)
		}
	}
}

// scanSecrets checks the run's logs, error and report for secrets.
func (w *world) scanSecrets(rep *ocsync.Report, err error) {
	texts := append(reportText(rep, err), w.logs.take())
	for _, l := range leaks(w.secrets(), texts...) {
		w.violation(vSecret, "%s in the logs, the error or the report", l)
	}
}

// cleanCheck makes clean runs (no faults, no cancellation, the deletion
// guard lifted) until the Director is exactly what the platform says, and
// then one more that must be a no-op.
func (w *world) cleanCheck() {
	w.stats.cleanChecks++
	w.plat.repair(w.rng)
	w.trackUnusable()
	w.tokens = append(w.tokens, w.plat.live()...)
	now := w.clock.Add(time.Hour)
	concurrency := w.concurrency()

	for k := 1; ; k++ {
		w.stats.cleanRuns++
		rep, incomplete := w.cleanRun(concurrency, now)
		if rep == nil {
			return
		}
		if !incomplete {
			break
		}
		// The update that finds a bundle missing loads the spec and adds
		// it in the same run (ocsync.Update.LoadSpec).
		w.violation(vConverge, "a clean run failed to add a bundle deleted by hand")
		w.stats.extraCleanRuns++
		if k == 2 {
			return
		}
	}

	owned, _ := w.dir.owned()
	for id, app := range owned {
		if in, ok := w.plat.instances[id]; !ok || !in.selected() {
			w.violation(vExtra, "application %s is owned but no selected instance asks for it", app.Name)
		}
	}
	for _, id := range w.plat.ids() {
		in := w.plat.instances[id]
		if !in.selected() || in.unusable() || slices.Contains(clashing, id) {
			continue
		}
		app, ok := owned[id]
		if !ok {
			if !in.failed() {
				w.violation(vLost, "instance %d has no application after a clean run", id)
			}
			continue
		}
		for _, d := range w.diffApp(app, in, w.marks) {
			w.violation(vWrong, "%s after a clean run: %s", app.Name, d)
		}
	}

	before := w.observe()
	e := w.job(concurrency, 200, 200, true, now)
	plan, err := e.Plan(w.t.Context())
	if err != nil {
		w.violation(vConverge, "the no-op run failed to plan: %v", err)
		return
	}
	rep, err := e.Apply(w.t.Context(), plan)
	w.stats.cleanRuns++
	w.afterApply(plan, rep, err, false, before)
	if rep == nil {
		return
	}
	s := rep.Summary
	if s.Created+s.Updated+s.Deleted+s.Failed+s.NotStarted+s.SpecFetches > 0 {
		w.violation(vConverge, "the second clean run is no no-op: %s", s)
	}
	if n := mutationsSince(before.mutations, w.dir.mutationCalls()); n > 0 {
		w.violation(vConverge, "the second clean run sent %d mutations", n)
	}
	if n := w.plat.srv.Count(octest.EndpointDocs) - before.docs; n > 0 {
		w.violation(vConverge, "the second clean run downloaded %d documents", n)
	}
}

// cleanRun makes one clean run and checks that its only item errors are the
// conflicts and unusable instances the platform holds, and bundles deleted
// by hand that need one more run. It returns the report (nil when the run
// could not plan) and whether such a bundle is still missing.
func (w *world) cleanRun(concurrency int, now time.Time) (rep *ocsync.Report, incomplete bool) {
	before := w.observe()
	marked := maps.Clone(w.marks.bundleGone)
	e := w.job(concurrency, 200, 200, true, now)
	plan, err := e.Plan(w.t.Context())
	if err != nil {
		w.violation(vConverge, "a clean run failed to plan: %v", err)
		return nil, false
	}
	for _, p := range w.checkPlan(plan, before.owned) {
		w.violation(vInconsistent, "clean plan: %s", p)
	}
	rep, err = e.Apply(w.t.Context(), plan)
	w.afterApply(plan, rep, err, false, before)
	if rep == nil {
		return nil, false
	}
	for _, ie := range itemErrors(err) {
		id, in := w.instanceOf(ie.Name)
		r := resultOf(rep, ie.Name)
		switch {
		case in != nil && r != nil && r.Outcome == ocsync.OutcomeConflict && slices.Contains(clashing, id):
		case in != nil && r != nil && r.Outcome == ocsync.OutcomeUnusable && in.unusable():
		case in != nil && errors.Is(ie, compass.ErrIncomplete) && marked[before.owned[id].ID]:
			incomplete = true
		default:
			w.violation(vConverge, "a clean run failed: %v", ie)
		}
	}
	if err != nil && len(itemErrors(err)) == 0 {
		w.violation(vConverge, "a clean run failed: %v", err)
	}
	return rep, incomplete
}

func (w *world) logStats() {
	s := w.stats
	var faults []string
	total := 0
	for k := faultReset; k < numFaults; k++ {
		faults = append(faults, fmt.Sprintf("%s %d", k, s.transportFaults[k]))
		total += s.transportFaults[k]
	}
	var violations []string
	for _, k := range violationKinds {
		violations = append(violations, fmt.Sprintf("%s %d", k, s.violations[k]))
	}
	w.t.Logf("seed %d: %d chaos runs, %d clean checks (%d clean runs, %d needed a second)", w.seed, s.runs, s.cleanChecks, s.cleanRuns, s.extraCleanRuns)
	w.t.Logf("drift: platform %v; Director behind the job's back %v", s.platformDrift, s.directorDrift)
	w.t.Logf("faults: %d transport (%s), %d armed in the fakes; %d runs cancelled mid-apply (%d changes not started); %d listings failed",
		total, strings.Join(faults, ", "), s.serverFaults, s.cancellations, s.notStarted, s.listingFailures)
	w.t.Logf("applied: %d creates, %d updates, %d deletes; %d item failures", s.applied[ocsync.KindCreate], s.applied[ocsync.KindUpdate],
		s.applied[ocsync.KindDelete], s.failedItems)
	w.t.Logf("violations: %s", strings.Join(violations, ", "))
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was written and empties the buffer.
func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}
