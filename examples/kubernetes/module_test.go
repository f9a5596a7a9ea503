package kubernetes_test

import (
	"os"
	"path/filepath"
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
			assert.NotContains(t, r.Mod.Path+"/", prefix, "the root module requires %s", r.Mod.Path)
		}
	}
}
