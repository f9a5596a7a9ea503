package openconnectors

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// MaxListPageBytes caps one listing page's body. A page holds at most 200
// instances of a few KB each; anything far larger is not a listing.
const MaxListPageBytes = 64 << 20

// Client is a client of the Open Connectors platform API. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	base    string
	context string
	list    *resty.Client // listing requests: Timeout and MaxListPageBytes per attempt
	docs    *resty.Client // document requests: SpecTimeout and MaxSpecBytes per attempt
	auth    string
	scrub   *redact.Scrubber
	now     func() time.Time
	retries atomic.Int64
}

// authorization is the Authorization value of platform calls.
func (c Config) authorization() string {
	return "User " + c.UserSecret.Reveal() + ", Organization " + c.OrganizationSecret.Reveal()
}

// RegisterSecrets makes s know the secrets a Client of c sends: the user and
// organization secrets and the Authorization value made of them. NewClient
// registers them with c.Scrubber; a program that logs before it builds the
// Client registers them with its own Scrubber this way.
func (c Config) RegisterSecrets(s *redact.Scrubber) {
	s.Add(c.UserSecret.Reveal(), c.OrganizationSecret.Reveal())
	if c.UserSecret != "" && c.OrganizationSecret != "" {
		s.AddCredential(c.authorization())
	}
}

// NewClient validates cfg (see Config.Validate), applies defaults and
// returns a Client. It registers the tenant's secrets and the Authorization
// value made of them with cfg.Scrubber. Errors name the offending fields and
// never contain a secret.
func NewClient(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("openconnectors: config: %w", err)
	}
	base, label, err := ParseHost(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("openconnectors: config: %w", err)
	}
	c := &Client{
		cfg:     cfg,
		base:    base,
		context: label,
		auth:    cfg.authorization(),
		scrub:   cfg.Scrubber,
		now:     time.Now,
	}
	cfg.RegisterSecrets(c.scrub)
	var next http.RoundTripper
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		next = cfg.HTTPClient.Transport
	} else {
		next = endpoint.Transport(cfg.RootCAs)
	}
	c.list = c.newResty(next, cfg.Timeout, MaxListPageBytes)
	c.docs = c.newResty(next, cfg.SpecTimeout, cfg.MaxSpecBytes)
	return c, nil
}

// newResty returns the resty client for one kind of request: every attempt
// gets timeout and reads at most limit bytes of a 200 answer; GETs that fail
// with a transport error, 429 or 5xx are retried by resty.
func (c *Client) newResty(next http.RoundTripper, timeout time.Duration, limit int64) *resty.Client {
	hc := http.Client{}
	if c.cfg.HTTPClient != nil {
		hc = *c.cfg.HTTPClient
	}
	hc.Transport = &attemptTransport{next: next, timeout: timeout, limit: limit}
	hc.CheckRedirect = endpoint.WithCaller(hc.CheckRedirect) // credentials never leave the configured host
	rc := resty.NewWithClient(&hc)
	rc.SetLogger(discardLogger{}).
		SetDisableWarn(true).
		SetDebug(false).
		SetBaseURL(c.base).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", "ocsync-openconnectors").
		SetRetryCount(c.cfg.MaxRetries).
		// resty's own backoff would apply when the wait below is zero; the
		// minimum of zero makes a zero wait (almost) no wait.
		SetRetryWaitTime(0).
		SetRetryMaxWaitTime(remote.MaxRetryWait).
		SetRetryAfter(c.retryWait).
		AddRetryCondition(c.shouldRetry).
		AddRetryHook(c.logRetry)
	return rc
}

// Retries returns how many requests were retried so far (one per retry,
// after the first attempt).
func (c *Client) Retries() int64 { return c.retries.Load() }

// BaseURL returns the base URL of the platform API, for example
// https://api.openconnectors.us10.ext.hana.ondemand.com/elements/api-v2.
func (c *Client) BaseURL() string { return c.base }

// Context returns the host as configured, with its port when the
// configuration named one: the value that tells instances of different
// tenants apart (Compass stores it as connectorInstanceContext).
func (c *Client) Context() string { return c.context }

// Docs returns the API document of instance id (GET
// /instances/{id}/docs?version=-1) byte for byte as served. A document larger
// than Config.MaxSpecBytes (which is never read whole), not JSON, or not a
// Swagger 2.0 / OpenAPI 3 document is a *SpecError wrapping
// remote.ErrInvalidSpec. A refusal concerns this instance only: 401 and 403
// are *APIError values that are neither fatal nor retryable, an unknown
// instance (404) wraps remote.ErrNotFound. Every error names the instance.
func (c *Client) Docs(ctx context.Context, id int64) ([]byte, error) {
	path := "/instances/" + strconv.FormatInt(id, 10) + "/docs"
	_, body, err := c.get(ctx, c.docs, path, url.Values{"version": {"-1"}})
	var tooLarge *tooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &SpecError{InstanceID: id, Reason: fmt.Sprintf("larger than the limit of %d bytes", tooLarge.limit)}
	}
	if err != nil {
		return nil, fmt.Errorf("instance %d: %w", id, err)
	}
	if err := validateSpec(body, c.scrub); err != nil {
		// The reason may quote a version string from the document: scrubbed
		// before it was cut, and quoted once more here.
		return nil, &SpecError{InstanceID: id, Reason: quote(c.scrub, err.Error())}
	}
	return body, nil
}

// tooLargeError reports a body over the caller's limit.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string { return fmt.Sprintf("body larger than %d bytes", e.limit) }

// get sends GET path?query through rc, with resty's retries, and returns the
// headers and the body of a 200 answer.
func (c *Client) get(ctx context.Context, rc *resty.Client, path string, query url.Values) (http.Header, []byte, error) {
	const method = http.MethodGet
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	start := time.Now()
	resp, err := rc.R().
		SetContext(ctx).
		SetHeader("Authorization", c.auth).
		SetQueryParamsFromValues(query).
		SetDoNotParseResponse(true).
		Execute(method, path)
	attempts := 1
	if resp != nil && resp.Request != nil {
		attempts = max(resp.Request.Attempt, 1)
	}
	var (
		status int
		h      http.Header
		body   []byte
	)
	if resp != nil && resp.RawResponse != nil {
		status, h = resp.StatusCode(), resp.Header()
		var rerr error
		if body, rerr = bodyBytes(resp.RawResponse); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			if status != 0 && status != http.StatusOK {
				last := newAPIError(method, path, status, h, body, c.scrub)
				last.Attempts = attempts
				return nil, nil, fmt.Errorf("%s %s: %w (while waiting to retry after: %v)", method, path, cerr, last)
			}
			return nil, nil, fmt.Errorf("%s %s: %w", method, path, cerr)
		}
		var tooLarge *tooLargeError
		if errors.As(err, &tooLarge) {
			return nil, nil, tooLarge
		}
		return nil, nil, &transportError{method: method, path: path, attempts: attempts,
			msg: c.describe(err), err: err, retryable: retryableTransport(err)}
	}
	// Quoting makes the Scrubber rebuild after the tokens of a page were
	// added: only when the record is written.
	if c.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		c.cfg.Logger.Debug("openconnectors: response", "method", method, "path", path, "status", status,
			"requestId", quote(c.scrub, h.Get("Elements-Request-Id")), "attempts", attempts, "elapsed", time.Since(start))
	}
	if status != http.StatusOK {
		apiErr := newAPIError(method, path, status, h, body, c.scrub)
		apiErr.Attempts = attempts
		return nil, nil, apiErr
	}
	return h, body, nil
}

// shouldRetry is the retry condition: a GET whose caller still waits, that
// failed with a retryable transport error, 429 or 5xx.
func (c *Client) shouldRetry(resp *resty.Response, err error) bool {
	if resp == nil || resp.Request == nil || resp.Request.Method != http.MethodGet {
		return false
	}
	if ctx := resp.Request.Context(); ctx != nil && ctx.Err() != nil {
		return false
	}
	if err != nil {
		return retryableTransport(err)
	}
	return resp.RawResponse != nil && retryableStatus(resp.StatusCode())
}

// retryWait is resty's RetryAfter callback: the wait before the next
// attempt, from Config.Backoff and the server's Retry-After, capped by
// remote.RetryWait.
func (c *Client) retryWait(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
	attempt := 1
	var hint time.Duration
	if resp != nil {
		if resp.Request != nil {
			attempt = max(resp.Request.Attempt, 1)
		}
		if resp.RawResponse != nil && retryableStatus(resp.StatusCode()) {
			hint, _ = remote.ParseRetryAfter(resp.Header().Get("Retry-After"), c.now())
		}
	}
	// resty replaces a zero wait by its own backoff; a nanosecond is none.
	return max(remote.RetryWait(c.cfg.Backoff, attempt, hint), time.Nanosecond), nil
}

// logRetry is resty's retry hook: a warning per retry, without secrets.
// resty also calls it after the last attempt, which is not followed by a
// retry and not logged.
func (c *Client) logRetry(resp *resty.Response, err error) {
	if resp == nil || resp.Request == nil || resp.Request.Attempt > c.cfg.MaxRetries {
		return
	}
	c.retries.Add(1)
	path := ""
	if raw := resp.Request.RawRequest; raw != nil {
		path = strings.TrimPrefix(raw.URL.Path, BasePath)
	}
	failure := ""
	switch {
	case err != nil:
		failure = c.describe(err)
	case resp.RawResponse != nil:
		failure = fmt.Sprintf("%d %s", resp.StatusCode(), http.StatusText(resp.StatusCode()))
	}
	c.cfg.Logger.Warn("openconnectors: retrying", "method", resp.Request.Method, "path", path,
		"attempt", resp.Request.Attempt, "error", failure)
}

// describe is a transport failure's text, scrubbed, without the request URL
// (which carries the query).
func (c *Client) describe(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return quote(c.scrub, err.Error())
}

// retryableTransport reports whether a request that got no usable answer
// may succeed when sent again: not when a redirect was refused, the
// server's certificate was not trusted or the body was too large.
func retryableTransport(err error) bool {
	var (
		tooLarge  *tooLargeError
		verifyErr *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, endpoint.ErrRedirectRefused), errors.As(err, &tooLarge), errors.As(err, &verifyErr),
		errors.As(err, &authority), errors.As(err, &hostname), errors.As(err, &invalid):
		return false
	}
	return true
}

// attemptTransport makes one attempt of a request: the round trip and
// reading the body, within timeout and limit. It reads the body itself,
// inside the attempt, because resty reads bodies only after the exchange,
// in small chunks and without looking at Content-Length first: here the
// attempt's timeout bounds a body that trickles in, a body that fails half
// way is a transport error resty's retry condition sees, a body announced
// larger than limit is refused unread, and a document is read into one
// buffer of its announced size.
type attemptTransport struct {
	next    http.RoundTripper
	timeout time.Duration
	limit   int64
}

// RoundTrip implements http.RoundTripper.
func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithTimeout(parent, t.timeout)
	defer cancel()
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, t.failure(parent, ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Only the start of an error body is quoted; a read that fails
		// leaves what arrived, as the status says what matters.
		prefix, _ := io.ReadAll(io.LimitReader(resp.Body, endpoint.MaxErrorBodyBytes))
		resp.Body, resp.ContentLength = &bufferedBody{Reader: bytes.NewReader(prefix), data: prefix}, int64(len(prefix))
		return resp, nil
	}
	if resp.ContentLength > t.limit {
		return nil, &tooLargeError{limit: t.limit}
	}
	// One buffer of the announced size; bytes.MinRead spare bytes let
	// ReadFrom reach the end without growing it.
	buf := bytes.NewBuffer(make([]byte, 0, max(min(resp.ContentLength, t.limit), 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, t.limit+1)); err != nil {
		return nil, t.failure(parent, ctx, err)
	}
	if int64(buf.Len()) > t.limit {
		return nil, &tooLargeError{limit: t.limit}
	}
	data := buf.Bytes()
	resp.Body, resp.ContentLength = &bufferedBody{Reader: bytes.NewReader(data), data: data}, int64(len(data))
	return resp, nil
}

// failure names an attempt that ran out of its own time as such.
func (t *attemptTransport) failure(parent, attempt context.Context, err error) error {
	if parent.Err() == nil && attempt.Err() != nil {
		return fmt.Errorf("no complete response within %v: %w", t.timeout, context.DeadlineExceeded)
	}
	return err
}

// bufferedBody is a body attemptTransport has read whole.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

// Close implements io.Closer.
func (*bufferedBody) Close() error { return nil }

// bodyBytes returns the body attemptTransport read. An http.Client with a
// Timeout of its own wraps the body, which is then copied.
func bodyBytes(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	if b, ok := resp.Body.(*bufferedBody); ok {
		return b.data, nil
	}
	return io.ReadAll(resp.Body)
}

// discardLogger silences resty: its messages may carry request URLs and it
// has nothing to say that this package does not log itself.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

var _ resty.Logger = discardLogger{}
