package openconnectors

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/internal/transport"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Defaults applied by NewClient to zero fields of Config, and the limits
// Config.Validate enforces.
const (
	// DefaultPageSize is the page size of instance listings, also the
	// platform's maximum.
	DefaultPageSize = 200
	// MaxPageSize is the largest page size the platform accepts.
	MaxPageSize = 200
	// DefaultMaxSpecBytes is the largest API document accepted.
	DefaultMaxSpecBytes = 16 << 20
	// DefaultTimeout bounds one attempt of a listing request, body
	// included.
	DefaultTimeout = 5 * time.Second
	// DefaultSpecTimeout bounds one attempt of an API document request,
	// body included.
	DefaultSpecTimeout = 30 * time.Second
	// MaxRetriesLimit is the largest Config.MaxRetries accepted, the same
	// for every client of this module.
	MaxRetriesLimit = remote.MaxRetriesLimit
)

// BasePath is the path of the platform API on every host.
const BasePath = "/elements/api-v2"

// Config configures a Client. Zero values mean the documented defaults.
type Config struct {
	// Host is the platform host: a bare hostname such as
	// api.openconnectors.us10.ext.hana.ondemand.com (optionally with a port),
	// or a URL https://host[:port]. Plain http:// is accepted only for
	// loopback hosts (localhost, 127.0.0.0/8, ::1), which is how tests reach
	// a fake platform. A URL may end in "/" or in /elements/api-v2. See
	// ParseHost. Required.
	Host string
	// UserSecret is the tenant's user secret. Required; it must be one
	// header token (no white space, comma or control character).
	UserSecret redact.Secret
	// OrganizationSecret is the tenant's organization secret. Required, with
	// the rules of UserSecret.
	OrganizationSecret redact.Secret
	// Tags restricts listings to instances carrying at least one of these
	// tags. Empty means every instance; an empty tag is an error.
	Tags []string
	// PageSize is the number of instances per listing page, 1..200.
	// Default 200.
	PageSize int
	// MaxSpecBytes is the largest API document accepted; a larger one is
	// an error wrapping remote.ErrInvalidSpec and is never read whole.
	// Default 16 MiB.
	MaxSpecBytes int64
	// Timeout bounds one attempt of a listing request, reading the body
	// included. Default 5 s.
	Timeout time.Duration
	// SpecTimeout bounds one attempt of an API document request, reading
	// the body included, however slowly the server sends it. Default 30 s.
	SpecTimeout time.Duration
	// MaxRetries is how often a GET is retried after a transport error, 429
	// or 5xx, 0..MaxRetriesLimit. Zero means remote.DefaultMaxRetries; a
	// negative value disables retries.
	MaxRetries int
	// Backoff decides the wait before each retry; the wait is always capped
	// by remote.RetryWait at remote.MaxRetryWait, a server's Retry-After
	// included. Nil means remote.DefaultBackoff.
	Backoff remote.Backoff
	// HTTPClient is the HTTP client to use; a copy of it is used so the
	// caller's value is never modified. Its redirect policy applies only to
	// redirects endpoint.CheckRedirect accepts (same scheme, host and port);
	// its Timeout, when shorter than Timeout or SpecTimeout, wins. Nil
	// means a new client.
	HTTPClient *http.Client
	// RootCAs are the certificate authorities trusted for the platform's
	// TLS certificate; nil means the system's. It configures the default
	// transport, so it cannot be combined with an HTTPClient that brings
	// its own Transport.
	RootCAs *x509.CertPool
	// Scrubber removes secrets from every text the platform sent before an
	// error or a log record quotes it. NewClient registers the tenant's
	// secrets with it, Instances every instance token. Share one Scrubber
	// among the clients of a run; nil means a private one.
	Scrubber *redact.Scrubber
	// Logger receives debug records for requests and warnings for retries.
	// Nil discards them.
	Logger *slog.Logger
	// RequestObserver, when set, is told about every attempt of every
	// request to the platform (its status class and duration;
	// never a URL or a secret), for example to count requests in metrics.
	// It is called concurrently.
	RequestObserver remote.RequestObserver
}

// Validate reports every invalid field of c as an *remote.FieldError (joined
// with errors.Join; nil when c is valid). Problems never quote a secret.
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &remote.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if _, _, err := ParseHost(c.Host); err != nil {
		errs = append(errs, err)
	}
	for _, s := range []struct {
		field string
		v     redact.Secret
	}{{"UserSecret", c.UserSecret}, {"OrganizationSecret", c.OrganizationSecret}} {
		if s.v == "" {
			add(s.field, "is required")
		} else if err := endpoint.CheckSecret(s.v.Reveal()); err != nil {
			add(s.field, "%v", err)
		}
	}
	for i, t := range c.Tags {
		if t == "" {
			add(fmt.Sprintf("Tags[%d]", i), "is empty")
		}
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		add("PageSize", "%d is out of range 1..%d", c.PageSize, MaxPageSize)
	}
	if c.MaxSpecBytes < 0 {
		add("MaxSpecBytes", "%d is negative", c.MaxSpecBytes)
	}
	errs = append(errs, c.settings().Validate()...)
	if err := transport.CheckDuration("SpecTimeout", c.SpecTimeout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ParseHost parses a Config.Host value: a bare host[:port], or a URL
// https://host[:port] (plain http only for loopback hosts) with no user
// information, query or fragment and a path of "", "/" or BasePath. It
// returns the base URL of the platform API (scheme://host[:port]/elements/api-v2)
// and the context: host[:port] as written, the value that tells instances of
// different tenants apart (Compass stores it as connectorInstanceContext).
// An error is an *remote.FieldError for the field "Host" that never quotes
// the value.
func ParseHost(host string) (baseURL, context string, err error) {
	host = strings.TrimSpace(host)
	if host == "" {
		return "", "", hostError("is required")
	}
	raw := host
	if !strings.Contains(host, "://") {
		if strings.ContainsAny(host, "/?#@") {
			return "", "", hostError("a bare host name must not contain a path, query or user information")
		}
		raw = "https://" + host
	}
	u, err := endpoint.ParseURL(raw)
	if err != nil {
		return "", "", hostError(err.Error())
	}
	switch strings.TrimSuffix(u.Path, "/") {
	case "", BasePath:
	default:
		return "", "", hostError("unexpected path (use the host, or a URL ending in " + BasePath + ")")
	}
	return u.Scheme + "://" + u.Host + BasePath, u.Host, nil
}

func hostError(problem string) error { return &remote.FieldError{Field: "Host", Problem: problem} }

// settings are the fields every client's Config shares.
func (c Config) settings() transport.Settings {
	return transport.Settings{HTTPClient: c.HTTPClient, RootCAs: c.RootCAs, Timeout: c.Timeout,
		MaxRetries: c.MaxRetries, Backoff: c.Backoff, Scrubber: c.Scrubber, Logger: c.Logger,
		RequestObserver: c.RequestObserver}
}

// withDefaults validates c and returns it with defaults applied.
func (c Config) withDefaults() (Config, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	s := c.settings().WithDefaults(DefaultTimeout)
	c.Timeout, c.MaxRetries, c.Backoff, c.Scrubber, c.Logger = s.Timeout, s.MaxRetries, s.Backoff, s.Scrubber, s.Logger
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.MaxSpecBytes == 0 {
		c.MaxSpecBytes = DefaultMaxSpecBytes
	}
	if c.SpecTimeout == 0 {
		c.SpecTimeout = DefaultSpecTimeout
	}
	return c, nil
}
