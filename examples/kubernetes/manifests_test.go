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

	withCredentialsDir = "overlays/with-credentials"
	monitoringDir      = "monitoring"
	jobsDir            = "jobs"
)

// objects is one rendered kustomization or chart, decoded into the
// Kubernetes API types.
type objects struct {
	cronJobs        []batchv1.CronJob
	jobs            []batchv1.Job
	deployments     []appsv1.Deployment
	services        []corev1.Service
	secrets         map[string]corev1.Secret
	configMaps      map[string]corev1.ConfigMap
	serviceAccounts map[string]corev1.ServiceAccount
	podMonitors     []podMonitor
	prometheusRules []prometheusRule

	// external are the Secrets and ConfigMaps the workloads use but the
	// rendering deliberately leaves to the operator (ocjob-credentials from
	// a secret store, say), with stand-in contents for the checks.
	externalSecrets    map[string]map[string]string
	externalConfigMaps map[string]map[string]string
}

func newObjects() *objects {
	return &objects{
		secrets:            map[string]corev1.Secret{},
		configMaps:         map[string]corev1.ConfigMap{},
		serviceAccounts:    map[string]corev1.ServiceAccount{},
		externalSecrets:    map[string]map[string]string{},
		externalConfigMaps: map[string]map[string]string{},
	}
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

// add decodes one object's JSON strictly into its type and adds it.
func (objs *objects) add(t *testing.T, where string, js []byte) {
	t.Helper()
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(js, &meta), where)
	where = fmt.Sprintf("%s: %s %s", where, meta.Kind, meta.Metadata.Name)
	apiVersion := meta.APIVersion
	var decodeErr error
	switch meta.Kind {
	case "CronJob":
		require.Equal(t, "batch/v1", apiVersion, where)
		var cj batchv1.CronJob
		decodeErr = decodeStrict(js, &cj)
		objs.cronJobs = append(objs.cronJobs, cj)
	case "Job":
		require.Equal(t, "batch/v1", apiVersion, where)
		var j batchv1.Job
		decodeErr = decodeStrict(js, &j)
		objs.jobs = append(objs.jobs, j)
	case "Deployment":
		require.Equal(t, "apps/v1", apiVersion, where)
		var d appsv1.Deployment
		decodeErr = decodeStrict(js, &d)
		objs.deployments = append(objs.deployments, d)
	case "Service":
		require.Equal(t, "v1", apiVersion, where)
		var s corev1.Service
		decodeErr = decodeStrict(js, &s)
		objs.services = append(objs.services, s)
	case "Secret":
		require.Equal(t, "v1", apiVersion, where)
		var s corev1.Secret
		decodeErr = decodeStrict(js, &s)
		require.NotContains(t, objs.secrets, s.Name, where)
		objs.secrets[s.Name] = s
	case "ConfigMap":
		require.Equal(t, "v1", apiVersion, where)
		var c corev1.ConfigMap
		decodeErr = decodeStrict(js, &c)
		require.NotContains(t, objs.configMaps, c.Name, where)
		objs.configMaps[c.Name] = c
	case "ServiceAccount":
		require.Equal(t, "v1", apiVersion, where)
		var sa corev1.ServiceAccount
		decodeErr = decodeStrict(js, &sa)
		objs.serviceAccounts[sa.Name] = sa
	case "PodMonitor":
		require.Equal(t, monitoringAPIVersion, apiVersion, where)
		var pm podMonitor
		decodeErr = decodeStrict(js, &pm)
		objs.podMonitors = append(objs.podMonitors, pm)
	case "PrometheusRule":
		require.Equal(t, monitoringAPIVersion, apiVersion, where)
		var pr prometheusRule
		decodeErr = decodeStrict(js, &pr)
		objs.prometheusRules = append(objs.prometheusRules, pr)
	default:
		t.Fatalf("%s: unexpected kind", where)
	}
	require.NoError(t, decodeErr, "%s does not match its Kubernetes type", where)
}

// render builds the kustomization in dir as kubectl kustomize does and
// decodes every object strictly.
func render(t *testing.T, dir string) *objects {
	t.Helper()
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), abs)
	require.NoError(t, err, "kustomize build %s", dir)

	objs := newObjects()
	for _, r := range resMap.Resources() {
		js, err := r.MarshalJSON()
		require.NoError(t, err)
		objs.add(t, dir, js)
	}
	return objs
}

// credentialsSecret is the Secret of the OCJOB_* variables, which the base
// references but leaves to the operator.
const credentialsSecret = "ocjob-credentials"

// standInCredentials are values for a credentials Secret that the rendering
// leaves out.
func standInCredentials() map[string]string {
	m := map[string]string{}
	for _, k := range secretEnv {
		m[k] = "stand-in-" + strings.ToLower(k)
	}
	return m
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
		var ok bool
		require.NotNil(t, e.ValueFrom, "%s: a literal value in the manifest", e.Name)
		ref := e.ValueFrom.SecretKeyRef
		require.NotNil(t, ref, "%s: not from a secretKeyRef", e.Name)
		var v string
		if ext, external := objs.externalSecrets[ref.Name]; external {
			_, rendered := objs.secrets[ref.Name]
			require.False(t, rendered, "%s: Secret %s is left to the operator, yet rendered", e.Name, ref.Name)
			v, ok = ext[ref.Key]
		} else {
			s, rendered := objs.secrets[ref.Name]
			require.True(t, rendered, "%s: Secret %s is rendered", e.Name, ref.Name)
			v, ok = secretValue(s, ref.Key)
		}
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
			if ext, external := objs.externalConfigMaps[v.ConfigMap.Name]; external {
				files = ext
				break
			}
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

// renderWithOperatorCredentials renders a kustomization whose workloads use
// the ocjob-credentials Secret that the operator creates beside it.
func renderWithOperatorCredentials(t *testing.T, dir string) *objects {
	t.Helper()
	objs := render(t, dir)
	_, rendered := objs.secrets[credentialsSecret]
	require.False(t, rendered, "%s renders the Secret %s: applying it would overwrite the operator's", dir, credentialsSecret)
	objs.externalSecrets[credentialsSecret] = standInCredentials()
	return objs
}

func TestBase(t *testing.T) {
	objs := renderWithOperatorCredentials(t, baseDir)
	require.Len(t, objs.cronJobs, 1)
	assert.Empty(t, objs.deployments)
	cj := objs.cronJobs[0]
	assert.Equal(t, "ocjob", cj.Name)
	cfg := checkCronJob(t, objs, cj)
	assert.Equal(t, "main", cfg.Source.Owner)
	assert.Equal(t, []string{"compass"}, cfg.OpenConnectors.Tags)
	assert.NotNil(t, cfg.Compass.RootCAs, "the CA bundle is trusted")
	assert.NotNil(t, cfg.OpenConnectors.RootCAs, "the CA bundle is trusted")

	// The only Secret is the configuration, which holds no credentials:
	// applying the base next to an existing ocjob-credentials cannot
	// change it.
	assert.Equal(t, []string{"ocjob-config"}, slices.Sorted(maps.Keys(objs.secrets)))
	assert.Contains(t, objs.secrets["ocjob-config"].StringData, path.Base(config.DefaultPath))
}

// TestCredentialsComponent checks the opt-in credentials component: it
// generates ocjob-credentials with exactly the secret variables, under that
// very name (no hash suffix), and nothing else.
func TestCredentialsComponent(t *testing.T) {
	objs := render(t, withCredentialsDir)
	require.Len(t, objs.cronJobs, 1)
	checkCronJob(t, objs, objs.cronJobs[0])

	creds, ok := objs.secrets[credentialsSecret]
	require.True(t, ok, "the component renders %s", credentialsSecret)
	keys := append(slices.Collect(maps.Keys(creds.StringData)), slices.Collect(maps.Keys(creds.Data))...)
	slices.Sort(keys)
	assert.Equal(t, slices.Sorted(slices.Values(secretEnv)), keys)
	assert.Len(t, objs.secrets, 2)
}

// shardProblems lists why the shards' configurations (by job name) could
// claim the same application: a shared sync.owner, a shared
// compass.applicationPrefix, a prefix that extends another (application
// names are <prefix>-<instance id>, so prefixes a and a-b could collide), a
// shard without an owner or without tags (which takes every instance).
func shardProblems(shards map[string]*config.Config) []string {
	var problems []string
	if len(shards) < 2 {
		problems = append(problems, "fewer than two shards")
	}
	owners := map[string]string{}
	prefixes := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(shards)) {
		cfg := shards[name]
		owner, prefix := cfg.Source.Owner, cfg.Source.ApplicationPrefix
		if owner == "" {
			problems = append(problems, name+" has no owner")
		} else if other, dup := owners[owner]; dup {
			problems = append(problems, fmt.Sprintf("%s and %s have the same owner %q", other, name, owner))
		}
		owners[owner] = name
		for _, other := range slices.Sorted(maps.Keys(prefixes)) {
			if other == prefix || strings.HasPrefix(prefix, other+"-") || strings.HasPrefix(other, prefix+"-") {
				problems = append(problems, fmt.Sprintf("%s and %s have the prefixes %q and %q: their application names can collide",
					prefixes[other], name, other, prefix))
			}
		}
		prefixes[prefix] = name
		if len(cfg.OpenConnectors.Tags) == 0 {
			problems = append(problems, name+" has no tags and takes every instance")
		}
	}
	return problems
}

func TestShardProblems(t *testing.T) {
	shard := func(prefix, owner string) *config.Config {
		var c config.Config
		c.Source.ApplicationPrefix, c.Source.Owner, c.OpenConnectors.Tags = prefix, owner, []string{"t"}
		return &c
	}
	for name, tt := range map[string]struct {
		shards map[string]*config.Config
		want   string
	}{
		"distinct":        {map[string]*config.Config{"a": shard("oc-a", "a"), "b": shard("oc-b", "b")}, ""},
		"same prefix":     {map[string]*config.Config{"a": shard("oc", "a"), "b": shard("oc", "b")}, `prefixes "oc" and "oc"`},
		"same owner":      {map[string]*config.Config{"a": shard("oc-a", "x"), "b": shard("oc-b", "x")}, `same owner "x"`},
		"extended prefix": {map[string]*config.Config{"a": shard("oc", "a"), "b": shard("oc-b", "b")}, `prefixes "oc" and "oc-b"`},
		"no owner":        {map[string]*config.Config{"a": shard("oc-a", ""), "b": shard("oc-b", "b")}, "a has no owner"},
	} {
		t.Run(name, func(t *testing.T) {
			got := shardProblems(tt.shards)
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Contains(t, got[0], tt.want)
		})
	}
}

func TestSharded(t *testing.T) {
	objs := renderWithOperatorCredentials(t, shardedDir)
	require.GreaterOrEqual(t, len(objs.cronJobs), 2, "several shards")
	assert.Empty(t, objs.deployments)
	assert.Len(t, objs.serviceAccounts, 1, "the shards share the service account")
	assert.Len(t, objs.configMaps, 1, "the shards share the CA bundle")

	shards := map[string]*config.Config{}
	tags := map[string]string{}
	configs := map[string]bool{}
	for _, cj := range objs.cronJobs {
		cfg := checkCronJob(t, objs, cj)
		shards[cj.Name] = cfg
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
	assert.Empty(t, shardProblems(shards))
}

// checkDeployment checks a service-mode Deployment: one replica, Recreate,
// -interval and -listen, probes on the listen port; it returns the
// configuration and the container's port.
func checkDeployment(t *testing.T, objs *objects, d appsv1.Deployment) (*config.Config, corev1.ContainerPort) {
	t.Helper()
	require.NotNil(t, d.Spec.Replicas)
	assert.Equal(t, int32(1), *d.Spec.Replicas, "one replica: two would sync the same tenant at once")
	assert.Equal(t, appsv1.RecreateDeploymentStrategyType, d.Spec.Strategy.Type, "a rollout never runs two")
	require.NotNil(t, d.Spec.Selector)
	for k, v := range d.Spec.Selector.MatchLabels {
		assert.Equal(t, v, d.Spec.Template.Labels[k], "the selector matches the pods")
	}

	pod := d.Spec.Template.Spec
	cfg := checkPod(t, objs, pod)

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
	return cfg, c.Ports[0]
}

// selects reports whether every key of selector is a label of labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkMetricsEndpoints checks that every Deployment is reached on its
// /metrics port by a Service and by a PodMonitor, and that neither selects
// anything but the Deployments' pods.
func checkMetricsEndpoints(t *testing.T, objs *objects) {
	t.Helper()
	for _, d := range objs.deployments {
		_, port := checkDeployment(t, objs, d)
		podLabels := d.Spec.Template.Labels

		var services int
		for _, s := range objs.services {
			if !selects(s.Spec.Selector, podLabels) {
				continue
			}
			services++
			require.Len(t, s.Spec.Ports, 1, s.Name)
			tp := s.Spec.Ports[0].TargetPort
			assert.True(t, tp.String() == port.Name || tp.IntValue() == int(port.ContainerPort), "Service %s targets the metrics port", s.Name)
		}
		assert.Equal(t, 1, services, "one Service selects Deployment %s", d.Name)

		var monitors int
		for _, pm := range objs.podMonitors {
			if !selects(pm.Spec.Selector.MatchLabels, podLabels) {
				continue
			}
			monitors++
			require.Len(t, pm.Spec.PodMetricsEndpoints, 1, pm.Name)
			ep := pm.Spec.PodMetricsEndpoints[0]
			assert.Equal(t, port.Name, ep.Port, "PodMonitor %s scrapes the metrics port", pm.Name)
			assert.Equal(t, "/metrics", ep.Path)
			if ep.Interval != "" {
				_, err := time.ParseDuration(ep.Interval)
				assert.NoError(t, err)
			}
		}
		assert.Equal(t, 1, monitors, "one PodMonitor selects Deployment %s", d.Name)
	}
	// Selectors pick service-mode pods only, never a CronJob's.
	for _, cj := range objs.cronJobs {
		for _, s := range objs.services {
			assert.False(t, selects(s.Spec.Selector, cj.Spec.JobTemplate.Spec.Template.Labels), "Service %s selects CronJob %s", s.Name, cj.Name)
		}
		for _, pm := range objs.podMonitors {
			assert.False(t, selects(pm.Spec.Selector.MatchLabels, cj.Spec.JobTemplate.Spec.Template.Labels), "PodMonitor %s selects CronJob %s", pm.Name, cj.Name)
		}
	}
}

func TestService(t *testing.T) {
	objs := renderWithOperatorCredentials(t, serviceDir)
	assert.Empty(t, objs.cronJobs, "the service replaces the CronJob")
	require.Len(t, objs.deployments, 1)
	cfg, _ := checkDeployment(t, objs, objs.deployments[0])
	assert.Equal(t, "main", cfg.Source.Owner)
	require.Len(t, objs.services, 1)
	require.Len(t, objs.podMonitors, 1)
	checkMetricsEndpoints(t, objs)
}
