package kubernetes_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
)

// The chart and the Kubernetes version it is rendered for.
const (
	chartDir       = "helm/ocjob"
	chartNamespace = "ocjob"
	kubeVersion    = "v1.33.0"
)

// ciValuesFiles are chart-testing's values files of the chart.
func ciValuesFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	vals, err := chartutil.ReadValuesFile(file)
	require.NoError(t, err, file)
	return vals
}

// TestChartLint lints the chart as helm lint does, with every values file:
// no warning and no error.
func TestChartLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	require.NoError(t, err)
	for _, file := range ciValuesFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			linter := lint.AllWithKubeVersion(chartDir, readValues(t, file), chartNamespace, kv)
			for _, m := range linter.Messages {
				assert.Less(t, m.Severity, support.WarningSev, "%s", m)
			}
		})
	}
}

// renderChart renders the chart with the given values as helm template
// does (the values checked against values.schema.json, strict templates)
// and decodes every object strictly.
func renderChart(t *testing.T, vals map[string]any) (*objects, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	require.NoError(t, err)
	return renderLoadedChart(t, ch, vals)
}

func renderLoadedChart(t *testing.T, ch *chart.Chart, vals map[string]any) (*objects, error) {
	t.Helper()
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	require.NoError(t, err)
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	caps.APIVersions = append(caps.APIVersions, monitoringAPIVersion)
	opts := chartutil.ReleaseOptions{Name: "ocjob", Namespace: chartNamespace, Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(ch, vals, opts, caps)
	if err != nil {
		return nil, err
	}
	files, err := engine.Engine{Strict: true}.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	objs := newObjects()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, doc := range strings.Split(files[name], "\n---") {
			js, err := yaml.YAMLToJSONStrict([]byte(doc))
			require.NoError(t, err, "%s, document %d", name, i)
			if string(js) == "null" {
				continue
			}
			objs.add(t, fmt.Sprintf("%s #%d", name, i), js)
		}
	}
	return objs, nil
}

// TestChart renders every ci values file and checks what the kustomize
// tests check: every pod restricted, its configuration loading from the
// files the pod would see, deadlines against the schedule, shards that
// cannot claim the same application, and the switches.
func TestChart(t *testing.T) {
	for _, file := range ciValuesFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			vals := readValues(t, file)
			objs, err := renderChart(t, vals)
			require.NoError(t, err)

			// Merged values, as the templates see them.
			ch, err := loader.Load(chartDir)
			require.NoError(t, err)
			merged, err := chartutil.CoalesceValues(ch, vals)
			require.NoError(t, err)
			mode := merged["mode"].(string)
			creds := merged["credentials"].(map[string]any)
			ca := merged["ca"].(map[string]any)
			shardValues := merged["shards"].([]any)

			// Credentials: chart-made only when asked for; otherwise no
			// Secret of credentials is rendered at all.
			if creds["create"] == true {
				s, ok := objs.secrets["ocjob-credentials"]
				require.True(t, ok, "the chart-made credentials Secret")
				assert.Equal(t, slices.Sorted(slices.Values(secretEnv)), slices.Sorted(maps.Keys(s.StringData)))
			} else {
				name := creds["existingSecret"].(string)
				require.NotContains(t, objs.secrets, name, "an existing Secret is never rendered")
				for n, s := range objs.secrets {
					assert.Equal(t, []string{"config.json"}, slices.Sorted(maps.Keys(s.StringData)), "Secret %s holds a configuration only", n)
				}
				objs.externalSecrets[name] = standInCredentials()
			}
			if cm, _ := ca["existingConfigMap"].(string); ca["enabled"] == true && cm != "" {
				require.NotContains(t, objs.configMaps, cm)
				objs.externalConfigMaps[cm] = map[string]string{"ca.pem": placeholderCA(t)}
			}

			configs := map[string]*config.Config{}
			switch mode {
			case "cronjob":
				assert.Empty(t, objs.deployments)
				assert.Empty(t, objs.services)
				require.Len(t, objs.cronJobs, len(shardValues))
				for _, cj := range objs.cronJobs {
					configs[cj.Name] = checkCronJob(t, objs, cj)
				}
			case "service":
				assert.Empty(t, objs.cronJobs)
				require.Len(t, objs.deployments, len(shardValues))
				for _, d := range objs.deployments {
					configs[d.Name], _ = checkDeployment(t, objs, d)
				}
				if merged["podMonitor"].(map[string]any)["enabled"] == true {
					checkMetricsEndpoints(t, objs)
				}
			default:
				t.Fatalf("mode %q", mode)
			}
			if len(configs) > 1 {
				assert.Empty(t, shardProblems(configs))
			}
			for name, cfg := range configs {
				assert.Equal(t, ca["enabled"] == true, cfg.Compass.RootCAs != nil, "%s: compass.caFile", name)
				assert.Equal(t, ca["enabled"] == true, cfg.OpenConnectors.RootCAs != nil, "%s: openConnectors.caFile", name)
			}
			for _, sv := range shardValues {
				s := sv.(map[string]any)
				cfg, ok := configs["ocjob-"+s["name"].(string)]
				require.True(t, ok, "shard %s is rendered as ocjob-%s", s["name"], s["name"])
				assert.Equal(t, s["owner"], cfg.Source.Owner)
				assert.Equal(t, s["applicationPrefix"], cfg.Source.ApplicationPrefix)
			}

			// The switches of the Prometheus Operator's objects.
			assert.Equal(t, merged["podMonitor"].(map[string]any)["enabled"] == true, len(objs.podMonitors) == 1)
			if merged["prometheusRule"].(map[string]any)["enabled"] == true {
				require.Len(t, objs.prometheusRules, 1)
				spec, err := yaml.Marshal(objs.prometheusRules[0].Spec)
				require.NoError(t, err)
				checkRules(t, file, spec)
			} else {
				assert.Empty(t, objs.prometheusRules)
			}
			for _, sa := range objs.serviceAccounts {
				require.NotNil(t, sa.AutomountServiceAccountToken)
				assert.False(t, *sa.AutomountServiceAccountToken)
			}
		})
	}
}

// placeholderCA is the CA bundle of the kustomize base, a stand-in for a
// ConfigMap the operator provides.
func placeholderCA(t *testing.T) string {
	t.Helper()
	objs := render(t, "base/common")
	cm, ok := objs.configMaps["ocjob-ca"]
	require.True(t, ok)
	return cm.Data["ca.pem"]
}

// TestChartRefuses checks values the chart refuses, by the schema or by the
// templates, before anything reaches a cluster.
func TestChartRefuses(t *testing.T) {
	shard := func(name, prefix, owner string) map[string]any {
		return map[string]any{"name": name, "applicationPrefix": prefix, "owner": owner, "tags": []any{name}}
	}
	for name, tt := range map[string]struct {
		vals    map[string]any
		wantErr string
	}{
		"shared prefix": {map[string]any{"shards": []any{shard("a", "oc", "a"), shard("b", "oc", "b")}}, `applicationPrefix "oc"`},
		"shared owner":  {map[string]any{"shards": []any{shard("a", "oc-a", "x"), shard("b", "oc-b", "x")}}, `owner "x"`},
		"no shard":      {map[string]any{"shards": []any{}}, "shards"},
		"bad prefix":    {map[string]any{"shards": []any{shard("a", "Oc_a", "a")}}, "applicationPrefix"},
		"secret in config": {map[string]any{"config": map[string]any{"compass": map[string]any{"clientSecret": "s3cr3t"}}},
			"config"},
		"prefix in config": {map[string]any{"config": map[string]any{"compass": map[string]any{"applicationPrefix": "x"}}},
			"applicationPrefix"},
		"chart-made credentials without values": {map[string]any{"credentials": map[string]any{"create": true}}, "compassClientID"},
		"credentials with a comma": {map[string]any{"credentials": map[string]any{"create": true, "compassClientID": "id",
			"compassClientSecret": "a,b,c,d", "openConnectorsOrganizationSecret": "org1", "openConnectorsUserSecret": "user"}}, "compassClientSecret"},
		"no credentials at all":      {map[string]any{"credentials": map[string]any{"existingSecret": ""}}, "existingSecret"},
		"pod monitor of a cron job":  {map[string]any{"podMonitor": map[string]any{"enabled": true}}, "mode: service"},
		"CA without a bundle":        {map[string]any{"ca": map[string]any{"enabled": true}}, "ca.pem"},
		"unknown value":              {map[string]any{"schedule": "* * * * *"}, "schedule"},
		"unknown mode":               {map[string]any{"mode": "daemon"}, "mode"},
		"image digest of wrong form": {map[string]any{"image": map[string]any{"digest": "latest"}}, "digest"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := renderChart(t, tt.vals)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// TestChartDefaultsMatchKustomize checks that the chart's default CronJob
// runs the pod of the kustomize base: same schedule, deadlines, security
// settings and resources.
func TestChartDefaultsMatchKustomize(t *testing.T) {
	objs, err := renderChart(t, map[string]any{})
	require.NoError(t, err)
	require.Len(t, objs.cronJobs, 1)
	base := render(t, baseDir)
	require.Len(t, base.cronJobs, 1)
	got, want := objs.cronJobs[0].Spec, base.cronJobs[0].Spec
	assert.Equal(t, want.Schedule, got.Schedule)
	assert.Equal(t, want.TimeZone, got.TimeZone)
	assert.Equal(t, want.StartingDeadlineSeconds, got.StartingDeadlineSeconds)
	gj, wj := got.JobTemplate.Spec, want.JobTemplate.Spec
	assert.Equal(t, wj.BackoffLimit, gj.BackoffLimit)
	assert.Equal(t, wj.ActiveDeadlineSeconds, gj.ActiveDeadlineSeconds)
	gp, wp := gj.Template.Spec, wj.Template.Spec
	assert.Equal(t, wp.SecurityContext, gp.SecurityContext)
	assert.Equal(t, wp.Containers[0].SecurityContext, gp.Containers[0].SecurityContext)
	assert.Equal(t, wp.Containers[0].Resources, gp.Containers[0].Resources)
	assert.Equal(t, wp.Containers[0].Env, gp.Containers[0].Env, "the same credentials Secret and keys")
	assert.Equal(t, wp.Containers[0].Image, gp.Containers[0].Image)
}

// TestChartValuesFilesCoverSwitches checks that the ci values files, taken
// together, turn every switch both ways.
func TestChartValuesFilesCoverSwitches(t *testing.T) {
	seen := map[string]map[any]bool{}
	ch, err := loader.Load(chartDir)
	require.NoError(t, err)
	for _, file := range ciValuesFiles(t) {
		merged, err := chartutil.CoalesceValues(ch, readValues(t, file))
		require.NoError(t, err)
		for _, sw := range []string{"mode", "credentials.create", "ca.enabled", "podMonitor.enabled", "prometheusRule.enabled"} {
			v, err := merged.PathValue(sw)
			require.NoError(t, err, sw)
			if seen[sw] == nil {
				seen[sw] = map[any]bool{}
			}
			seen[sw][v] = true
		}
		shards := merged["shards"].([]any)
		if seen["shards"] == nil {
			seen["shards"] = map[any]bool{}
		}
		seen["shards"][len(shards) > 1] = true
		ca, _ := merged.PathValue("ca.existingConfigMap")
		if seen["ca.existingConfigMap"] == nil {
			seen["ca.existingConfigMap"] = map[any]bool{}
		}
		seen["ca.existingConfigMap"][ca != ""] = true
	}
	for sw, values := range seen {
		assert.Len(t, values, 2, "%s is not covered both ways: %v", sw, values)
	}
	_, err = os.Stat(filepath.Join(chartDir, "values.schema.json"))
	require.NoError(t, err)
}
