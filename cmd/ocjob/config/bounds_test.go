package config_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
)

// countingReader counts how many bytes were read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endless yields spaces forever: valid JSON white space that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestSizeLimit(t *testing.T) {
	assert.Equal(t, 1<<20, config.MaxFileBytes)
	limit := fmt.Sprint(config.MaxFileBytes)

	t.Run("a document at the limit loads", func(t *testing.T) {
		doc := documentOf(t, minimal())
		padded := append(bytes.Repeat([]byte(" "), config.MaxFileBytes-len(doc)), doc...)
		require.Len(t, padded, config.MaxFileBytes)
		_, err := config.Parse(bytes.NewReader(padded), noEnv)
		require.NoError(t, err)
	})
	t.Run("one byte more is an error naming the limit", func(t *testing.T) {
		doc := documentOf(t, minimal())
		padded := append(bytes.Repeat([]byte(" "), config.MaxFileBytes-len(doc)+1), doc...)
		_, err := config.Parse(bytes.NewReader(padded), noEnv)
		require.ErrorIs(t, err, config.ErrInvalid)
		assert.Contains(t, err.Error(), limit)
	})
	t.Run("an endless reader is not read whole", func(t *testing.T) {
		r := &countingReader{r: endless{}}
		_, err := config.Parse(r, noEnv)
		require.ErrorIs(t, err, config.ErrInvalid)
		assert.Contains(t, err.Error(), limit)
		assert.LessOrEqual(t, r.n, int64(2*config.MaxFileBytes))
	})
	t.Run("a large file is refused by its size", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "config.json")
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(64*config.MaxFileBytes))
		require.NoError(t, f.Close())
		_, err = config.Load(context.Background(), path, noEnv)
		require.ErrorIs(t, err, config.ErrInvalid)
		assert.Contains(t, err.Error(), limit)
		assert.Contains(t, err.Error(), path)
	})
}

func TestLoadCancelledBeforehand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := config.Load(ctx, filepath.Join("testdata", "original.json"), noEnv)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, config.ErrInvalid)
	var ce *config.Error
	require.ErrorAs(t, err, &ce)
}

func TestDuplicateKeys(t *testing.T) {
	base := documentOf(t, minimal())
	tests := []struct {
		name, doc, key, substr string
	}{
		{"top level", `{"logLevel":"Info","logLevel":"Debug",` + string(base[1:]), "logLevel", "given twice"},
		{"nested", strings.Replace(string(base), `"tenantId":"tenant-1"`, `"tenantId":"tenant-1","tenantId":"tenant-2"`, 1), "compass.tenantId", "given twice"},
		{"secret, value not shown", strings.Replace(string(base), `"userSecret":"user-secret-value"`, `"userSecret":"user-secret-value","userSecret":"second-secret-value"`, 1), "openConnectors.userSecret", "given twice"},
		{"section", `{"sync":{},"sync":{"owner":"a"},` + string(base[1:]), "sync", "given twice"},
		{"case variant", strings.Replace(string(base), `"tenantId":"tenant-1"`, `"tenantId":"tenant-1","TENANTID":"tenant-2"`, 1), "compass.tenantId", `as "tenantId" and "TENANTID"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader(tt.doc), noEnv)
			assert.Nil(t, cfg)
			got := problemsOf(t, err)
			require.Len(t, got, 1, "%q", got)
			assert.True(t, strings.HasPrefix(got[0], tt.key+": "), "want key %s, got %q", tt.key, got[0])
			assert.Contains(t, got[0], tt.substr)
			assert.NotContains(t, err.Error(), "secret-value")
		})
	}
	t.Run("an unknown key twice is reported once", func(t *testing.T) {
		_, err := config.Parse(strings.NewReader(`{"extra":1,"extra":2,`+string(base[1:])), noEnv)
		assert.Equal(t, []string{"extra: unknown key"}, problemsOf(t, err))
	})
}

func TestProblemsInDocumentOrder(t *testing.T) {
	base := documentOf(t, minimal())
	doc := `{"zeta":1,"alpha":2,` + string(base[1:])
	_, err := config.Parse(strings.NewReader(doc), noEnv)
	assert.Equal(t, []string{"zeta: unknown key", "alpha: unknown key"}, problemsOf(t, err))
}

func TestErrorUnwrap(t *testing.T) {
	cause := errors.New("cause")
	e := &config.Error{Key: "compass.caFile", Problem: "unusable", Err: cause}
	assert.ErrorIs(t, e, cause)
	assert.ErrorIs(t, e, config.ErrInvalid)
	assert.Equal(t, "config: compass.caFile: unusable", e.Error())
}

// documentOf is doc as compact JSON, keys sorted.
func documentOf(t *testing.T, doc map[string]any) []byte {
	t.Helper()
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	return data
}
