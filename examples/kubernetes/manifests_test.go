package kubernetes_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
)

// The structs below mirror the fields of the Kubernetes types that the
// manifests use, with the API's JSON names. Decoding with
// DisallowUnknownFields fails on any field they do not know, which catches
// misspelt or misplaced fields that kubectl would reject or silently drop.

type objectMeta struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

type secret struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   objectMeta        `json:"metadata"`
	Type       string            `json:"type"`
	StringData map[string]string `json:"stringData"`
}

type cronJob struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   objectMeta  `json:"metadata"`
	Spec       cronJobSpec `json:"spec"`
}

type cronJobSpec struct {
	Schedule                   string      `json:"schedule"`
	ConcurrencyPolicy          string      `json:"concurrencyPolicy"`
	StartingDeadlineSeconds    *int64      `json:"startingDeadlineSeconds,omitempty"`
	SuccessfulJobsHistoryLimit *int32      `json:"successfulJobsHistoryLimit,omitempty"`
	FailedJobsHistoryLimit     *int32      `json:"failedJobsHistoryLimit,omitempty"`
	JobTemplate                jobTemplate `json:"jobTemplate"`
}

type jobTemplate struct {
	Spec jobSpec `json:"spec"`
}

type jobSpec struct {
	BackoffLimit            *int32      `json:"backoffLimit,omitempty"`
	ActiveDeadlineSeconds   *int64      `json:"activeDeadlineSeconds,omitempty"`
	TTLSecondsAfterFinished *int32      `json:"ttlSecondsAfterFinished,omitempty"`
	Template                podTemplate `json:"template"`
}

type podTemplate struct {
	Metadata objectMeta `json:"metadata"`
	Spec     podSpec    `json:"spec"`
}

type podSpec struct {
	RestartPolicy                string             `json:"restartPolicy"`
	AutomountServiceAccountToken *bool              `json:"automountServiceAccountToken,omitempty"`
	SecurityContext              podSecurityContext `json:"securityContext"`
	Containers                   []container        `json:"containers"`
	Volumes                      []volume           `json:"volumes"`
}

type podSecurityContext struct {
	RunAsNonRoot   *bool           `json:"runAsNonRoot,omitempty"`
	RunAsUser      *int64          `json:"runAsUser,omitempty"`
	RunAsGroup     *int64          `json:"runAsGroup,omitempty"`
	FSGroup        *int64          `json:"fsGroup,omitempty"`
	SeccompProfile *seccompProfile `json:"seccompProfile,omitempty"`
}

type seccompProfile struct {
	Type string `json:"type"`
}

type container struct {
	Name            string               `json:"name"`
	Image           string               `json:"image"`
	ImagePullPolicy string               `json:"imagePullPolicy,omitempty"`
	Args            []string             `json:"args,omitempty"`
	SecurityContext *securityContext     `json:"securityContext"`
	Resources       resourceRequirements `json:"resources"`
	VolumeMounts    []volumeMount        `json:"volumeMounts"`
}

type securityContext struct {
	RunAsNonRoot             *bool         `json:"runAsNonRoot,omitempty"`
	RunAsUser                *int64        `json:"runAsUser,omitempty"`
	AllowPrivilegeEscalation *bool         `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool         `json:"readOnlyRootFilesystem"`
	Privileged               *bool         `json:"privileged,omitempty"`
	Capabilities             *capabilities `json:"capabilities"`
}

type capabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop"`
}

type resourceRequirements struct {
	Requests map[string]string `json:"requests"`
	Limits   map[string]string `json:"limits"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

type volume struct {
	Name   string        `json:"name"`
	Secret *secretVolume `json:"secret,omitempty"`
}

type secretVolume struct {
	SecretName  string `json:"secretName"`
	DefaultMode *int32 `json:"defaultMode,omitempty"`
}

// decodeStrict decodes the single YAML document in data into dst: YAML is
// turned into JSON, as the Kubernetes API machinery does, and the JSON is
// decoded with unknown fields rejected.
func decodeStrict(data []byte, dst any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	jd := json.NewDecoder(bytes.NewReader(js))
	jd.DisallowUnknownFields()
	return jd.Decode(dst)
}

func decodeFile(t *testing.T, file string, dst any) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, decodeStrict(data, dst), "%s does not match the Kubernetes type", file)
}

func TestDecodeStrict(t *testing.T) {
	const good = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ntype: Opaque\nstringData: {}\n"
	tests := []struct {
		name, doc, wantErr string
	}{
		{"good", good, ""},
		{"unknown field", strings.Replace(good, "  name: x\n", "  name: x\n  namespce: typo\n", 1), "namespce"},
		{"field not mirrored", good + "data: {}\n", `unknown field "data"`},
		{"wrong type", strings.Replace(good, "stringData: {}", "stringData: [a]", 1), "cannot unmarshal"},
		{"two documents", good + "---\n" + good, "more than one"},
		{"not YAML", "a: [b", "not YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s secret
			err := decodeStrict([]byte(tt.doc), &s)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "x", s.Metadata.Name)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestSecret(t *testing.T) {
	var s secret
	decodeFile(t, "secret.yaml", &s)
	assert.Equal(t, "v1", s.APIVersion)
	assert.Equal(t, "Secret", s.Kind)
	assert.Equal(t, "ocjob-config", s.Metadata.Name)
	assert.Equal(t, "Opaque", s.Type)
	require.Contains(t, s.StringData, "config.json")

	cfg, err := config.Parse(strings.NewReader(s.StringData["config.json"]), nil)
	require.NoError(t, err, "the example configuration must load")
	assert.Equal(t, "main", cfg.Sync.Owner)
	assert.Equal(t, []string{"compass"}, cfg.OpenConnectors.Tags)
}

func TestCronJob(t *testing.T) {
	var cj cronJob
	decodeFile(t, "cronjob.yaml", &cj)
	var s secret
	decodeFile(t, "secret.yaml", &s)

	assert.Equal(t, "batch/v1", cj.APIVersion)
	assert.Equal(t, "CronJob", cj.Kind)
	assert.Equal(t, "Forbid", cj.Spec.ConcurrencyPolicy)
	assert.Len(t, strings.Fields(cj.Spec.Schedule), 5, "a five-field cron schedule")

	job := cj.Spec.JobTemplate.Spec
	require.NotNil(t, job.BackoffLimit)
	assert.Zero(t, *job.BackoffLimit, "a failed run waits for the next schedule")
	pod := job.Template.Spec
	assert.Equal(t, "Never", pod.RestartPolicy)
	require.NotNil(t, pod.AutomountServiceAccountToken)
	assert.False(t, *pod.AutomountServiceAccountToken, "ocjob does not talk to the Kubernetes API")

	psc := pod.SecurityContext
	require.NotNil(t, psc.RunAsNonRoot)
	assert.True(t, *psc.RunAsNonRoot)
	require.NotNil(t, psc.RunAsUser)
	assert.NotZero(t, *psc.RunAsUser)
	require.NotNil(t, psc.SeccompProfile)
	assert.Equal(t, "RuntimeDefault", psc.SeccompProfile.Type)

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
	assert.Equal(t, []string{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)

	for _, r := range []string{"cpu", "memory"} {
		assert.NotEmpty(t, c.Resources.Requests[r], "request %s", r)
		assert.NotEmpty(t, c.Resources.Limits[r], "limit %s", r)
	}

	// The configuration Secret is mounted read-only at /config and the
	// arguments point at its config.json key.
	require.Len(t, c.VolumeMounts, 1)
	assert.Equal(t, "/config", c.VolumeMounts[0].MountPath)
	assert.True(t, c.VolumeMounts[0].ReadOnly)
	require.Len(t, pod.Volumes, 1)
	v := pod.Volumes[0]
	assert.Equal(t, c.VolumeMounts[0].Name, v.Name)
	require.NotNil(t, v.Secret)
	assert.Equal(t, s.Metadata.Name, v.Secret.SecretName)
	require.NotNil(t, v.Secret.DefaultMode)
	assert.Zero(t, *v.Secret.DefaultMode&0o007, "the configuration is not world-readable")
	assert.Equal(t, []string{"-config", config.DefaultPath}, c.Args)
	assert.Equal(t, "/config/config.json", config.DefaultPath)
	assert.Contains(t, s.StringData, path.Base(config.DefaultPath))
}

func TestDockerfile(t *testing.T) {
	f, err := os.Open("Dockerfile")
	require.NoError(t, err)
	defer f.Close()
	var froms, users []string
	var build string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			froms = append(froms, rest)
		case "USER":
			users = append(users, rest)
		case "RUN":
			if strings.Contains(rest, "go build") {
				build = rest
			}
		}
	}
	require.NoError(t, sc.Err())
	require.GreaterOrEqual(t, len(froms), 2, "multi-stage build")
	final := froms[len(froms)-1]
	assert.True(t, final == "scratch" || strings.HasPrefix(final, "gcr.io/distroless/static"), "final stage %q", final)
	assert.Contains(t, build, "CGO_ENABLED=0")
	assert.Contains(t, build, "./cmd/ocjob")
	require.NotEmpty(t, users, "the image sets a USER")
	last := users[len(users)-1]
	user, _, _ := strings.Cut(last, ":")
	assert.NotContains(t, []string{"root", "0", ""}, user, "non-root user")
}
