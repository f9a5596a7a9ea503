package openconnectors

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Defaults applied by NewClient to zero fields of Config.
const (
	// DefaultPageSize is the page size of instance listings, also the
	// platform's maximum.
	DefaultPageSize = 200
	// MaxPageSize is the largest page size the platform accepts.
	MaxPageSize = 200
	// DefaultMaxSpecBytes is the largest API document accepted.
	DefaultMaxSpecBytes = 16 << 20
	// DefaultTimeout bounds one listing request, body included.
	DefaultTimeout = 5 * time.Second
	// DefaultSpecTimeout bounds one API document request, body included.
	DefaultSpecTimeout = 30 * time.Second
	// DefaultMaxRetries is how often a failed request is retried.
	DefaultMaxRetries = 4
	// DefaultBackoffBase is the wait before the first retry.
	DefaultBackoffBase = 250 * time.Millisecond
	// DefaultBackoffMax caps every wait between retries, Retry-After
	// included.
	DefaultBackoffMax = 15 * time.Second
)

// BasePath is the path of the platform API on every host.
const BasePath = "/elements/api-v2"

// Config configures a Client. Zero values mean the documented defaults.
type Config struct {
	// Host is the platform host: a bare hostname such as
	// api.openconnectors.us10.ext.hana.ondemand.com (optionally with a port),
	// or a URL https://host[:port]. Plain http:// is accepted only for
	// loopback hosts (localhost, 127.0.0.0/8, ::1), which is how tests reach
	// a fake platform. A URL may end in "/" or in /elements/api-v2.
	// Required.
	Host string
	// UserSecret is the tenant's user secret. Required.
	UserSecret ocsync.Secret
	// OrganizationSecret is the tenant's organization secret. Required.
	OrganizationSecret ocsync.Secret
	// Tags restricts listings to instances carrying at least one of these
	// tags. Empty means every instance.
	Tags []string
	// PageSize is the number of instances per listing page, 1..200.
	// Default 200.
	PageSize int
	// MaxSpecBytes is the largest API document accepted; a larger one is
	// an error wrapping ocsync.ErrInvalidSpec and is never read whole.
	// Default 16 MiB.
	MaxSpecBytes int64
	// Timeout bounds one listing request, reading the body included.
	// Default 5 s.
	Timeout time.Duration
	// SpecTimeout bounds one API document request, reading the body
	// included. Default 30 s.
	SpecTimeout time.Duration
	// MaxRetries is how often a request is retried after a network error,
	// 429 or 5xx. Default 4; a negative value disables retries.
	MaxRetries int
	// BackoffBase is the wait before the first retry; it doubles with every
	// further retry. Default 250 ms.
	BackoffBase time.Duration
	// BackoffMax caps every wait, a server's Retry-After included.
	// Default 15 s.
	BackoffMax time.Duration
	// Backoff, when set, replaces the default policy
	// (ExponentialBackoff(BackoffBase, BackoffMax)).
	Backoff Backoff
	// HTTPClient is the HTTP client to use; a copy of it is used so the
	// caller's value is never modified. Nil means a new client.
	HTTPClient *http.Client
	// Logger receives debug records for requests and warnings for retries
	// and skipped instances. Nil discards them.
	Logger *slog.Logger
}

// endpoint is where a Config points: the base URL of the platform API and the
// context label value.
type endpoint struct {
	base    string // scheme://host[:port]/elements/api-v2
	context string // host[:port] as configured
}

// parseHost turns Config.Host into an endpoint.
func parseHost(host string) (endpoint, error) {
	host = strings.TrimSpace(host)
	if host == "" {
		return endpoint{}, fieldError("Host", "is required")
	}
	raw := host
	if !strings.Contains(host, "://") {
		if strings.ContainsAny(host, "/?#@") {
			return endpoint{}, fieldError("Host", "%q: a bare host name must not contain a path, query or user", host)
		}
		raw = "https://" + host
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fieldError("Host", "%q: %w", host, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return endpoint{}, fieldError("Host", "%q: no host name", host)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return endpoint{}, fieldError("Host", "%q: must not carry a user, query or fragment", host)
	}
	switch strings.TrimSuffix(u.Path, "/") {
	case "", BasePath:
	default:
		return endpoint{}, fieldError("Host", "%q: unexpected path %q (use the host, or a URL ending in %s)", host, u.Path, BasePath)
	}
	if port := u.Port(); port != "" {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return endpoint{}, fieldError("Host", "%q: invalid port %q", host, port)
		}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return endpoint{}, fieldError("Host", "%q: plain http is only allowed for loopback hosts; use https", host)
		}
	default:
		return endpoint{}, fieldError("Host", "%q: unsupported scheme %q", host, u.Scheme)
	}
	return endpoint{
		base:    u.Scheme + "://" + u.Host + BasePath,
		context: u.Host,
	}, nil
}

// isLoopback reports whether host names the local machine: localhost,
// 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validSecret reports a secret that cannot be sent in a header. The value is
// never part of the message.
func validSecret(field string, s ocsync.Secret) error {
	v := s.Reveal()
	if v == "" {
		return fieldError(field, "is required")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fieldError(field, "contains a control character")
		}
	}
	if strings.Contains(v, ",") {
		return fieldError(field, "contains a comma, which the Authorization header cannot carry")
	}
	return nil
}

// withDefaults validates c and returns it with defaults applied.
func (c Config) withDefaults() (Config, endpoint, error) {
	ep, err := parseHost(c.Host)
	if err != nil {
		return c, ep, err
	}
	if err := validSecret("UserSecret", c.UserSecret); err != nil {
		return c, ep, err
	}
	if err := validSecret("OrganizationSecret", c.OrganizationSecret); err != nil {
		return c, ep, err
	}
	for i, t := range c.Tags {
		if t == "" {
			return c, ep, fieldError(fmt.Sprintf("Tags[%d]", i), "is empty")
		}
	}
	switch {
	case c.PageSize == 0:
		c.PageSize = DefaultPageSize
	case c.PageSize < 1 || c.PageSize > MaxPageSize:
		return c, ep, fieldError("PageSize", "%d is out of range 1..%d", c.PageSize, MaxPageSize)
	}
	switch {
	case c.MaxSpecBytes == 0:
		c.MaxSpecBytes = DefaultMaxSpecBytes
	case c.MaxSpecBytes < 0:
		return c, ep, fieldError("MaxSpecBytes", "%d is negative", c.MaxSpecBytes)
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Timeout", &c.Timeout, DefaultTimeout},
		{"SpecTimeout", &c.SpecTimeout, DefaultSpecTimeout},
		{"BackoffBase", &c.BackoffBase, DefaultBackoffBase},
		{"BackoffMax", &c.BackoffMax, DefaultBackoffMax},
	}
	for _, d := range durations {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < 0:
			return c, ep, fieldError(d.name, "%v is negative", *d.v)
		}
	}
	if c.BackoffBase > c.BackoffMax {
		return c, ep, fieldError("BackoffBase", "%v is larger than BackoffMax %v", c.BackoffBase, c.BackoffMax)
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.Backoff == nil {
		c.Backoff = ExponentialBackoff(c.BackoffBase, c.BackoffMax)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, ep, nil
}

// fieldError is a configuration error that starts with the field's name.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s "+format, append([]any{field}, args...)...)
}
