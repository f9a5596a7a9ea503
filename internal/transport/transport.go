// Package transport holds the HTTP policy that every client of this module
// shares (the openconnectors client on resty, the compass Registry on
// genqlient): which failures are worth another attempt and for which
// requests, how long to wait before it (Retry-After, the backoff and its
// cap, one limit on retries), how much of an answer is read, how remote
// text is scrubbed before an error quotes it, how URLs are kept out of
// errors, and the redirect rule (from package endpoint). Each client plugs
// its own HTTP library into it; the rules exist here once.
//
// # Which requests are sent again
//
// A request that failed with a retryable failure (RetryableStatus,
// RetryableError) is sent again, at most Settings.MaxRetries times, only
// when sending it twice cannot do harm: a request of an idempotent method
// (Idempotent: GET, HEAD, OPTIONS, PUT, DELETE), or a POST its client
// declares idempotent (a GraphQL query, a mutation that sets a value). A
// POST that creates something is sent again only after the client looked
// up that the earlier attempt took no effect, and never after a timeout of
// its own or of a gateway, since the server may still be processing it.
package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// RetryableStatus reports whether an answer with this status is worth
// another attempt: 408 Request Timeout, 429 Too Many Requests and every
// 5xx.
func RetryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500 && code <= 599
}

// Idempotent reports whether a request of this method may be sent twice
// without changing the outcome (RFC 9110, section 9.2.2).
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// RetryableError reports whether a request that got no usable answer may
// succeed when sent again: not when the run was cancelled, a redirect was
// refused, the server's certificate was not trusted or the answer was too
// large; an HTML page (*PageError) when its status is retryable; a timeout
// and any other network failure may.
func RetryableError(err error) bool {
	var page *PageError
	if errors.As(err, &page) {
		return RetryableStatus(page.StatusCode)
	}
	var (
		tooLarge  *TooLargeError
		verifyErr *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, endpoint.ErrRedirectRefused),
		errors.As(err, &tooLarge), errors.As(err, &verifyErr), errors.As(err, &authority),
		errors.As(err, &hostname), errors.As(err, &invalid):
		return false
	}
	return true
}

// RetryAfter returns the wait an answer with a retryable status asked for
// in its Retry-After header (remote.ParseRetryAfter, capped at
// remote.MaxRetryWait); ok is false for any other answer or when it named
// no readable wait.
func RetryAfter(resp *http.Response, now time.Time) (wait time.Duration, ok bool) {
	if resp == nil || !RetryableStatus(resp.StatusCode) {
		return 0, false
	}
	return remote.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
}

// Quote returns s scrubbed and cut by q (redact.Scrubber.Quote), with runs
// of white space made single spaces: how every text a remote sent enters
// an error or a log record.
func Quote(q *redact.Scrubber, s string) string {
	if s == "" {
		return ""
	}
	return strings.Join(strings.Fields(q.Quote(s)), " ")
}

// Unwrapped returns the error a *url.Error wraps, without the URL (which may
// carry a query), or err itself.
func Unwrapped(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// Describe is the text of a failed request for an error or a log record:
// without the request URL, scrubbed and cut by Quote.
func Describe(q *redact.Scrubber, err error) string {
	return Quote(q, Unwrapped(err).Error())
}

// Policy is the retry policy of one client, made by Settings.Policy from
// its defaulted settings.
type Policy struct {
	// MaxRetries is how often one request is sent again; 0 never.
	MaxRetries int
	// Backoff decides each wait; the wait is capped by remote.RetryWait.
	Backoff remote.Backoff
	// Logger receives a warning per retry.
	Logger *slog.Logger
	// Now is the clock Retry-After dates are read against.
	Now func() time.Time
	// Sleep waits d or until ctx is done; nil means a timer. Tests replace
	// it so that no verdict depends on the clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Again reports whether a request whose attempt number attempt (1 for the
// first) failed may be sent once more.
func (p *Policy) Again(attempt int) bool { return attempt <= p.MaxRetries }

// Wait returns the wait before retry number attempt (1 for the first
// retry): the Backoff's decision, given the server's Retry-After (zero when
// it named none), capped by remote.RetryWait. The default backoff waits at
// least what Retry-After asked for; a Backoff of the caller decides on its
// own.
func (p *Policy) Wait(attempt int, retryAfter time.Duration) time.Duration {
	return remote.RetryWait(p.Backoff, attempt, retryAfter)
}

// Pause waits d, or until ctx is done (its error is returned then).
func (p *Policy) Pause(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// LogRetry writes the warning of a retry, alike for every client: msg, the
// request's attributes (never a URL with its query, never a secret), the
// number of the attempt that failed, the scrubbed failure and the wait
// before the next attempt.
func (p *Policy) LogRetry(ctx context.Context, msg string, attempt int, failure string, wait time.Duration, attrs ...slog.Attr) {
	attrs = append(attrs, slog.Int("attempt", attempt), slog.String("error", failure), slog.Duration("wait", wait))
	p.Logger.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// Attempts renders the number of attempts a final error reports: "" for
// one, " after n attempts" for more.
func Attempts(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" after %d attempts", n)
}
