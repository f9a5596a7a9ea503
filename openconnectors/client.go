package openconnectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// maxListBytes caps one listing page's body. A page holds at most 200
// instances of a few KB each; anything far larger is not a listing.
const maxListBytes = 64 << 20

// Client is a client of the Open Connectors platform API. It is safe for
// concurrent use.
type Client struct {
	cfg  Config
	ep   endpoint
	rc   *resty.Client
	auth string
	now  func() time.Time
}

// NewClient validates cfg, applies defaults and returns a Client. Errors name
// the offending field and never contain a secret.
func NewClient(cfg Config) (*Client, error) {
	cfg, ep, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("openconnectors: config: %w", err)
	}
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	if hc.Transport == nil {
		hc.Transport = pooledTransport()
	}
	rc := resty.NewWithClient(&hc)
	rc.SetLogger(discardLogger{}).
		SetDisableWarn(true).
		SetDebug(false).
		SetBaseURL(ep.base).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", "ocsync-openconnectors")
	return &Client{
		cfg:  cfg,
		ep:   ep,
		rc:   rc,
		auth: "User " + cfg.UserSecret.Reveal() + ", Organization " + cfg.OrganizationSecret.Reveal(),
		now:  time.Now,
	}, nil
}

// BaseURL returns the base URL of the platform API, for example
// https://api.openconnectors.us10.ext.hana.ondemand.com/elements/api-v2.
func (c *Client) BaseURL() string { return c.ep.base }

// Context returns the host as configured, with its port when the
// configuration named one: the value that tells instances of different
// tenants apart (Compass stores it as connectorInstanceContext).
func (c *Client) Context() string { return c.ep.context }

// Instances lists every instance that carries at least one of the configured
// tags (every instance when no tag is configured). It sends the tags to the
// platform as repeated tags[] parameters and filters the result again on the
// client, because the platform does not document whether several tags are
// ANDed or ORed; the client's rule is ANY.
//
// It follows the Elements-Next-Page-Token cursor until the header is absent
// or empty, and returns all pages or an error: a cursor the server repeats is
// an error, as is any page that cannot be read. Items without a usable id and
// duplicates of an id already listed are left out with a warning in the log;
// items missing other required fields are listed with Instance.Missing set.
func (c *Client) Instances(ctx context.Context) ([]Instance, error) {
	const path = "/instances"
	q := url.Values{}
	for _, t := range c.cfg.Tags {
		q.Add("tags[]", t)
	}
	q.Set("pageSize", strconv.Itoa(c.cfg.PageSize))
	out := []Instance{}
	seenIDs := map[int64]bool{}
	seenCursors := map[string]bool{}
	for page := 1; ; page++ {
		h, body, err := c.get(ctx, path, q, c.cfg.Timeout, maxListBytes)
		if err != nil {
			return nil, fmt.Errorf("list instances: page %d: %w", page, err)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, fmt.Errorf("list instances: page %d: GET %s: body is not a JSON array: %w", page, path, err)
		}
		for i, raw := range items {
			in, err := decodeInstance(raw)
			if err != nil {
				c.cfg.Logger.Warn("openconnectors: instance left out", "page", page, "index", i, "reason", err.Error())
				continue
			}
			if seenIDs[in.ID] {
				c.cfg.Logger.Warn("openconnectors: duplicate instance left out", "page", page, "id", in.ID)
				continue
			}
			seenIDs[in.ID] = true
			if len(in.Missing) > 0 {
				c.cfg.Logger.Warn("openconnectors: instance lacks required fields", "id", in.ID, "missing", in.Missing)
			}
			if !in.HasAnyTag(c.cfg.Tags) {
				c.cfg.Logger.Debug("openconnectors: instance without a configured tag left out", "id", in.ID)
				continue
			}
			out = append(out, in)
		}
		next := strings.TrimSpace(h.Get("Elements-Next-Page-Token"))
		if next == "" {
			c.cfg.Logger.Debug("openconnectors: instances listed", "pages", page, "instances", len(out))
			return out, nil
		}
		if seenCursors[next] {
			return nil, fmt.Errorf("list instances: page %d: GET %s: the server repeated a page cursor", page, path)
		}
		seenCursors[next] = true
		q.Set("nextPage", next)
	}
}

// Docs returns the API document of instance id (GET
// /instances/{id}/docs?version=-1) byte for byte as served. A document larger
// than Config.MaxSpecBytes (which is never read whole), not JSON, or not a
// Swagger 2.0 / OpenAPI 3 document is a *SpecError wrapping
// ocsync.ErrInvalidSpec. An unknown instance is an *APIError wrapping
// ocsync.ErrNotFound.
func (c *Client) Docs(ctx context.Context, id int64) ([]byte, error) {
	path := "/instances/" + strconv.FormatInt(id, 10) + "/docs"
	_, body, err := c.get(ctx, path, url.Values{"version": {"-1"}}, c.cfg.SpecTimeout, c.cfg.MaxSpecBytes)
	var tooLarge *tooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &SpecError{InstanceID: id, Reason: fmt.Sprintf("larger than the limit of %d bytes", tooLarge.limit)}
	}
	if err != nil {
		return nil, fmt.Errorf("instance %d: %w", id, err)
	}
	if err := ValidateSpec(body); err != nil {
		return nil, &SpecError{InstanceID: id, Reason: err.Error()}
	}
	return body, nil
}

// tooLargeError reports a body over the caller's limit.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string { return fmt.Sprintf("body larger than %d bytes", e.limit) }

// get sends GET path?query with retries and returns the headers and the body
// of a 200 response, read with limit. Every attempt has its own timeout, which
// also bounds reading the body.
func (c *Client) get(ctx context.Context, path string, query url.Values, timeout time.Duration, limit int64) (http.Header, []byte, error) {
	const method = http.MethodGet
	for attempt := 1; ; attempt++ {
		h, body, retryAfter, err := c.attempt(ctx, method, path, query, timeout, limit)
		if err == nil {
			return h, body, nil
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.Attempts = attempt
		}
		var tErr *transportError
		if errors.As(err, &tErr) {
			tErr.attempts = attempt
		}
		retryable := apiErr != nil && retryableStatus(apiErr.StatusCode) || tErr != nil
		if !retryable || attempt > c.cfg.MaxRetries {
			return nil, nil, err
		}
		wait := max(c.cfg.Backoff(attempt, retryAfter), 0)
		c.cfg.Logger.Warn("openconnectors: retrying", "method", method, "path", path,
			"attempt", attempt, "wait", wait, "error", err.Error())
		if werr := sleep(ctx, wait); werr != nil {
			return nil, nil, fmt.Errorf("%s %s: %w (while waiting to retry after: %v)", method, path, werr, err)
		}
	}
}

// attempt sends one request. It returns the server's Retry-After hint with
// failures that carry one.
func (c *Client) attempt(ctx context.Context, method, path string, query url.Values, timeout time.Duration, limit int64) (http.Header, []byte, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.rc.R().
		SetContext(actx).
		SetHeader("Authorization", c.auth).
		SetQueryParamsFromValues(query).
		SetDoNotParseResponse(true).
		Execute(method, path)
	if err != nil {
		if resp != nil && resp.RawBody() != nil {
			resp.RawBody().Close()
		}
		return nil, nil, 0, c.transportFailure(ctx, method, path, timeout, err)
	}
	body := resp.RawBody()
	defer body.Close()
	status := resp.StatusCode()
	h := resp.Header()
	c.cfg.Logger.Debug("openconnectors: response", "method", method, "path", path, "status", status,
		"requestId", h.Get("Elements-Request-Id"), "elapsed", time.Since(start))
	if status != http.StatusOK {
		prefix, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		var retryAfter time.Duration
		if retryableStatus(status) {
			retryAfter = parseRetryAfter(h.Get("Retry-After"), c.now())
		}
		return nil, nil, retryAfter, newAPIError(method, path, status, h, prefix)
	}
	if resp.RawResponse.ContentLength > limit {
		return nil, nil, 0, &tooLargeError{limit: limit}
	}
	// One buffer of the announced size; bytes.MinRead spare bytes let
	// ReadFrom reach the end without growing it.
	buf := bytes.NewBuffer(make([]byte, 0, max(min(resp.RawResponse.ContentLength, limit), 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(body, limit+1)); err != nil {
		return nil, nil, 0, c.transportFailure(ctx, method, path, timeout, err)
	}
	data := buf.Bytes()
	if int64(len(data)) > limit {
		return nil, nil, 0, &tooLargeError{limit: limit}
	}
	return h, data, 0, nil
}

// transportFailure classifies a request that got no usable response: the
// caller's context ending is returned as such (not retryable); anything else,
// a timeout of this attempt included, is a retryable transport error.
func (c *Client) transportFailure(ctx context.Context, method, path string, timeout time.Duration, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s %s: %w", method, path, cerr)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the URL carries nothing the message needs
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no complete response within %v: %w", timeout, context.DeadlineExceeded)
	}
	return &transportError{method: method, path: path, err: err}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff returns how long to wait before retry number attempt (1 for the
// first retry). retryAfter is the server's Retry-After hint, zero when it
// sent none.
type Backoff func(attempt int, retryAfter time.Duration) time.Duration

// ExponentialBackoff returns the default policy: a server's Retry-After is
// honoured up to maxWait; otherwise the wait is base doubled per attempt,
// capped at maxWait, with random jitter over its upper half.
func ExponentialBackoff(base, maxWait time.Duration) Backoff {
	return func(attempt int, retryAfter time.Duration) time.Duration {
		if retryAfter > 0 {
			return min(retryAfter, maxWait)
		}
		d := base
		for i := 1; i < attempt && d < maxWait; i++ {
			d *= 2
		}
		d = min(d, maxWait)
		if half := d / 2; half > 0 {
			d = half + rand.N(half+1)
		}
		return d
	}
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// Unusable or past values are zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// discardLogger silences resty: its messages may carry request URLs and it
// has nothing to say that this package does not log itself.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

var _ resty.Logger = discardLogger{}

// pooledTransport is the default transport with enough idle connections per
// host for parallel spec downloads, so that connections (and TLS sessions)
// are reused instead of opened for most requests.
func pooledTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}
