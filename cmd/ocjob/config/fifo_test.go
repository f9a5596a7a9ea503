//go:build unix

package config_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
)

func fifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	return path
}

type loaded struct {
	cfg *config.Config
	err error
}

func loadAsync(ctx context.Context, path string) <-chan loaded {
	done := make(chan loaded, 1)
	go func() {
		cfg, err := config.Load(ctx, path, noEnv)
		done <- loaded{cfg, err}
	}()
	return done
}

// A FIFO whose writer never finishes the document: Load returns when the
// context is cancelled, as on SIGTERM.
func TestLoadStopsOnCancelWhileReading(t *testing.T) {
	path := fifo(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := loadAsync(ctx, path)

	w, err := os.OpenFile(path, os.O_WRONLY, 0) // returns once Load has opened the FIFO
	require.NoError(t, err)
	defer w.Close()
	_, err = w.WriteString(`{"logLevel": "Info", `)
	require.NoError(t, err)

	cancel()
	res := <-done
	assert.Nil(t, res.cfg)
	require.ErrorIs(t, res.err, context.Canceled)
	require.ErrorIs(t, res.err, config.ErrInvalid)
	assert.Contains(t, res.err.Error(), path)
}

// A FIFO nobody writes to: opening it blocks, and Load still returns when
// the context is cancelled.
func TestLoadStopsOnCancelWhileOpening(t *testing.T) {
	path := fifo(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := loadAsync(ctx, path)
	cancel()
	res := <-done
	require.ErrorIs(t, res.err, context.Canceled)

	// Release the reader still waiting in open(2), if it got there:
	// opening the write end completes both opens. Without a reader the
	// non-blocking open fails with ENXIO, and there is nothing to release.
	w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err == nil {
		require.NoError(t, w.Close())
	} else {
		require.ErrorIs(t, err, syscall.ENXIO)
	}
}

// A FIFO that delivers a whole document loads like a file.
func TestLoadFromFIFO(t *testing.T) {
	path := fifo(t)
	done := loadAsync(context.Background(), path)
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join("testdata", "original.json"))
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	res := <-done
	require.NoError(t, res.err)
	assert.Equal(t, "app-prefix", res.cfg.Source.ApplicationPrefix)
}
