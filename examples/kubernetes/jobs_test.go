package kubernetes_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

// approveDigest is the form of a deletions digest that ocjob -approve
// accepts (cmd/ocjob).
var approveDigest = regexp.MustCompile(`^sha256:[0-9a-f]{32}$`)

// readJob decodes one Job manifest strictly.
func readJob(t *testing.T, file string) batchv1.Job {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	js, err := yaml.YAMLToJSONStrict(data)
	require.NoError(t, err, file)
	objs := newObjects()
	objs.add(t, file, js)
	require.Len(t, objs.jobs, 1, file)
	return objs.jobs[0]
}

// TestManualJobs checks the Jobs for the dry run and the approval: each is
// the base CronJob's job with the one extra argument, so that it runs with
// the same image, configuration, credentials and security settings.
func TestManualJobs(t *testing.T) {
	base := renderWithOperatorCredentials(t, baseDir)
	require.Len(t, base.cronJobs, 1)
	scheduled := base.cronJobs[0].Spec.JobTemplate.Spec

	for file, wantArgs := range map[string][]string{
		"dry-run.yaml": {"-dry-run"},
		"approve.yaml": {"-approve", "sha256:REPLACE-WITH-THE-DIGEST"},
	} {
		t.Run(file, func(t *testing.T) {
			job := readJob(t, filepath.Join(jobsDir, file))
			assert.True(t, strings.HasPrefix(job.Name, "ocjob-"), job.Name)

			// The Job is the scheduled one but for its extra arguments
			// and its labels.
			got := job.Spec.DeepCopy()
			container := &got.Template.Spec.Containers[0]
			require.True(t, slices.Equal(scheduled.Template.Spec.Containers[0].Args, container.Args[:len(container.Args)-len(wantArgs)]),
				"args start with the CronJob's: %q", container.Args)
			assert.Equal(t, wantArgs, container.Args[len(container.Args)-len(wantArgs):])
			container.Args = scheduled.Template.Spec.Containers[0].Args
			got.Template.Labels = scheduled.Template.Labels
			assert.Equal(t, scheduled, *got, "the CronJob's job with one more argument")
			assert.Equal(t, "ocjob", job.Spec.Template.Labels["app.kubernetes.io/name"])

			// It loads the base's configuration as the CronJob does.
			checkPod(t, base, job.Spec.Template.Spec)
		})
	}

	// An unedited approval is refused as a usage error; with the digest of
	// a dry run in place it is a valid approval.
	approve := readJob(t, filepath.Join(jobsDir, "approve.yaml"))
	args := approve.Spec.Template.Spec.Containers[0].Args
	placeholder := args[len(args)-1]
	assert.False(t, approveDigest.MatchString(placeholder), "the placeholder is not a digest")
	data, err := os.ReadFile(filepath.Join(jobsDir, "approve.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "sed 's/"+placeholder+"/sha256:<digest>/'", "the comment's sed command replaces the placeholder")
	assert.True(t, approveDigest.MatchString("sha256:3f1c0d6e9b2a4c5d8e7f6a5b4c3d2e1f"))
}
