package compass

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// TestRetriesAreLoggedAndCounted: like the Open Connectors client, the
// Registry logs each retry as a warning with the attempt and the wait, and
// its final error says how many attempts failed; no secret appears.
func TestRetriesAreLoggedAndCounted(t *testing.T) {
	srv := newServer(t)
	var logs bytes.Buffer
	cfg := testConfig(srv)
	cfg.MaxRetries = 2
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	srv.AddFault("applications", compasstest.Fault{Status: 502, Times: 10})
	_, err := newRegistry(t, cfg).Applications(t.Context())
	require.ErrorIs(t, err, remote.ErrRetryable)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 3, ce.Attempts)
	assert.Contains(t, err.Error(), "(HTTP 502) after 3 attempts")

	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, `msg="compass: retrying"`), "no record after the last attempt")
	assert.Contains(t, out, `level=WARN msg="compass: retrying" operation=applications attempt=1 error=`)
	assert.Contains(t, out, "attempt=2")
	assert.Contains(t, out, "wait=1ms")
	assert.NotContains(t, out, compasstest.DefaultClientSecret)

	srv.AddFault("viewer", compasstest.Fault{Status: 400, Times: 1})
	_, _, err = newRegistry(t, cfg).Viewer(t.Context())
	require.ErrorAs(t, err, &ce)
	assert.Zero(t, ce.Attempts, "one attempt says nothing of attempts")
	assert.NotContains(t, err.Error(), "attempts")
}
