package transport

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

func TestReadAll(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	for _, length := range []int64{-1, 0, 10, int64(len(body)), int64(len(body)) + 7} {
		t.Run(fmt.Sprint(length), func(t *testing.T) {
			got, err := ReadAll(iotest.OneByteReader(strings.NewReader(body)), length, -1)
			require.NoError(t, err)
			assert.Equal(t, body, string(got))
		})
	}
	_, err := ReadAll(iotest.ErrReader(errors.New("broken")), 10, -1)
	assert.EqualError(t, err, "broken")

	var tooLarge *TooLargeError
	_, err = ReadAll(strings.NewReader(body), -1, 100)
	require.ErrorAs(t, err, &tooLarge, "a body longer than announced")
	assert.Equal(t, int64(100), tooLarge.Limit)
	_, err = ReadAll(iotest.ErrReader(errors.New("never read")), 101, 100)
	require.ErrorAs(t, err, &tooLarge, "announced too large: refused unread")
	got, err := ReadAll(strings.NewReader(body[:100]), -1, 100)
	require.NoError(t, err)
	assert.Len(t, got, 100, "exactly the limit is accepted")
}

func TestRetryableStatus(t *testing.T) {
	for code := 100; code < 600; code++ {
		want := code == 408 || code == 429 || code >= 500
		assert.Equal(t, want, RetryableStatus(code), "status %d", code)
	}
}

func TestIdempotent(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "OPTIONS", "PUT", "DELETE"} {
		assert.True(t, Idempotent(m), m)
	}
	for _, m := range []string{"POST", "PATCH", "CONNECT", ""} {
		assert.False(t, Idempotent(m), m)
	}
}

func TestRetryableError(t *testing.T) {
	assert.True(t, RetryableError(errors.New("connection reset")))
	assert.True(t, RetryableError(context.DeadlineExceeded))
	assert.False(t, RetryableError(nil))
	assert.False(t, RetryableError(context.Canceled))
	assert.False(t, RetryableError(fmt.Errorf("x: %w", endpoint.ErrRedirectRefused)))
	assert.False(t, RetryableError(&url.Error{Op: "Get", URL: "u", Err: &TooLargeError{Limit: 1}}))
	assert.False(t, RetryableError(x509.UnknownAuthorityError{}))
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	resp := func(code int, v string) *http.Response {
		return &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {v}}}
	}
	for _, code := range []int{408, 429, 500, 503} {
		wait, ok := RetryAfter(resp(code, "7"), now)
		assert.True(t, ok)
		assert.Equal(t, 7*time.Second, wait)
	}
	wait, ok := RetryAfter(resp(429, "3600"), now)
	assert.True(t, ok)
	assert.Equal(t, remote.MaxRetryWait, wait, "capped")
	_, ok = RetryAfter(resp(400, "7"), now)
	assert.False(t, ok, "not on a status that is not retried")
	_, ok = RetryAfter(resp(429, "soon"), now)
	assert.False(t, ok)
	_, ok = RetryAfter(nil, now)
	assert.False(t, ok)
}

func TestQuoteAndDescribe(t *testing.T) {
	q := redact.NewScrubber()
	q.Add("s3cr3t-value-123")
	assert.Equal(t, "a b c", Quote(q, "a \n\t b   c"))
	assert.Empty(t, Quote(q, ""))
	err := &url.Error{Op: "Get", URL: "https://h/p?token=s3cr3t-value-123", Err: errors.New("refused s3cr3t-value-123")}
	d := Describe(q, err)
	assert.NotContains(t, d, "s3cr3t")
	assert.NotContains(t, d, "https://h", "no URL")
	assert.Contains(t, d, "refused")
}

func TestSettings(t *testing.T) {
	errs := Settings{Timeout: -time.Second, MaxRetries: remote.MaxRetriesLimit + 1, RootCAs: x509.NewCertPool(),
		HTTPClient: &http.Client{Transport: http.DefaultTransport}}.Validate()
	var texts []string
	for _, err := range errs {
		var fe *remote.FieldError
		require.ErrorAs(t, err, &fe)
		texts = append(texts, err.Error())
	}
	assert.Equal(t, []string{"Timeout: -1s is negative", "MaxRetries: 11 is larger than 10",
		"RootCAs: cannot be combined with an HTTPClient that has its own Transport"}, texts)
	assert.Empty(t, Settings{MaxRetries: remote.MaxRetriesLimit}.Validate())
	assert.EqualError(t, CheckDuration("SpecTimeout", -time.Second), "SpecTimeout: -1s is negative")
	assert.NoError(t, CheckDuration("SpecTimeout", 0))

	d := Settings{}.WithDefaults(5 * time.Second)
	assert.Equal(t, 5*time.Second, d.Timeout)
	assert.Equal(t, remote.DefaultMaxRetries, d.MaxRetries)
	assert.NotNil(t, d.Backoff)
	assert.NotNil(t, d.Scrubber)
	assert.NotNil(t, d.Logger)
	assert.Zero(t, Settings{MaxRetries: -1}.WithDefaults(time.Second).MaxRetries, "negative: no retries")
	assert.Equal(t, 7, Settings{MaxRetries: 7, Timeout: time.Minute}.WithDefaults(time.Second).MaxRetries)

	caller := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	hc := Settings{HTTPClient: caller}.Client(http.DefaultTransport)
	assert.NotSame(t, caller, hc)
	assert.Equal(t, time.Minute, hc.Timeout)
	assert.Nil(t, caller.Transport, "the caller's value is never modified")
	first, _ := http.NewRequest(http.MethodGet, "https://a.example.com/", nil)
	other, _ := http.NewRequest(http.MethodGet, "https://b.example.com/", nil)
	assert.ErrorIs(t, hc.CheckRedirect(other, []*http.Request{first}), endpoint.ErrRedirectRefused)
}

func TestPolicy(t *testing.T) {
	var logs strings.Builder
	p := Settings{MaxRetries: 2, Backoff: func(attempt int, ra time.Duration) time.Duration { return time.Duration(attempt)*time.Hour + ra },
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}.WithDefaults(time.Second).Policy()
	assert.True(t, p.Again(1))
	assert.True(t, p.Again(2))
	assert.False(t, p.Again(3))
	assert.Equal(t, remote.MaxRetryWait, p.Wait(1, time.Second), "capped")
	p.Backoff = func(int, time.Duration) time.Duration { return 0 }
	assert.Zero(t, p.Wait(1, time.Second), "a caller's backoff decides")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, p.Pause(ctx, time.Hour), context.Canceled, "a cancelled wait ends at once")
	assert.NoError(t, p.Pause(t.Context(), 0))
	var slept []time.Duration
	p.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	require.NoError(t, p.Pause(t.Context(), time.Hour))
	assert.Equal(t, []time.Duration{time.Hour}, slept)

	p.LogRetry(t.Context(), "x: retrying", 2, "502 Bad Gateway", 3*time.Second, slog.String("operation", "viewer"))
	assert.Contains(t, logs.String(), `level=WARN msg="x: retrying" operation=viewer attempt=2 error="502 Bad Gateway" wait=3s`)
	assert.Empty(t, Attempts(1))
	assert.Equal(t, " after 4 attempts", Attempts(4))
}

func TestAttempt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = io.WriteString(w, strings.Repeat("x", 101))
		case "/error":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, strings.Repeat("e", endpoint.MaxErrorBodyBytes+10))
		case "/slow":
			<-r.Context().Done()
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &Attempt{Next: http.DefaultTransport, Limit: 100}}

	resp, err := hc.Get(srv.URL + "/ok")
	require.NoError(t, err)
	body, err := Body(resp)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(body))

	_, err = hc.Get(srv.URL + "/big")
	var tooLarge *TooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.False(t, RetryableError(err))

	resp, err = hc.Get(srv.URL + "/error")
	require.NoError(t, err)
	body, err = Body(resp)
	require.NoError(t, err)
	assert.Len(t, body, endpoint.MaxErrorBodyBytes, "only the start of an error body")

	// The attempt's own timeout is what is tested: the server never
	// answers, so the verdict does not depend on the machine's speed.
	hc = &http.Client{Transport: &Attempt{Next: http.DefaultTransport, Timeout: 50 * time.Millisecond, Limit: 100}}
	_, err = hc.Get(srv.URL + "/slow")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "no complete response within 50ms")
}

func TestAttemptObservesEveryAttempt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/large":
			_, _ = io.WriteString(w, strings.Repeat("x", 64))
		case "/missing":
			http.NotFound(w, r)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	var seen []remote.Request
	s := Settings{RequestObserver: func(r remote.Request) { seen = append(seen, r) }}
	client := s.Client(s.Attempt(remote.Compass, http.DefaultTransport, 0, 16))
	for _, path := range []string{"/large", "/missing", "/busy"} {
		resp, err := client.Get(srv.URL + path)
		if err == nil {
			resp.Body.Close()
		}
	}
	unreachable := httptest.NewServer(http.NotFoundHandler())
	unreachable.Close()
	_, err := client.Head(unreachable.URL)
	require.Error(t, err)

	require.Len(t, seen, 4)
	var outcomes []string
	for _, r := range seen {
		assert.Equal(t, remote.Compass, r.Remote)
		assert.GreaterOrEqual(t, r.Duration, time.Duration(0))
		outcomes = append(outcomes, r.Method+" "+r.Outcome())
	}
	assert.Equal(t, []string{"GET error", "GET 4xx", "GET 5xx", "HEAD error"}, outcomes,
		"an answer larger than the limit is no complete answer")
	assert.Equal(t, http.StatusNotFound, seen[1].Status)

	// Without an observer nothing is told, and nothing fails.
	quiet := Settings{}
	resp, err := quiet.Client(quiet.Attempt(remote.Compass, http.DefaultTransport, 0, -1)).Get(srv.URL + "/missing")
	require.NoError(t, err)
	resp.Body.Close()
}
