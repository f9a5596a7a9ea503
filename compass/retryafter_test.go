package compass

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// rateLimiter answers the first n GraphQL requests with HTTP 429 and a
// Retry-After header, as the gateway's rate limit would.
type rateLimiter struct {
	n, seen    atomic.Int32
	retryAfter string
}

func (l *rateLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, compasstest.GraphQLPath) && l.seen.Add(1) <= l.n.Load() {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		h := http.Header{}
		h.Set("Retry-After", l.retryAfter)
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: h, Request: req,
			Body: io.NopCloser(strings.NewReader("local_rate_limited"))}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestRegistryHonoursRetryAfter(t *testing.T) {
	srv := newServer(t)
	limiter := &rateLimiter{retryAfter: "1"}

	t.Run("the error carries the wait", func(t *testing.T) {
		limiter.n.Store(1)
		limiter.seen.Store(0)
		cfg := testConfig(srv)
		cfg.HTTPClient = &http.Client{Transport: limiter}
		cfg.MaxRetries = -1
		_, err := newRegistry(t, cfg).Applications(context.Background())
		require.Error(t, err)
		assert.ErrorIs(t, err, remote.ErrRetryable)
		var ce *Error
		require.True(t, errors.As(err, &ce))
		assert.Equal(t, http.StatusTooManyRequests, ce.StatusCode)
		assert.Equal(t, time.Second, ce.RetryAfter)
	})

	t.Run("the retry waits at least that long", func(t *testing.T) {
		limiter.n.Store(1)
		limiter.seen.Store(0)
		cfg := testConfig(srv)
		cfg.Backoff = nil // the default backoff honours Retry-After; a caller's decides on its own
		cfg.HTTPClient = &http.Client{Transport: limiter}
		r := newRegistry(t, cfg)
		var waits []time.Duration
		r.policy.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
		_, err := r.Applications(context.Background())
		require.NoError(t, err)
		require.Len(t, waits, 1)
		assert.GreaterOrEqual(t, waits[0], time.Second, "a lower bound, never an upper one")
		assert.Equal(t, int32(2), limiter.seen.Load())
	})
}
