package kubernetes_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
)

// TestRootModuleHasNoKubernetes checks that the Kubernetes, kustomize, Helm
// and Prometheus server modules the manifests' tests need stay in this
// module: the library and the job do not depend on them.
func TestRootModuleHasNoKubernetes(t *testing.T) {
	file := filepath.Join(repoRoot, "go.mod")
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	mod, err := modfile.Parse(file, data, nil)
	require.NoError(t, err)
	for _, r := range mod.Require {
		for _, prefix := range []string{"k8s.io/", "sigs.k8s.io/", "helm.sh/", "github.com/prometheus/prometheus"} {
			assert.False(t, strings.HasPrefix(r.Mod.Path+"/", prefix), "the root module requires %s", r.Mod.Path)
		}
	}
}

// TestChangelog checks the changelog's form (Keep a Changelog, semantic
// versions) and that the chart's appVersion and the manifests' image tag are
// released versions.
func TestChangelog(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "CHANGELOG.md"))
	require.NoError(t, err)
	text := string(data)
	require.Contains(t, text, "\n## [Unreleased]\n")
	releases := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$`).FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, releases)
	for _, h := range regexp.MustCompile(`(?m)^## .*$`).FindAllString(text, -1) {
		assert.Regexp(t, `^## \[(Unreleased|\d+\.\d+\.\d+)\]`, h)
	}
	for _, r := range releases {
		assert.Contains(t, text, "\n["+r[1]+"]: ", "a link for %s", r[1])
	}
	latest := releases[0][1]

	chartFile, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(chartFile), "\nappVersion: \""+latest+"\"\n", "the chart deploys the latest release")
	cronJob, err := os.ReadFile("base/job/cronjob.yaml")
	require.NoError(t, err)
	assert.Contains(t, string(cronJob), "image: registry.example.org/ocjob:"+latest+"\n")
}
