package ocjob_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ocjob "github.com/kyma-incubator/open-connectors-job"
)

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}
	for content, want := range map[string]struct {
		value   string
		trimmed bool
	}{
		"s3cr3t-value":       {"s3cr3t-value", false},
		"s3cr3t-value\n":     {"s3cr3t-value", true},
		"s3cr3t-value\r\n":   {"s3cr3t-value", true},
		"s3cr3t-value\n\n":   {"s3cr3t-value\n", true}, // one newline only: the rest is the client's to refuse
		"s3cr3t\tvalue":      {"s3cr3t\tvalue", false},
		"s3cr3t-value \n":    {"s3cr3t-value ", true},
		"\ns3cr3t-value-end": {"\ns3cr3t-value-end", false},
	} {
		v, trimmed, err := ocjob.ReadSecretFile(context.Background(), write("secret", content))
		require.NoError(t, err)
		assert.Equal(t, want.value, v, "%q", content)
		assert.Equal(t, want.trimmed, trimmed, "%q", content)
	}

	big := write("big", strings.Repeat("s", ocjob.MaxSecretFileBytes+1))
	_, _, err := ocjob.ReadSecretFile(context.Background(), big)
	require.ErrorIs(t, err, ocjob.ErrTooLarge)
	assert.Contains(t, err.Error(), "cannot read "+big)
	assert.NotContains(t, err.Error(), "sss")

	_, _, err = ocjob.ReadSecretFile(context.Background(), filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "cannot read "+filepath.Join(dir, "missing")+": no such file")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = ocjob.ReadSecretFile(ctx, write("secret", "s3cr3t-value"))
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "stopped")
}
