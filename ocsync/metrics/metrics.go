package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
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

// The remote label values of ocjob_last_run_retries.
const (
	remoteOpenConnectors = "openconnectors"
	remoteCompass        = "compass"
)

// The phase label values of ocjob_phase_duration_seconds.
const (
	phaseList  = "list"
	phasePlan  = "plan"
	phaseApply = "apply"
)

// Metrics are the Prometheus collectors of ocjob on a registry of their
// own: one per run when the run pushes to a Pushgateway, one per process in
// service mode (see NewServiceMetrics). Every family but
// ocjob_last_success_timestamp_seconds and ocjob_runs_total carries its
// samples from the first Observe on, so that a push with Add replaces all
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
	runs        *prometheus.CounterVec // nil unless service metrics
	hasSuccess  bool                   // lastSuccess is registered
	succeeded   bool                   // the last observed run succeeded
}

// NewMetrics returns the metrics of one run on a new registry.
func NewMetrics() *Metrics {
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
	}
	m.Registry.MustRegister(m.lastRun, m.duration, m.exitCode, m.dryRun, m.specFetches, m.changes, m.items, m.phases, m.retries)
	return m
}

// NewServiceMetrics returns the metrics of a process that runs the sync
// repeatedly: those of NewMetrics, ocjob_runs_total{exit_code}, and the Go
// runtime and process collectors.
func NewServiceMetrics() *Metrics {
	m := NewMetrics()
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ocjob_runs_total", Help: "Runs since the process started, by exit code.",
	}, []string{"exit_code"})
	m.Registry.MustRegister(m.runs, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

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
	if r.Report != nil && r.Report.DryRun {
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
			m.items.WithLabelValues(string(k.kind), string(o)).Set(0)
		}
	}
	if r.Report != nil {
		for i := range r.Report.Results {
			res := &r.Report.Results[i]
			m.items.WithLabelValues(string(res.Kind), string(res.Outcome)).Inc()
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
	m.succeeded = r.Succeeded()
	if m.succeeded {
		m.lastSuccess.Set(ts)
		if !m.hasSuccess {
			m.Registry.MustRegister(m.lastSuccess)
			m.hasSuccess = true
		}
	}
}

// Push sends the registry to the Pushgateway at pushgatewayURL under the
// grouping key job="ocjob" (plus owner=<owner> when owner is set; the
// library encodes the values), in the Prometheus protobuf format, with an
// HTTP POST: the Pushgateway's Add, which replaces only the families the
// push carries. Every run carries every per-run family, so none of them
// keeps a value of an earlier run; but ocjob_last_success_timestamp_seconds
// is carried only once a run succeeded, so the Pushgateway keeps the time
// of the last success across failed runs. client nil means a client with
// the module's redirect policy. The push is bounded by PushTimeout and by
// ctx; only the first 64 KiB of an answer is read, and its text is quoted
// scrubbed by scrubber (nil: quoted as it is).
func (m *Metrics) Push(ctx context.Context, client *http.Client, pushgatewayURL, owner string, scrubber *redact.Scrubber) error {
	if client == nil {
		client = &http.Client{CheckRedirect: endpoint.CheckRedirect}
	}
	ctx, cancel := context.WithTimeout(ctx, PushTimeout)
	defer cancel()
	p := push.New(pushgatewayURL, PushJob).Gatherer(m.Registry).Client(limitedDoer{client})
	if owner != "" {
		p = p.Grouping("owner", owner)
	}
	if err := p.AddContext(ctx); err != nil {
		return &pushError{msg: "push metrics: " + scrubber.Quote(err.Error()), err: err}
	}
	return nil
}

// pushError is a failed push with a quoted message over the library's error,
// so that errors.Is still sees a cancellation.
type pushError struct {
	msg string
	err error
}

func (e *pushError) Error() string { return e.msg }
func (e *pushError) Unwrap() error { return e.err }

// limitedDoer cuts every answer's body at endpoint.MaxErrorBodyBytes: the push
// package reads an error answer whole into its message, and a Pushgateway's
// answer is untrusted.
type limitedDoer struct{ c *http.Client }

func (d limitedDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, endpoint.MaxErrorBodyBytes), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// Pusher is an ocsync.Observer that pushes the metrics of every run that
// ends to a Pushgateway (see Metrics.Push): what a CronJob, which does not
// live to be scraped, reports with.
type Pusher struct {
	// URL is the Pushgateway's base URL. Required.
	URL string
	// Owner becomes the owner grouping label when set, so that several
	// jobs do not overwrite each other's metrics.
	Owner string
	// Client sends the push; nil means a client with the module's
	// redirect policy.
	Client *http.Client
	// Scrubber scrubs the quoted answer of a refused push; nil quotes it
	// as it is.
	Scrubber *redact.Scrubber
	// Logger receives a warning when a push fails; nil discards it.
	Logger *slog.Logger
}

// Progress does nothing: only ended runs are pushed.
func (p *Pusher) Progress(context.Context, ocsync.Progress) {}

// Finished records the run on the metrics of one run (NewMetrics) and
// pushes them, even when ctx is cancelled (bounded by PushTimeout). A
// failed push is logged at Warn: it never changes the run's outcome.
func (p *Pusher) Finished(ctx context.Context, o ocsync.RunOutcome) {
	m := NewMetrics()
	m.Observe(o)
	if err := m.Push(context.WithoutCancel(ctx), p.Client, p.URL, p.Owner, p.Scrubber); err != nil && p.Logger != nil {
		p.Logger.LogAttrs(ctx, slog.LevelWarn, "pushing metrics failed", slog.String("error", err.Error()))
	}
}

// Exposition renders the metrics of one run recording m in the Prometheus
// text exposition format: what a push of m carries.
func Exposition(m ocsync.RunOutcome) []byte {
	metrics := NewMetrics()
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
