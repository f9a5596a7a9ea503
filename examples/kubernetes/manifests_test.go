package kubernetes_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
)

// The kustomizations of this directory.
const (
	baseDir    = "base"
	shardedDir = "overlays/sharded"
	serviceDir = "service"
)

// objects is one rendered kustomization, decoded into the Kubernetes API
// types.
type objects struct {
	cronJobs        []batchv1.CronJob
	deployments     []appsv1.Deployment
	secrets         map[string]corev1.Secret
	configMaps      map[string]corev1.ConfigMap
	serviceAccounts map[string]corev1.ServiceAccount
}

// decodeStrict decodes one object's JSON into dst as the API server does:
// keys match field names case-sensitively, and an unknown or duplicate field
// is an error. A misspelt or misplaced field, which kubectl would reject or
// the API server silently drop, fails the test.
func decodeStrict(js []byte, dst any) error {
	strict, err := k8sjson.UnmarshalStrict(js, dst)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// render builds the kustomization in dir as kubectl kustomize does and
// decodes every object strictly.
func render(t *testing.T, dir string) *objects {
	t.Helper()
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), abs)
	require.NoError(t, err, "kustomize build %s", dir)

	objs := &objects{
		secrets:         map[string]corev1.Secret{},
		configMaps:      map[string]corev1.ConfigMap{},
		serviceAccounts: map[string]corev1.ServiceAccount{},
	}
	for _, r := range resMap.Resources() {
		js, err := r.MarshalJSON()
		require.NoError(t, err)
		where := fmt.Sprintf("%s: %s %s", dir, r.GetKind(), r.GetName())
		apiVersion := r.GetApiVersion()
		var decodeErr error
		switch kind := r.GetKind(); kind {
		case "CronJob":
			require.Equal(t, "batch/v1", apiVersion, where)
			var cj batchv1.CronJob
			decodeErr = decodeStrict(js, &cj)
			objs.cronJobs = append(objs.cronJobs, cj)
		case "Deployment":
			require.Equal(t, "apps/v1", apiVersion, where)
			var d appsv1.Deployment
			decodeErr = decodeStrict(js, &d)
			objs.deployments = append(objs.deployments, d)
		case "Secret":
			require.Equal(t, "v1", apiVersion, where)
			var s corev1.Secret
			decodeErr = decodeStrict(js, &s)
			objs.secrets[s.Name] = s
		case "ConfigMap":
			require.Equal(t, "v1", apiVersion, where)
			var c corev1.ConfigMap
			decodeErr = decodeStrict(js, &c)
			objs.configMaps[c.Name] = c
		case "ServiceAccount":
			require.Equal(t, "v1", apiVersion, where)
			var sa corev1.ServiceAccount
			decodeErr = decodeStrict(js, &sa)
			objs.serviceAccounts[sa.Name] = sa
		default:
			t.Fatalf("%s: unexpected kind", where)
		}
		require.NoError(t, decodeErr, "%s does not match its Kubernetes type", where)
	}
	return objs
}

func TestDecodeStrict(t *testing.T) {
	const good = `{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"x"},` +
		`"spec":{"schedule":"*/30 * * * *","jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c"}]}}}}}}`
	tests := []struct {
		name, doc, wantErr string
	}{
		{"good", good, ""},
		{"misspelt field", strings.Replace(good, `"schedule"`, `"schedul"`, 1), `unknown field "spec.schedul"`},
		{"case variant", strings.Replace(good, `"schedule"`, `"Schedule"`, 1), `unknown field "spec.Schedule"`},
		{"duplicate field", strings.Replace(good, `"schedule":`, `"schedule":"0 * * * *","schedule":`, 1), `duplicate field "spec.schedule"`},
		{"misplaced field", strings.Replace(good, `"jobTemplate":{"spec":{`, `"jobTemplate":{"spec":{"restartPolicy":"Never",`, 1), `unknown field "spec.jobTemplate.spec.restartPolicy"`},
		{"wrong type", strings.Replace(good, `"*/30 * * * *"`, `30`, 1), "cannot unmarshal"},
		{"two objects", good + good, "after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cj batchv1.CronJob
			err := decodeStrict([]byte(tt.doc), &cj)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "*/30 * * * *", cj.Spec.Schedule)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// schedulePeriod is the shortest time between two runs of a five-field cron
// schedule that runs every hour: a minute field of "*/N", "M" or "M1,M2,...",
// every other field "*". Other forms are refused, so that the test never
// misjudges a schedule it does not understand.
func schedulePeriod(schedule string) (time.Duration, error) {
	fields := strings.Fields(schedule)
	if len(fields) != 5 {
		return 0, fmt.Errorf("schedule %q: want five fields", schedule)
	}
	for _, f := range fields[1:] {
		if f != "*" {
			return 0, fmt.Errorf("schedule %q: only the minute field may be set", schedule)
		}
	}
	minute := fields[0]
	if step, ok := strings.CutPrefix(minute, "*/"); ok {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 || n > 59 || 60%n != 0 {
			return 0, fmt.Errorf("schedule %q: want a step that divides 60", schedule)
		}
		return time.Duration(n) * time.Minute, nil
	}
	var minutes []int
	for _, m := range strings.Split(minute, ",") {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > 59 {
			return 0, fmt.Errorf("schedule %q: bad minute %q", schedule, m)
		}
		minutes = append(minutes, n)
	}
	slices.Sort(minutes)
	minutes = slices.Compact(minutes)
	gap := 60 - minutes[len(minutes)-1] + minutes[0]
	for i := 1; i < len(minutes); i++ {
		gap = min(gap, minutes[i]-minutes[i-1])
	}
	return time.Duration(gap) * time.Minute, nil
}

func TestSchedulePeriod(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"*/30 * * * *":  30 * time.Minute,
		"*/15 * * * *":  15 * time.Minute,
		"0,30 * * * *":  30 * time.Minute,
		"15,45 * * * *": 30 * time.Minute,
		"5,50 * * * *":  15 * time.Minute,
		"7 * * * *":     time.Hour,
	} {
		got, err := schedulePeriod(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"*/7 * * * *", "0 */2 * * *", "* * * *", "x * * * *", "0 0 * * 1"} {
		_, err := schedulePeriod(in)
		assert.Error(t, err, in)
	}
}

// secretEnv lists the environment variables that carry secrets.
var secretEnv = []string{
	config.EnvCompassClientID,
	config.EnvCompassClientSecret,
	config.EnvOpenConnectorsOrganizationSecret,
	config.EnvOpenConnectorsUserSecret,
}

// checkPod checks what every ocjob pod must be: non-root, read-only, no
// privilege, no API token, the secrets only through secretKeyRef, every
// volume backed by a rendered object. It returns the loaded configuration,
// read from the files the pod would see.
func checkPod(t *testing.T, objs *objects, pod corev1.PodSpec) *config.Config {
	t.Helper()
	require.NotEmpty(t, pod.ServiceAccountName)
	sa, ok := objs.serviceAccounts[pod.ServiceAccountName]
	require.True(t, ok, "service account %s is rendered", pod.ServiceAccountName)
	require.NotNil(t, sa.AutomountServiceAccountToken)
	assert.False(t, *sa.AutomountServiceAccountToken, "ocjob does not talk to the Kubernetes API")
	require.NotNil(t, pod.AutomountServiceAccountToken)
	assert.False(t, *pod.AutomountServiceAccountToken)

	psc := pod.SecurityContext
	require.NotNil(t, psc)
	require.NotNil(t, psc.RunAsNonRoot)
	assert.True(t, *psc.RunAsNonRoot)
	require.NotNil(t, psc.RunAsUser)
	assert.NotZero(t, *psc.RunAsUser)
	require.NotNil(t, psc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)

	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	sc := c.SecurityContext
	require.NotNil(t, sc)
	require.NotNil(t, sc.AllowPrivilegeEscalation)
	assert.False(t, *sc.AllowPrivilegeEscalation)
	require.NotNil(t, sc.ReadOnlyRootFilesystem)
	assert.True(t, *sc.ReadOnlyRootFilesystem)
	assert.True(t, sc.Privileged == nil || !*sc.Privileged)
	require.NotNil(t, sc.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, limit := c.Resources.Requests[r], c.Resources.Limits[r]
		assert.False(t, req.IsZero(), "request %s", r)
		assert.False(t, limit.IsZero(), "limit %s", r)
	}

	// Secrets reach the container only through secretKeyRef.
	assert.Empty(t, c.EnvFrom, "no envFrom: every variable is named")
	env := map[string]string{}
	for _, e := range c.Env {
		require.NotNil(t, e.ValueFrom, "%s: a literal value in the manifest", e.Name)
		ref := e.ValueFrom.SecretKeyRef
		require.NotNil(t, ref, "%s: not from a secretKeyRef", e.Name)
		s, ok := objs.secrets[ref.Name]
		require.True(t, ok, "%s: Secret %s is rendered", e.Name, ref.Name)
		v, ok := secretValue(s, ref.Key)
		require.True(t, ok, "%s: Secret %s has key %s", e.Name, ref.Name, ref.Key)
		env[e.Name] = v
	}
	for _, name := range secretEnv {
		assert.Contains(t, env, name)
	}

	// The files of the pod, as mounted, in a local directory.
	root := t.TempDir()
	local := func(podPath string) string { return filepath.Join(root, filepath.FromSlash(podPath)) }
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	require.Len(t, c.VolumeMounts, len(pod.Volumes), "every volume is mounted")
	for _, m := range c.VolumeMounts {
		assert.True(t, m.ReadOnly, "mount %s is read-only", m.MountPath)
		v, ok := volumes[m.Name]
		require.True(t, ok, "volume %s", m.Name)
		files := map[string]string{}
		switch {
		case v.Secret != nil:
			s, ok := objs.secrets[v.Secret.SecretName]
			require.True(t, ok, "Secret %s is rendered", v.Secret.SecretName)
			require.NotNil(t, v.Secret.DefaultMode)
			assert.Zero(t, *v.Secret.DefaultMode&0o007, "Secret %s is not world-readable", s.Name)
			for k := range s.StringData {
				files[k] = s.StringData[k]
			}
			for k, b := range s.Data {
				files[k] = string(b)
			}
		case v.ConfigMap != nil:
			cm, ok := objs.configMaps[v.ConfigMap.Name]
			require.True(t, ok, "ConfigMap %s is rendered", v.ConfigMap.Name)
			files = cm.Data
		default:
			t.Fatalf("volume %s: want a Secret or a ConfigMap", m.Name)
		}
		require.NoError(t, os.MkdirAll(local(m.MountPath), 0o700))
		for name, content := range files {
			require.NoError(t, os.WriteFile(filepath.Join(local(m.MountPath), name), []byte(content), 0o600))
		}
	}

	i := slices.Index(c.Args, "-config")
	require.GreaterOrEqual(t, i, 0, "args name the config file")
	require.Less(t, i+1, len(c.Args))
	configPath := c.Args[i+1]
	assert.Equal(t, config.DefaultPath, configPath)
	data, err := os.ReadFile(local(configPath))
	require.NoError(t, err, "%s is in a mounted volume", configPath)

	// The file holds no secret: they all come from the environment.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	sectionOf := func(name string) map[string]any {
		s, _ := doc[name].(map[string]any)
		return s
	}
	for _, key := range []string{"compass.clientID", "compass.clientSecret", "openConnectors.organizationSecret", "openConnectors.userSecret"} {
		sec, k, _ := strings.Cut(key, ".")
		assert.NotContains(t, sectionOf(sec), k, "%s is in config.json", key)
	}

	// CA bundles are files of a mounted volume; the configuration names
	// them by their path in the pod, which is found here under root.
	for _, sec := range []string{"compass", "openConnectors"} {
		if p, ok := sectionOf(sec)["caFile"].(string); ok {
			require.FileExists(t, local(p), "%s.caFile is in a mounted volume", sec)
			sectionOf(sec)["caFile"] = local(p)
		}
	}
	data, err = json.Marshal(doc)
	require.NoError(t, err)
	cfg, err := config.Parse(bytes.NewReader(data), func(k string) string { return env[k] })
	require.NoError(t, err, "the configuration loads as the pod would load it")
	return cfg
}

func secretValue(s corev1.Secret, key string) (string, bool) {
	if v, ok := s.StringData[key]; ok {
		return v, true
	}
	v, ok := s.Data[key]
	return string(v), ok
}

// checkCronJob checks one CronJob and returns its configuration.
func checkCronJob(t *testing.T, objs *objects, cj batchv1.CronJob) *config.Config {
	t.Helper()
	spec := cj.Spec
	assert.Equal(t, batchv1.ForbidConcurrent, spec.ConcurrencyPolicy)
	require.NotNil(t, spec.TimeZone)
	assert.Equal(t, "Etc/UTC", *spec.TimeZone)
	assert.NotContains(t, spec.Schedule, "TZ=", "the time zone is spec.timeZone")
	period, err := schedulePeriod(spec.Schedule)
	require.NoError(t, err)

	job := spec.JobTemplate.Spec
	require.NotNil(t, job.BackoffLimit)
	assert.Zero(t, *job.BackoffLimit, "a failed run waits for the next schedule")
	require.NotNil(t, spec.StartingDeadlineSeconds)
	assert.Positive(t, *spec.StartingDeadlineSeconds)
	assert.Less(t, time.Duration(*spec.StartingDeadlineSeconds)*time.Second, period)
	require.NotNil(t, job.ActiveDeadlineSeconds)
	deadline := time.Duration(*job.ActiveDeadlineSeconds) * time.Second

	pod := job.Template.Spec
	assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	cfg := checkPod(t, objs, pod)

	assert.Less(t, deadline, period, "a run is over before the next one is due")
	assert.Greater(t, deadline, cfg.Sync.RunTimeout, "the run stops itself before Kubernetes kills it")
	return cfg
}

func TestBase(t *testing.T) {
	objs := render(t, baseDir)
	require.Len(t, objs.cronJobs, 1)
	assert.Empty(t, objs.deployments)
	cj := objs.cronJobs[0]
	assert.Equal(t, "ocjob", cj.Name)
	cfg := checkCronJob(t, objs, cj)
	assert.Equal(t, "main", cfg.Source.Owner)
	assert.Equal(t, []string{"compass"}, cfg.OpenConnectors.Tags)
	assert.NotNil(t, cfg.Compass.RootCAs, "the CA bundle is trusted")
	assert.NotNil(t, cfg.OpenConnectors.RootCAs, "the CA bundle is trusted")

	// The credentials Secret holds exactly the secret variables.
	creds := objs.secrets["ocjob-credentials"]
	keys := append(slices.Collect(maps.Keys(creds.StringData)), slices.Collect(maps.Keys(creds.Data))...)
	slices.Sort(keys)
	want := slices.Clone(secretEnv)
	slices.Sort(want)
	assert.Equal(t, want, keys)
	assert.Contains(t, objs.secrets["ocjob-config"].StringData, path.Base(config.DefaultPath))
	assert.Len(t, objs.secrets, 2)
}

func TestSharded(t *testing.T) {
	objs := render(t, shardedDir)
	require.GreaterOrEqual(t, len(objs.cronJobs), 2, "several shards")
	assert.Empty(t, objs.deployments)
	assert.Len(t, objs.serviceAccounts, 1, "the shards share the service account")
	assert.Len(t, objs.configMaps, 1, "the shards share the CA bundle")

	owners := map[string]string{}
	tags := map[string]string{}
	configs := map[string]bool{}
	for _, cj := range objs.cronJobs {
		cfg := checkCronJob(t, objs, cj)
		require.NotEmpty(t, cfg.Source.Owner, "%s: a shard has an owner", cj.Name)
		if other, dup := owners[cfg.Source.Owner]; dup {
			t.Errorf("%s and %s have the same owner %q", other, cj.Name, cfg.Source.Owner)
		}
		owners[cfg.Source.Owner] = cj.Name
		require.NotEmpty(t, cfg.OpenConnectors.Tags, "%s: a shard without tags takes every instance", cj.Name)
		for _, tag := range cfg.OpenConnectors.Tags {
			if other, dup := tags[tag]; dup {
				t.Errorf("tag %q is in %s and %s", tag, other, cj.Name)
			}
			tags[tag] = cj.Name
		}
		for _, v := range cj.Spec.JobTemplate.Spec.Template.Spec.Volumes {
			if v.Secret != nil {
				assert.False(t, configs[v.Secret.SecretName], "%s: its own configuration", cj.Name)
				configs[v.Secret.SecretName] = true
			}
		}
	}
}

func TestService(t *testing.T) {
	objs := render(t, serviceDir)
	assert.Empty(t, objs.cronJobs, "the service replaces the CronJob")
	require.Len(t, objs.deployments, 1)
	d := objs.deployments[0]
	require.NotNil(t, d.Spec.Replicas)
	assert.Equal(t, int32(1), *d.Spec.Replicas, "one replica: two would sync the same tenant at once")
	assert.Equal(t, appsv1.RecreateDeploymentStrategyType, d.Spec.Strategy.Type, "a rollout never runs two")
	require.NotNil(t, d.Spec.Selector)
	for k, v := range d.Spec.Selector.MatchLabels {
		assert.Equal(t, v, d.Spec.Template.Labels[k], "the selector matches the pods")
	}

	pod := d.Spec.Template.Spec
	cfg := checkPod(t, objs, pod)
	assert.Equal(t, "main", cfg.Source.Owner)

	c := pod.Containers[0]
	flag := func(name string) string {
		i := slices.Index(c.Args, name)
		require.GreaterOrEqual(t, i, 0, "args have %s", name)
		require.Less(t, i+1, len(c.Args))
		return c.Args[i+1]
	}
	interval, err := time.ParseDuration(flag("-interval"))
	require.NoError(t, err)
	assert.Positive(t, interval)
	_, port, ok := strings.Cut(flag("-listen"), ":")
	require.True(t, ok)
	listen, err := strconv.Atoi(port)
	require.NoError(t, err)

	require.Len(t, c.Ports, 1)
	assert.Equal(t, int32(listen), c.Ports[0].ContainerPort)
	for probe, wantPath := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		require.NotNil(t, probe, wantPath)
		require.NotNil(t, probe.HTTPGet, wantPath)
		assert.Equal(t, wantPath, probe.HTTPGet.Path)
		p := probe.HTTPGet.Port
		assert.True(t, p.String() == c.Ports[0].Name || p.IntValue() == listen, "%s probes the listen port", wantPath)
	}
}
