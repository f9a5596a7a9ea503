package remote

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The retry vocabulary shared by the clients of this module (openconnectors
// and compass): how often a request is retried, how long to wait between two
// attempts, and how a server's Retry-After is read. Each client decides which
// failures are worth another attempt; the waits follow these rules.
const (
	// DefaultMaxRetries is how often a client retries one request after a
	// retryable failure (so a request is sent at most DefaultMaxRetries+1
	// times).
	DefaultMaxRetries = 3
	// MaxRetriesLimit is the largest number of retries of one request a
	// client accepts in its configuration.
	MaxRetriesLimit = 10
	// DefaultRetryWaitMin is the wait before the first retry; it doubles
	// with every further retry.
	DefaultRetryWaitMin = 250 * time.Millisecond
	// MaxRetryWait caps every wait between two attempts of one request, a
	// server's Retry-After included (in seconds or as an HTTP date). A
	// server that asks for longer gets MaxRetryWait.
	MaxRetryWait = 30 * time.Second
	// DefaultRetryWaitMax is the longest wait the default backoff computes
	// on its own (without a Retry-After).
	DefaultRetryWaitMax = 5 * time.Second
)

// Backoff returns how long to wait before retry number attempt (1 for the
// first retry). retryAfter is the wait the server asked for with a
// Retry-After header, already capped at MaxRetryWait; zero when it named
// none. The result is capped at MaxRetryWait by the caller.
type Backoff func(attempt int, retryAfter time.Duration) time.Duration

// DefaultBackoff is ExponentialBackoff(DefaultRetryWaitMin,
// DefaultRetryWaitMax).
var DefaultBackoff Backoff = ExponentialBackoff(DefaultRetryWaitMin, DefaultRetryWaitMax)

// ExponentialBackoff returns a policy that honours a server's Retry-After
// and otherwise waits min doubled per attempt, capped at max, with random
// jitter over the upper half of the wait.
func ExponentialBackoff(minWait, maxWait time.Duration) Backoff {
	return func(attempt int, retryAfter time.Duration) time.Duration {
		if retryAfter > 0 {
			return min(retryAfter, MaxRetryWait)
		}
		d := max(minWait, 0)
		for i := 1; i < attempt && d < maxWait; i++ {
			d *= 2
		}
		d = min(d, maxWait, MaxRetryWait)
		if half := d / 2; half > 0 {
			d = half + rand.N(half+1)
		}
		return d
	}
}

// RetryWait applies b (DefaultBackoff when nil) and caps the result at
// MaxRetryWait: the one place where a wait between two attempts is decided.
func RetryWait(b Backoff, attempt int, retryAfter time.Duration) time.Duration {
	if b == nil {
		b = DefaultBackoff
	}
	return min(max(b(attempt, min(retryAfter, MaxRetryWait)), 0), MaxRetryWait)
}

// ParseRetryAfter reads a Retry-After header value: delay seconds or an HTTP
// date, relative to now. The wait is capped at MaxRetryWait. ok is false for
// an empty, negative or unreadable value; a date in the past is a zero wait.
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(MaxRetryWait/time.Second))) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(at.Sub(now), 0), MaxRetryWait), true
}
