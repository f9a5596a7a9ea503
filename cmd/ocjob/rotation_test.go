package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// The user secret comes from a file that changes between the runs of one
// Controller, as a rotated Kubernetes Secret does under a running service.
func TestSecretFileRotatedBetweenRuns(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2)
	path := filepath.Join(t.TempDir(), "user-secret")
	write := func(v string) { require.NoError(t, os.WriteFile(path, []byte(v), 0o600)) }
	write(userSecret + "\n") // as kubectl create secret --from-file keeps it
	doc := f.document()
	oc := doc["openConnectors"].(map[string]any)
	delete(oc, "userSecret")
	oc["userSecretFile"] = path
	cfg, err := config.Load(ctx, writeConfig(t, doc), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{path}, cfg.Trimmed, "the trailing newline is removed, and said so")
	ctl, err := config.NewController(cfg, config.Options{})
	require.NoError(t, err)

	o := ctl.RunOnce(ctx)
	require.Equal(t, ocsync.ExitOK, o.ExitCode(), "%v", o.Err)
	first := ctl.Engine
	o = ctl.RunOnce(ctx)
	require.Equal(t, ocsync.ExitOK, o.ExitCode(), "%v", o.Err)
	assert.Same(t, first, ctl.Engine, "an unchanged file keeps the clients")

	const rotated = "user-ROTATED-55aa11"
	write(rotated)
	o = ctl.RunOnce(ctx)
	assert.Equal(t, ocsync.ExitFailed, o.ExitCode())
	require.ErrorIs(t, o.Err, ocsync.ErrListFailed, "the platform refused the new secret: it was sent")
	assert.NotSame(t, first, ctl.Engine)
	assert.NotContains(t, o.Err.Error(), rotated)

	write(userSecret)
	o = ctl.RunOnce(ctx)
	assert.Equal(t, ocsync.ExitOK, o.ExitCode(), "%v", o.Err)
	assert.Equal(t, 2, o.Report.Summary.Unchanged)

	write("user secret with spaces")
	o = ctl.RunOnce(ctx)
	assert.Equal(t, ocsync.ExitFailed, o.ExitCode())
	require.ErrorIs(t, o.Err, ocsync.ErrPrepare)
	assert.Contains(t, o.Err.Error(), "openConnectors.userSecretFile: contains white space (read from "+path+")")
	assert.NotContains(t, o.Err.Error(), "spaces")
}

// countingDialer counts the connections a transport holds open.
type countingDialer struct{ open atomic.Int64 }

type countedConn struct {
	net.Conn
	d    *countingDialer
	once atomic.Bool
}

func (c *countedConn) Close() error {
	if c.once.CompareAndSwap(false, true) {
		c.d.open.Add(-1)
	}
	return c.Conn.Close()
}

func (d *countingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.open.Add(1)
	return &countedConn{Conn: conn, d: d}, nil
}

// settle waits, boundedly, until cond holds; it reports whether it did.
func settle(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// Runs of one Controller leave no connection and no goroutine behind:
// their number does not grow with the number of runs.
func TestRunsLeaveNothingBehind(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 6)
	cfg, err := config.Load(ctx, writeConfig(t, f.document()), nil)
	require.NoError(t, err)
	var dialer countingDialer
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.dial
	ctl, err := config.NewController(cfg, config.Options{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)

	var after []int
	for run := range 8 {
		o := ctl.RunOnce(ctx)
		require.Equal(t, ocsync.ExitOK, o.ExitCode(), "%v", o.Err)
		assert.True(t, settle(func() bool { return dialer.open.Load() == 0 }),
			"run %d left %d connections open", run, dialer.open.Load())
		if run == 0 {
			after = append(after, runtime.NumGoroutine())
			continue
		}
		first := after[0]
		assert.True(t, settle(func() bool { return runtime.NumGoroutine() <= first }),
			"run %d: %d goroutines, %d after the first run", run, runtime.NumGoroutine(), first)
	}
	assert.Positive(t, f.oc.Count(octest.EndpointInstances), "the runs reached the platform")
}
