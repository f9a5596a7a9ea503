package openconnectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/kyma-incubator/open-connectors-job/internal/transport"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// MaxListPageBytes caps one listing page's body. A page holds at most 200
// instances of a few KB each; anything far larger is not a listing.
const MaxListPageBytes = 64 << 20

// Client is a client of the Open Connectors platform API. It is safe for
// concurrent use.
type Client struct {
	cfg       Config
	base      string
	context   string
	list      *resty.Client // listing requests: Timeout and MaxListPageBytes per attempt
	docs      *resty.Client // document requests: SpecTimeout and MaxSpecBytes per attempt
	auth      string
	scrub     *redact.Scrubber
	policy    *transport.Policy
	transport http.RoundTripper // where both resty clients send through
	retries   atomic.Int64
	// waits holds the wait logRetry decided for a request, until resty
	// asks retryWait for it (the hook runs first).
	waits sync.Map // *resty.Request → time.Duration
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
		policy:  cfg.settings().Policy(),
	}
	cfg.RegisterSecrets(c.scrub)
	next := cfg.settings().BaseTransport()
	c.transport = next
	c.list = c.newResty(next, cfg.Timeout, MaxListPageBytes)
	c.docs = c.newResty(next, cfg.SpecTimeout, cfg.MaxSpecBytes)
	return c, nil
}

// newResty returns the resty client for one kind of request: every attempt
// gets timeout and reads at most limit bytes of a 200 answer
// (transport.Attempt); resty's own retry mechanism sends a request again
// under the shared policy (retry condition, wait, log record).
func (c *Client) newResty(next http.RoundTripper, timeout time.Duration, limit int64) *resty.Client {
	rc := resty.NewWithClient(c.cfg.settings().Client(c.cfg.settings().Attempt(remote.OpenConnectors, next, timeout, limit)))
	rc.SetLogger(discardLogger{}).
		SetDisableWarn(true).
		SetDebug(false).
		SetBaseURL(c.base).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", "ocsync-openconnectors").
		SetRetryCount(c.policy.MaxRetries).
		// resty's own backoff would apply when the wait below is zero; the
		// minimum of zero makes a zero wait (almost) no wait.
		SetRetryWaitTime(0).
		SetRetryMaxWaitTime(remote.MaxRetryWait).
		SetRetryAfter(c.retryWait).
		AddRetryCondition(c.shouldRetry).
		AddRetryHook(c.logRetry)
	return rc
}

// CloseIdleConnections closes the keep-alive connections of the client's
// transport that carry no request now; a later request opens a new one.
// A program that runs the sync now and then calls it after each run, so
// that nothing lingers between runs.
func (c *Client) CloseIdleConnections() {
	if t, ok := c.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
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
	var tooLarge *transport.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &SpecError{InstanceID: id, Reason: fmt.Sprintf("larger than the limit of %d bytes", tooLarge.Limit)}
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
		if body, rerr = transport.Body(resp.RawResponse); rerr != nil && err == nil {
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
		var tooLarge *transport.TooLargeError
		if errors.As(err, &tooLarge) {
			return nil, nil, tooLarge
		}
		return nil, nil, &transportError{method: method, path: path, attempts: attempts,
			msg: transport.Describe(c.scrub, err), err: err, retryable: transport.RetryableError(err)}
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

// shouldRetry is resty's retry condition, the shared policy: a request of
// an idempotent method whose caller still waits, that failed with a
// retryable error (transport.RetryableError) or status
// (transport.RetryableStatus).
func (c *Client) shouldRetry(resp *resty.Response, err error) bool {
	if resp == nil || resp.Request == nil || !transport.Idempotent(resp.Request.Method) {
		return false
	}
	if ctx := resp.Request.Context(); ctx != nil && ctx.Err() != nil {
		return false
	}
	if err != nil {
		return transport.RetryableError(err)
	}
	return resp.RawResponse != nil && transport.RetryableStatus(resp.StatusCode())
}

// retryWait is resty's RetryAfter callback: the shared policy's wait before
// the next attempt, from Config.Backoff and the server's Retry-After.
func (c *Client) retryWait(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
	if resp != nil && resp.Request != nil {
		if wait, ok := c.waits.LoadAndDelete(resp.Request); ok {
			return wait.(time.Duration), nil
		}
	}
	attempt := 1
	var hint time.Duration
	if resp != nil {
		if resp.Request != nil {
			attempt = max(resp.Request.Attempt, 1)
		}
		hint, _ = transport.RetryAfter(resp.RawResponse, c.policy.Now())
	}
	// resty replaces a zero wait by its own backoff; a nanosecond is none.
	return max(c.policy.Wait(attempt, hint), time.Nanosecond), nil
}

// logRetry is resty's retry hook: the shared warning per retry, without
// secrets. resty also calls it after the last attempt, which is not
// followed by a retry and not logged.
func (c *Client) logRetry(resp *resty.Response, err error) {
	if resp == nil || resp.Request == nil || !c.policy.Again(resp.Request.Attempt) {
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
		failure = transport.Describe(c.scrub, err)
	case resp.RawResponse != nil:
		failure = fmt.Sprintf("%d %s", resp.StatusCode(), http.StatusText(resp.StatusCode()))
	}
	wait, _ := c.retryWait(nil, resp)
	c.waits.Store(resp.Request, wait)
	c.policy.LogRetry(resp.Request.Context(), "openconnectors: retrying", resp.Request.Attempt, failure, wait,
		slog.String("method", resp.Request.Method), slog.String("path", path))
}

// discardLogger silences resty: its messages may carry request URLs and it
// has nothing to say that this package does not log itself.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

var _ resty.Logger = discardLogger{}
