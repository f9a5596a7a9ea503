package compass

import (
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/internal/transport"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
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
	// MaxScopeLength bounds Scope.Context and Scope.Owner, in runes.
	MaxScopeLength = 512
)

// Scopes are the OAuth2 scopes the Registry asks the token endpoint for.
var Scopes = []string{"application:read", "application:write"}

// Config configures a Registry. Zero values mean the documented defaults.
// The client secret is an redact.Secret: it never prints.
type Config struct {
	// DirectorURL is the Director's GraphQL endpoint, for example
	// https://compass-gateway-auth-oauth.example.com/director/graphql.
	// Required; https, or http for loopback hosts only; no user info,
	// query or fragment.
	DirectorURL string
	// TokenURL is the OAuth2 token endpoint, for example
	// https://oauth2.example.com/oauth2/token. Same rules as DirectorURL.
	TokenURL string
	// ClientID is the integration system's OAuth2 client id. Required; one
	// header token (no white space, comma or control character).
	ClientID string
	// ClientSecret is the OAuth2 client secret. Required; one header token
	// of at least redact.MinLength characters (endpoint.CheckSecret),
	// so that the Scrubber can hide it.
	ClientSecret redact.Secret
	// Tenant is the external tenant id sent in the "tenant" header.
	// Required; one header token.
	Tenant string
	// IntegrationSystemID, when set, is recorded on registered and adopted
	// applications. It must be a UUID.
	IntegrationSystemID string
	// Scope names the applications this Registry owns. Scope.Context (for
	// the Open Connectors job, the Open Connectors host) is written as
	// connectorInstanceContext in the identity label and selects the
	// applications listed; required. Scope.Owner, when set, is written as
	// owner; only applications with the same owner are owned, and an
	// identity label without owner belongs to the Registry without one.
	// Both are at most MaxScopeLength runes of valid UTF-8 without control
	// characters or surrounding white space.
	Scope ocsync.Scope
	// Labels are the keys of the identity and state labels; zero fields
	// mean IdentityLabel and StateLabel, the keys of every application
	// registered so far. A key holds only letters, digits and "_" (at most
	// MaxLabelKeyLength), is none the Director writes or refuses itself
	// (name, managed, integrationSystemID, scenarios), and the two differ.
	// Applications written under other keys are not found.
	Labels Labels
	// PageSize of the applications listing, 1..200; 0 means DefaultPageSize.
	PageSize int
	// Timeout bounds each request without a spec document; 0 means
	// DefaultTimeout. The token request has the same timeout.
	Timeout time.Duration
	// SpecTimeout bounds each request that carries a spec document, which
	// can be several megabytes; 0 means DefaultSpecTimeout, and it is never
	// shorter than Timeout.
	SpecTimeout time.Duration
	// MaxRetries is how often a request is tried again after a retryable
	// failure, 0..remote.MaxRetriesLimit; 0 means remote.DefaultMaxRetries
	// and a negative value disables retries. Which requests are tried
	// again is the module's one rule (queries and idempotent mutations;
	// see Create for registerApplication).
	MaxRetries int
	// Backoff decides the wait before each retry, given what a Retry-After
	// header asked for (capped at remote.MaxRetryWait); nil means
	// remote.DefaultBackoff, which waits at least that long. The wait is
	// capped by remote.RetryWait.
	Backoff remote.Backoff
	// HTTPClient is the base client for the token and GraphQL requests (its
	// Transport, CheckRedirect and Jar are used; its CheckRedirect runs
	// after endpoint.CheckRedirect, which never follows a redirect of a
	// POST request); nil means a default client.
	HTTPClient *http.Client
	// RootCAs are the certificate authorities trusted by the default
	// transport; nil means the system's. It cannot be combined with
	// HTTPClient.Transport, whose own TLS settings apply.
	RootCAs *x509.CertPool
	// Scrubber removes secrets from every text of the Director or the
	// token endpoint that an error or a log record quotes. The Registry
	// registers the client secret, the Basic credentials of the token
	// request, every token it fetches and every application credential
	// before it is sent. Share one Scrubber between every client of a run;
	// nil means a private one.
	Scrubber *redact.Scrubber
	// Logger receives debug records of every request (operation, attempt,
	// duration, error; never variables or secrets) and a warning per retry
	// (operation, attempt, error, wait); nil discards.
	Logger *slog.Logger
	// RequestObserver, when set, is told about every attempt of every
	// request to the Director and its token endpoint (its status class and duration;
	// never a URL or a secret), for example to count requests in metrics.
	// It is called concurrently.
	RequestObserver remote.RequestObserver
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Validate checks the configuration without sending anything. It returns
// every problem found, each an *remote.FieldError naming the Go field
// ("DirectorURL", "Scope.Context", ...), joined with errors.Join. No
// configured value is quoted in an error.
func (c Config) Validate() error {
	var errs []error
	field := func(name, problem string) {
		errs = append(errs, &remote.FieldError{Field: name, Problem: problem})
	}
	if _, err := endpoint.ParseURL(c.DirectorURL); err != nil {
		field("DirectorURL", err.Error())
	}
	if _, err := endpoint.ParseURL(c.TokenURL); err != nil {
		field("TokenURL", err.Error())
	}
	if err := endpoint.CheckHeaderToken(c.ClientID); err != nil {
		field("ClientID", err.Error())
	}
	if err := endpoint.CheckSecret(c.ClientSecret.Reveal()); err != nil {
		field("ClientSecret", err.Error())
	}
	if err := endpoint.CheckHeaderToken(c.Tenant); err != nil {
		field("Tenant", err.Error())
	}
	if c.IntegrationSystemID != "" && !uuidPattern.MatchString(c.IntegrationSystemID) {
		field("IntegrationSystemID", "want a UUID")
	}
	if c.Scope.Context == "" {
		field("Scope.Context", "is empty")
	} else if problem := scopeProblem(c.Scope.Context); problem != "" {
		field("Scope.Context", problem)
	}
	if c.Scope.Owner != "" {
		if problem := scopeProblem(c.Scope.Owner); problem != "" {
			field("Scope.Owner", problem)
		}
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		field("PageSize", "must be between 1 and 200 (0 means the default)")
	}
	errs = append(errs, c.Labels.validate()...)
	errs = append(errs, c.settings().Validate()...)
	if err := transport.CheckDuration("SpecTimeout", c.SpecTimeout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// scopeProblem says what makes s unusable as a scope value, or "".
func scopeProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "contains a control character"
	case strings.TrimSpace(s) != s:
		return "has leading or trailing white space"
	case utf8.RuneCountInString(s) > MaxScopeLength:
		return "is longer than 512 characters"
	}
	return ""
}

// settings are the fields every client's Config shares.
func (c Config) settings() transport.Settings {
	return transport.Settings{HTTPClient: c.HTTPClient, RootCAs: c.RootCAs, Timeout: c.Timeout,
		MaxRetries: c.MaxRetries, Backoff: c.Backoff, Scrubber: c.Scrubber, Logger: c.Logger,
		RequestObserver: c.RequestObserver}
}

// withDefaults returns a copy of c with defaults applied; c is valid.
func (c Config) withDefaults() Config {
	s := c.settings().WithDefaults(DefaultTimeout)
	c.Timeout, c.MaxRetries, c.Backoff, c.Scrubber, c.Logger = s.Timeout, s.MaxRetries, s.Backoff, s.Scrubber, s.Logger
	c.Labels = c.Labels.withDefaults()
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.SpecTimeout == 0 {
		c.SpecTimeout = DefaultSpecTimeout
	}
	c.SpecTimeout = max(c.SpecTimeout, c.Timeout)
	return c
}
