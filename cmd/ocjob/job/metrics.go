package job

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// PushTimeout bounds a push to the Pushgateway.
const PushTimeout = 10 * time.Second

// RunMetrics is what PushMetrics reports about one run.
type RunMetrics struct {
	// Report is the run's report; nil when no plan was made.
	Report *ocsync.Report
	// Duration is how long the run took.
	Duration time.Duration
	// ExitCode is the code the run exits with.
	ExitCode int
	// Owner is the configured sync.owner; it becomes a grouping label so
	// that several jobs do not overwrite each other's metrics.
	Owner string
	// Finished is when the run ended; zero means now.
	Finished time.Time
}

// PushMetrics sends the run's metrics in the Prometheus text exposition
// format with an HTTP PUT to <pushgatewayURL>/metrics/job/ocjob (with
// /owner/<owner> appended when an owner is set), replacing the group's
// previous metrics. client nil means http.DefaultClient. The push is bounded
// by PushTimeout.
func PushMetrics(ctx context.Context, client *http.Client, pushgatewayURL string, m RunMetrics) error {
	if client == nil {
		client = http.DefaultClient
	}
	target := pushgatewayURL + "/metrics/job/ocjob"
	if m.Owner != "" {
		target += "/owner/" + url.PathEscape(m.Owner)
	}
	ctx, cancel := context.WithTimeout(ctx, PushTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(Exposition(m)))
	if err != nil {
		return fmt.Errorf("push metrics: %w", err)
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("push metrics: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push metrics: pushgateway answered %s", resp.Status)
	}
	return nil
}

// Exposition renders m in the Prometheus text exposition format.
func Exposition(m RunMetrics) []byte {
	var b bytes.Buffer
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, strconv.FormatFloat(v, 'f', -1, 64))
	}
	finished := m.Finished
	if finished.IsZero() {
		finished = time.Now()
	}
	gauge("ocjob_last_run_timestamp_seconds", "When the last run finished, in seconds since the epoch.", float64(finished.UnixMilli())/1000)
	gauge("ocjob_last_run_duration_seconds", "How long the last run took.", m.Duration.Seconds())
	gauge("ocjob_last_run_exit_code", "Exit code of the last run: 0 ok, 1 failed, 3 items failed, 4 deletions withheld.", float64(m.ExitCode))
	dry := 0.0
	if m.Report != nil && m.Report.DryRun {
		dry = 1
	}
	gauge("ocjob_last_run_dry_run", "1 when the last run was a dry run.", dry)
	if m.Report == nil {
		return b.Bytes()
	}
	s := m.Report.Summary
	const name = "ocjob_last_run_changes"
	fmt.Fprintf(&b, "# HELP %s Changes of the last run by result.\n# TYPE %s gauge\n", name, name)
	for _, c := range []struct {
		result string
		n      int
	}{
		{"created", s.Created}, {"updated", s.Updated}, {"deleted", s.Deleted}, {"unchanged", s.Unchanged},
		{"skipped", s.Skipped}, {"conflict", s.Conflicts}, {"failed", s.Failed}, {"withheld", s.Withheld},
		{"not_started", s.NotStarted},
	} {
		fmt.Fprintf(&b, "%s{result=%q} %d\n", name, c.result, c.n)
	}
	gauge("ocjob_last_run_spec_fetches", "Spec documents loaded from Open Connectors in the last run.", float64(s.SpecFetches))
	return b.Bytes()
}
