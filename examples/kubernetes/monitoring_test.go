package kubernetes_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// monitoringAPIVersion is the Prometheus Operator's API group and version.
const monitoringAPIVersion = "monitoring.coreos.com/v1"

// podMonitor is the part of the Prometheus Operator's PodMonitor that the
// manifests use; decoding strictly into it refuses any other field.
type podMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector            metav1.LabelSelector `json:"selector"`
		PodMetricsEndpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path,omitempty"`
			Interval string `json:"interval,omitempty"`
		} `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

// prometheusRule is the Prometheus Operator's PrometheusRule; its groups
// are those of a Prometheus rule file.
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ruleFile `json:"spec"`
}

type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Rules    []rule `json:"rules"`
	} `json:"groups"`
}

type rule struct {
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// The files of the monitoring directory and the chart.
const (
	chartRulesFile   = "helm/ocjob/files/rules.yaml"
	dashboardFile    = "monitoring/dashboard.json"
	alertmanagerFile = "monitoring/alertmanager-kubejobfailed.yaml"
	readmeFile       = repoRoot + "/README.md"
)

// documentedMetrics are the metric names of the README's Metrics table.
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(readmeFile)
	require.NoError(t, err)
	defer f.Close()
	row := regexp.MustCompile("^\\| `(ocjob_[a-z_]+)` \\| (gauge|counter|histogram) \\|")
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		switch {
		case m == nil:
		case m[2] == "histogram": // the series a histogram exports
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+suffix] = true
			}
		default:
			names[m[1]] = true
		}
	}
	require.NoError(t, sc.Err())
	require.Contains(t, names, "ocjob_last_run_exit_code", "the README's Metrics table is found")
	return names
}

// metricNames parses a PromQL expression and returns the metric names it
// selects; it fails the test when the expression does not parse or selects
// series by anything but a name.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	require.NoError(t, err, "expr %q", expr)
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			assert.NotEmpty(t, vs.Name, "%q selects series without a metric name", expr)
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

// checkRules parses a rule file with Prometheus' own parser (every
// expression and template included) and checks that the expressions use
// documented metrics only; it returns the alerts by name.
func checkRules(t *testing.T, where string, content []byte) map[string]rulefmt.Rule {
	t.Helper()
	groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	require.Empty(t, errs, "%s: rulefmt", where)
	documented := documentedMetrics(t)
	alerts := map[string]rulefmt.Rule{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "%s: only alerts", where)
			for _, name := range metricNames(t, r.Expr) {
				assert.True(t, documented[name], "%s: %s uses %s, which the README does not document", where, r.Alert, name)
			}
			assert.Contains(t, []string{"critical", "warning"}, r.Labels["severity"], "%s: %s has a severity", where, r.Alert)
			assert.Contains(t, r.Annotations["summary"], "$labels.owner", "%s: %s names the shard", where, r.Alert)
			alerts[r.Alert] = r
		}
	}
	return alerts
}

func TestRules(t *testing.T) {
	objs := render(t, monitoringDir)
	require.Len(t, objs.prometheusRules, 1)
	spec, err := yaml.Marshal(objs.prometheusRules[0].Spec)
	require.NoError(t, err)
	alerts := checkRules(t, "monitoring/prometheusrule.yaml", spec)

	// The chart renders the same rules.
	chartRules, err := os.ReadFile(chartRulesFile)
	require.NoError(t, err)
	assert.Equal(t, alerts, checkRules(t, chartRulesFile, chartRules), "the chart's rules are the monitoring directory's")
	var fromChart ruleFile
	require.NoError(t, yaml.UnmarshalStrict(chartRules, &fromChart))
	assert.Equal(t, objs.prometheusRules[0].Spec, fromChart)

	// Every alert of the README's example is in the file, with its
	// expression and duration.
	readme, err := os.ReadFile(readmeFile)
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)```yaml\n(groups:\n  - name: ocjob\n.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "the README has the example rules")
	var example ruleFile
	require.NoError(t, yaml.UnmarshalStrict(block[1], &example))
	var names []string
	for _, g := range example.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Alert)
			got, ok := alerts[r.Alert]
			if assert.True(t, ok, "README alert %s is in the PrometheusRule", r.Alert) {
				assert.Equal(t, r.Expr, got.Expr, r.Alert)
				wantFor := r.For
				if wantFor == "" {
					wantFor = "0s"
				}
				assert.Equal(t, wantFor, got.For.String(), r.Alert)
			}
		}
	}
	slices.Sort(names)
	assert.Equal(t, slices.Sorted(maps.Keys(alerts)), names, "the README lists every alert of the file")

	// The dashboard is a ConfigMap for Grafana's sidecar.
	cm, ok := objs.configMaps["ocjob-dashboard"]
	require.True(t, ok)
	assert.Equal(t, "1", cm.Labels["grafana_dashboard"])
	file, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	assert.JSONEq(t, string(file), cm.Data["ocjob-dashboard.json"])
}

func TestRulesRejectUndocumentedMetric(t *testing.T) {
	names := metricNames(t, `sum without(kind) (ocjob_items{result="failed"}) > 0 unless on(owner) ocjob_last_run_dry_run == 1`)
	assert.Equal(t, []string{"ocjob_items", "ocjob_last_run_dry_run"}, names)
	assert.False(t, documentedMetrics(t)["ocjob_last_exit_code"])
}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID      int    `json:"id"`
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// grafanaVariables are replaced by values of their kind before parsing.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(data, &d))
	assert.Equal(t, "ocjob", d.UID)
	documented := documentedMetrics(t)

	variables := map[string]bool{}
	for _, v := range d.Templating.List {
		variables[v.Name] = true
		if v.Type == "query" {
			var q struct {
				Query string `json:"query"`
			}
			require.NoError(t, json.Unmarshal(v.Query, &q))
			m := regexp.MustCompile(`^label_values\((ocjob_[a-z_]+), *([a-z_]+)\)$`).FindStringSubmatch(q.Query)
			require.NotNil(t, m, "variable %s: %q", v.Name, q.Query)
			assert.True(t, documented[m[1]], "variable %s uses %s", v.Name, m[1])
		}
	}
	require.True(t, variables["datasource"] && variables["owner"])

	used := map[string]bool{}
	ids := map[int]bool{}
	require.NotEmpty(t, d.Panels)
	for _, p := range d.Panels {
		assert.False(t, ids[p.ID], "panel id %d is unique", p.ID)
		ids[p.ID] = true
		require.NotEmpty(t, p.Targets, p.Title)
		for _, target := range p.Targets {
			expr := grafanaVariables.Replace(target.Expr)
			for _, v := range regexp.MustCompile(`\$([a-z_]+)`).FindAllStringSubmatch(expr, -1) {
				assert.True(t, variables[v[1]], "%s: unknown variable $%s", p.Title, v[1])
			}
			assert.Contains(t, target.Expr, `owner=~"$owner"`, "%s filters by the owner variable", p.Title)
			for _, name := range metricNames(t, expr) {
				assert.True(t, documented[name], "%s uses %s, which the README does not document", p.Title, name)
				used[name] = true
			}
		}
	}
	for _, name := range []string{"ocjob_last_run_exit_code", "ocjob_last_success_timestamp_seconds", "ocjob_last_run_timestamp_seconds", "ocjob_items"} {
		assert.True(t, used[name], "the dashboard shows %s", name)
	}
}

// TestAlertmanagerRoute checks that the route for KubeJobFailed matches the
// Jobs of ocjob, and only those.
func TestAlertmanagerRoute(t *testing.T) {
	data, err := os.ReadFile(alertmanagerFile)
	require.NoError(t, err)
	var cfg struct {
		Route struct {
			Routes []struct {
				Receiver string   `json:"receiver"`
				Matchers []string `json:"matchers"`
				Continue bool     `json:"continue"`
			} `json:"routes"`
		} `json:"route"`
		Receivers []struct {
			Name string `json:"name"`
		} `json:"receivers"`
	}
	require.NoError(t, yaml.UnmarshalStrict(data, &cfg))
	require.Len(t, cfg.Route.Routes, 1)
	route := cfg.Route.Routes[0]
	require.Len(t, cfg.Receivers, 1)
	assert.Equal(t, cfg.Receivers[0].Name, route.Receiver)
	assert.False(t, route.Continue)

	matcher := regexp.MustCompile(`^([a-z_]+) *(=~|=) *"([^"]*)"$`)
	var jobName *regexp.Regexp
	for _, m := range route.Matchers {
		parts := matcher.FindStringSubmatch(m)
		require.NotNil(t, parts, "matcher %q", m)
		switch parts[1] {
		case "alertname":
			assert.Equal(t, []string{"=", "KubeJobFailed"}, parts[2:])
		case "job_name":
			require.Equal(t, "=~", parts[2])
			// Alertmanager anchors regular expressions.
			jobName = regexp.MustCompile("^(?:" + parts[3] + ")$")
		}
	}
	require.NotNil(t, jobName)

	// The names of the Jobs: those a CronJob makes (its name and the
	// scheduled time in minutes) and the manual ones.
	names := []string{"ocjob-29345670", "ocjob-shard-a-29345670", "ocjob-shard-b-29345685"}
	for _, file := range []string{"dry-run.yaml", "approve.yaml"} {
		names = append(names, readJob(t, filepath.Join(jobsDir, file)).Name)
	}
	for _, name := range names {
		assert.True(t, jobName.MatchString(name), name)
	}
	for _, name := range []string{"backup-29345670", "my-ocjob-1", "ocjobs"} {
		assert.False(t, jobName.MatchString(name), name)
	}
}
