package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// PushTimeout bounds a push to the Pushgateway.
const PushTimeout = 10 * time.Second

// PushJob is the job label of every push: the grouping key is job="ocjob",
// plus owner=<sync.owner> when an owner is set.
const PushJob = "ocjob"

// changeResults are the values of the result label of
// ocjob_last_run_changes, each with its Summary count.
var changeResults = []struct {
	result string
	count  func(ocsync.Summary) int
}{
	{"created", func(s ocsync.Summary) int { return s.Created }},
	{"updated", func(s ocsync.Summary) int { return s.Updated }},
	{"deleted", func(s ocsync.Summary) int { return s.Deleted }},
	{"unchanged", func(s ocsync.Summary) int { return s.Unchanged }},
	{"skipped", func(s ocsync.Summary) int { return s.Skipped }},
	{"conflict", func(s ocsync.Summary) int { return s.Conflicts }},
	{"failed", func(s ocsync.Summary) int { return s.Failed }},
	{"withheld", func(s ocsync.Summary) int { return s.Withheld }},
	{"not_started", func(s ocsync.Summary) int { return s.NotStarted }},
	{"unusable", func(s ocsync.Summary) int { return s.Unusable }},
}

// itemSeries are the kind and result pairs of ocjob_items that every run
// exports, zero when no item had them, so that a series never goes missing
// between runs. A pair the engine reports outside this table is exported
// too.
var itemSeries = []struct {
	kind    ocsync.ChangeKind
	results []ocsync.Outcome
}{
	{ocsync.KindCreate, []ocsync.Outcome{ocsync.OutcomeApplied, ocsync.OutcomeFailed, ocsync.OutcomeConflict, ocsync.OutcomePlanned, ocsync.OutcomeNotStarted}},
	{ocsync.KindUpdate, []ocsync.Outcome{ocsync.OutcomeApplied, ocsync.OutcomeFailed, ocsync.OutcomeConflict, ocsync.OutcomePlanned, ocsync.OutcomeNotStarted}},
	{ocsync.KindDelete, []ocsync.Outcome{ocsync.OutcomeApplied, ocsync.OutcomeFailed, ocsync.OutcomeWithheld, ocsync.OutcomePlanned, ocsync.OutcomeNotStarted}},
	{ocsync.KindUnchanged, []ocsync.Outcome{ocsync.OutcomeNone}},
	{ocsync.KindConflict, []ocsync.Outcome{ocsync.OutcomeConflict}},
	{ocsync.KindSkipped, []ocsync.Outcome{ocsync.OutcomeNone, ocsync.OutcomeUnusable}},
}

// The remote label values of ocjob_last_run_retries,
// ocjob_requests_total and ocjob_request_duration_seconds.
const (
	remoteOpenConnectors = remote.OpenConnectors
	remoteCompass        = remote.Compass
)

// requestOutcomes are the outcome label values of ocjob_requests_total
// (remote.Request.Outcome), each exported from the start, zero until seen.
var requestOutcomes = []string{"2xx", "3xx", "4xx", "5xx", remote.OutcomeError}

// requestBuckets are the buckets of ocjob_request_duration_seconds, in
// seconds: from a fast listing page to a slow API document.
var requestBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// changeKinds are the kinds ocjob_changes_total counts.
var changeKinds = []ocsync.ChangeKind{ocsync.KindCreate, ocsync.KindUpdate, ocsync.KindDelete}

// labelValue is the one spelling of a label value: snake_case, the
// Prometheus convention. The engine's names with a hyphen ("not-started")
// become snake_case ("not_started").
func labelValue(s string) string { return strings.ReplaceAll(s, "-", "_") }

// unknownVersion is the version of ocjob_build_info when none is given.
const unknownVersion = "unknown"

// The phase label values of ocjob_phase_duration_seconds.
const (
	phaseList  = "list"
	phasePlan  = "plan"
	phaseApply = "apply"
)

// Metrics are the Prometheus collectors of ocjob on a registry of their
// own: one per run when the run pushes to a Pushgateway, one per process in
// service mode (see NewServiceMetrics). Every family but
// ocjob_last_success_timestamp_seconds and the service's cumulative ones
// carries its samples from the first Observe on, so that a push with Add replaces all
// of them (see Push). Observe and Push may be called from several
// goroutines, and the registry gathered meanwhile.
type Metrics struct {
	// Registry holds the collectors; serve it with promhttp or push it.
	Registry *prometheus.Registry

	mu          sync.Mutex
	lastRun     prometheus.Gauge
	duration    prometheus.Gauge
	exitCode    prometheus.Gauge
	dryRun      prometheus.Gauge
	specFetches prometheus.Gauge
	changes     *prometheus.GaugeVec
	items       *prometheus.GaugeVec
	phases      *prometheus.GaugeVec
	retries     *prometheus.GaugeVec
	lastSuccess prometheus.Gauge
	buildInfo   *prometheus.GaugeVec
	runs        *prometheus.CounterVec // nil unless service metrics
	changeCount *prometheus.CounterVec // nil unless service metrics
	requests    *prometheus.CounterVec // nil unless service metrics
	requestTime *prometheus.HistogramVec
	hasSuccess  bool // lastSuccess is registered
}

// NewMetrics returns the metrics of one run on a new registry, with
// ocjob_build_info for version (the program's version, for example
// ocjob.Version(); "" is reported as "unknown") and the Go version of the
// running binary.
func NewMetrics(version string) *Metrics {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	m := &Metrics{
		Registry:    prometheus.NewRegistry(),
		lastRun:     gauge("ocjob_last_run_timestamp_seconds", "When the last run finished, in seconds since the epoch."),
		duration:    gauge("ocjob_last_run_duration_seconds", "How long the last run took."),
		exitCode:    gauge("ocjob_last_run_exit_code", "Exit code of the last run: 0 ok, 1 failed, 3 items failed, 4 deletions withheld."),
		dryRun:      gauge("ocjob_last_run_dry_run", "1 when the last run was a dry run."),
		specFetches: gauge("ocjob_last_run_spec_fetches", "Spec documents loaded from Open Connectors in the last run."),
		changes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ocjob_last_run_changes", Help: "Changes of the last run by result.",
		}, []string{"result"}),
		items: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ocjob_items", Help: "Items of the last run's plan by change kind and result.",
		}, []string{"kind", "result"}),
		phases: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ocjob_phase_duration_seconds", Help: "How long each phase of the last run took (list, plan, apply); 0 when it did not run.",
		}, []string{"phase"}),
		retries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ocjob_last_run_retries", Help: "Requests the last run retried, by remote (openconnectors, compass).",
		}, []string{"remote"}),
		lastSuccess: gauge("ocjob_last_success_timestamp_seconds",
			"When the last run that exited 0 and was not a dry run finished, in seconds since the epoch."),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ocjob_build_info", Help: "Always 1: the version of ocjob and the Go version it was built with.",
		}, []string{"version", "goversion"}),
	}
	if version == "" {
		version = unknownVersion
	}
	m.buildInfo.WithLabelValues(version, runtime.Version()).Set(1)
	m.Registry.MustRegister(m.buildInfo, m.lastRun, m.duration, m.exitCode, m.dryRun, m.specFetches, m.changes, m.items, m.phases, m.retries)
	return m
}

// NewServiceMetrics returns the metrics of a process that runs the sync
// repeatedly: those of NewMetrics, the counters that add up over the
// process's runs (ocjob_runs_total{exit_code},
// ocjob_changes_total{kind,result}, and, from ObserveRequest,
// ocjob_requests_total{remote,outcome} and the histogram
// ocjob_request_duration_seconds{remote}), and the Go runtime and process
// collectors.
func NewServiceMetrics(version string) *Metrics {
	m := NewMetrics(version)
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ocjob_runs_total", Help: "Runs since the process started, by exit code.",
	}, []string{"exit_code"})
	m.changeCount = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ocjob_changes_total",
		Help: "Changes since the process started, by kind (create, update, delete) and result (planned in a dry run).",
	}, []string{"kind", "result"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ocjob_requests_total",
		Help: "Attempts of requests to the remote APIs since the process started, by remote and outcome (2xx, 3xx, 4xx, 5xx, error: no complete answer).",
	}, []string{"remote", "outcome"})
	m.requestTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ocjob_request_duration_seconds", Help: "How long the attempts of requests to each remote API took, reading the answer included.",
		Buckets: requestBuckets,
	}, []string{"remote"})
	for _, k := range itemSeries {
		if slices.Contains(changeKinds, k.kind) {
			for _, o := range k.results {
				m.changeCount.WithLabelValues(labelValue(string(k.kind)), labelValue(string(o)))
			}
		}
	}
	for _, r := range []string{remoteOpenConnectors, remoteCompass} {
		for _, o := range requestOutcomes {
			m.requests.WithLabelValues(r, o)
		}
		m.requestTime.WithLabelValues(r)
	}
	m.Registry.MustRegister(m.runs, m.changeCount, m.requests, m.requestTime, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest counts one attempt of a request in ocjob_requests_total
// and its duration in ocjob_request_duration_seconds: a
// remote.RequestObserver for both clients (ocjob.Config.RequestObserver).
// It does nothing on metrics of one run (NewMetrics) or a nil *Metrics.
func (m *Metrics) ObserveRequest(r remote.Request) {
	if m == nil || m.requests == nil {
		return
	}
	m.requests.WithLabelValues(labelValue(r.Remote), r.Outcome()).Inc()
	m.requestTime.WithLabelValues(labelValue(r.Remote)).Observe(r.Duration.Seconds())
}

// dryRun reports whether o is the outcome of a dry run.
func dryRun(o ocsync.RunOutcome) bool { return o.DryRun || o.Report != nil && o.Report.DryRun }

// Progress does nothing: the metrics describe ended runs.
func (m *Metrics) Progress(context.Context, ocsync.Progress) {}

// Finished records the run (see Observe).
func (m *Metrics) Finished(_ context.Context, o ocsync.RunOutcome) { m.Observe(o) }

// Observe records one run. Every per-run family is set anew, so nothing of
// an earlier run is left in it. The success timestamp is set (and from then
// on exported) only when the run exited ocsync.ExitOK and was not a dry run.
func (m *Metrics) Observe(r ocsync.RunOutcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	finished := r.Finished
	if finished.IsZero() {
		finished = time.Now()
	}
	ts := float64(finished.UnixMilli()) / 1000
	m.lastRun.Set(ts)
	m.duration.Set(r.Duration.Seconds())
	m.exitCode.Set(float64(r.ExitCode()))
	dry := 0.0
	if dryRun(r) {
		dry = 1
	}
	m.dryRun.Set(dry)
	var s ocsync.Summary
	if r.Report != nil {
		s = r.Report.Summary
	}
	m.specFetches.Set(float64(s.SpecFetches))
	for _, c := range changeResults {
		m.changes.WithLabelValues(c.result).Set(float64(c.count(s)))
	}
	m.items.Reset()
	for _, k := range itemSeries {
		for _, o := range k.results {
			m.items.WithLabelValues(labelValue(string(k.kind)), labelValue(string(o))).Set(0)
		}
	}
	if r.Report != nil {
		for i := range r.Report.Results {
			res := &r.Report.Results[i]
			kind, result := labelValue(string(res.Kind)), labelValue(string(res.Outcome))
			m.items.WithLabelValues(kind, result).Inc()
			if m.changeCount != nil && slices.Contains(changeKinds, res.Kind) {
				m.changeCount.WithLabelValues(kind, result).Inc()
			}
		}
	}
	m.phases.WithLabelValues(phaseList).Set(r.Phases.List.Seconds())
	m.phases.WithLabelValues(phasePlan).Set(r.Phases.Plan.Seconds())
	m.phases.WithLabelValues(phaseApply).Set(r.Phases.Apply.Seconds())
	m.retries.WithLabelValues(remoteOpenConnectors).Set(float64(r.Retries.Source))
	m.retries.WithLabelValues(remoteCompass).Set(float64(r.Retries.Registry))
	if m.runs != nil {
		m.runs.WithLabelValues(strconv.Itoa(r.ExitCode())).Inc()
	}
	if r.Succeeded() {
		m.lastSuccess.Set(ts)
		if !m.hasSuccess {
			m.Registry.MustRegister(m.lastSuccess)
			m.hasSuccess = true
		}
	}
}

// Exposition renders the metrics of one run recording m in the Prometheus
// text exposition format, for a program of version: what a push of m
// carries.
func Exposition(version string, m ocsync.RunOutcome) []byte {
	metrics := NewMetrics(version)
	metrics.Observe(m)
	b, err := metrics.Text()
	if err != nil {
		// The collectors are fixed and valid: gathering cannot fail.
		panic(err)
	}
	return b
}

// Text renders the registry in the Prometheus text exposition format.
func (m *Metrics) Text() ([]byte, error) {
	mfs, err := m.Registry.Gather()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, errors.Join(fmt.Errorf("encode %s", mf.GetName()), err)
		}
	}
	return b.Bytes(), nil
}
