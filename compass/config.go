package compass

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Defaults of Config.
const (
	// DefaultPageSize is the page size of the applications listing.
	DefaultPageSize = 200
	// MaxPageSize is the largest page size the Director accepts.
	MaxPageSize = 200
	// DefaultTimeout bounds one request that carries no spec document.
	DefaultTimeout = 5 * time.Second
	// DefaultSpecTimeout bounds one request that carries a spec document
	// (register, and the bundle and API mutations that send a spec).
	DefaultSpecTimeout = 60 * time.Second
	// DefaultMaxRetries is how often a failed query or idempotent mutation
	// is tried again.
	DefaultMaxRetries = 3
)

// Scopes are the OAuth2 scopes the Registry asks the token endpoint for.
var Scopes = []string{"application:read", "application:write"}

// Config configures a Registry. Zero values mean the documented defaults.
// The client secret is an ocsync.Secret: it never prints.
type Config struct {
	// DirectorURL is the Director's GraphQL endpoint, for example
	// https://compass-gateway-auth-oauth.example.com/director/graphql.
	// Required; https, or http for loopback hosts only.
	DirectorURL string
	// TokenURL is the OAuth2 token endpoint, for example
	// https://oauth2.example.com/oauth2/token. Required; https, or http for
	// loopback hosts only.
	TokenURL string
	// ClientID is the integration system's OAuth2 client id. Required.
	ClientID string
	// ClientSecret is the OAuth2 client secret. Required.
	ClientSecret ocsync.Secret
	// Tenant is the external tenant id sent in the "tenant" header. Required.
	Tenant string
	// IntegrationSystemID, when set, is recorded on registered and adopted
	// applications.
	IntegrationSystemID string
	// Context is the Open Connectors host the applications come from; it is
	// written as connectorInstanceContext in the identity label and selects
	// the applications this job sees. Required.
	Context string
	// Owner, when set, is written as owner in the identity label; only
	// applications with the same owner are this job's. An identity label
	// without owner belongs to the job that has no Owner.
	Owner string
	// PageSize of the applications listing, 1..200; 0 means DefaultPageSize.
	PageSize int
	// Timeout bounds each request without a spec document; 0 means
	// DefaultTimeout. The token request has the same timeout.
	Timeout time.Duration
	// SpecTimeout bounds each request that carries a spec document, which
	// can be several megabytes; 0 means DefaultSpecTimeout, and it is never
	// shorter than Timeout.
	SpecTimeout time.Duration
	// MaxRetries is how often a query or an idempotent mutation is tried
	// again after a retryable failure; 0 means DefaultMaxRetries and a
	// negative value disables retries.
	MaxRetries int
	// Backoff returns the wait before retry number attempt (starting at 1);
	// nil means DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// HTTPClient is the base client for the token and GraphQL requests (its
	// Transport, CheckRedirect and Jar are used); nil means a default client.
	HTTPClient *http.Client
	// Logger receives debug records of every request (operation, attempt,
	// duration, error class; never variables or secrets); nil discards.
	Logger *slog.Logger
}

// DefaultBackoff waits 200 ms, doubled per attempt up to 5 s, with full
// jitter: a random duration between half and all of that.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := 200 * time.Millisecond
	for i := 1; i < attempt && d < 5*time.Second; i++ {
		d *= 2
	}
	d = min(d, 5*time.Second)
	return d/2 + rand.N(d/2+1)
}

// withDefaults returns a copy of c with defaults applied, or an error naming
// the first invalid field.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	field := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("compass: Config.%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if err := checkEndpoint(c.DirectorURL); err != nil {
		field("DirectorURL", "%v", err)
	}
	if err := checkEndpoint(c.TokenURL); err != nil {
		field("TokenURL", "%v", err)
	}
	if strings.TrimSpace(c.ClientID) == "" {
		field("ClientID", "required")
	}
	if c.ClientSecret.Reveal() == "" {
		field("ClientSecret", "required")
	}
	if strings.TrimSpace(c.Tenant) == "" {
		field("Tenant", "required")
	}
	if strings.TrimSpace(c.Context) == "" {
		field("Context", "required")
	}
	switch {
	case c.PageSize == 0:
		c.PageSize = DefaultPageSize
	case c.PageSize < 1 || c.PageSize > MaxPageSize:
		field("PageSize", "must be between 1 and %d, got %d", MaxPageSize, c.PageSize)
	}
	switch {
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	case c.Timeout < 0:
		field("Timeout", "must not be negative")
	}
	switch {
	case c.SpecTimeout == 0:
		c.SpecTimeout = DefaultSpecTimeout
	case c.SpecTimeout < 0:
		field("SpecTimeout", "must not be negative")
	}
	c.SpecTimeout = max(c.SpecTimeout, c.Timeout)
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, errors.Join(errs...)
}

// checkEndpoint accepts an absolute https URL, or an http URL whose host is
// a loopback address, so that tokens never travel in clear to another host.
func checkEndpoint(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("not an absolute URL: %q", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("plain http is only allowed for loopback hosts: %q", raw)
	}
	return fmt.Errorf("scheme must be https: %q", raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
