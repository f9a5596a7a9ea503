package transport

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Settings are the fields every client's Config shares, with one meaning
// and one set of defaults: a Config hands them over, Validate checks them,
// WithDefaults fills them in.
type Settings struct {
	// HTTPClient is the caller's base client; nil means a new one.
	HTTPClient *http.Client
	// RootCAs are the authorities the default transport trusts; nil means
	// the system's. Not with an HTTPClient that has its own Transport.
	RootCAs *x509.CertPool
	// Timeout bounds one attempt of an ordinary request; 0 means the
	// client's default.
	Timeout time.Duration
	// MaxRetries is how often a request is sent again after a retryable
	// failure, up to remote.MaxRetriesLimit; 0 means
	// remote.DefaultMaxRetries, a negative value none.
	MaxRetries int
	// Backoff decides the waits; nil means remote.DefaultBackoff.
	Backoff remote.Backoff
	// Scrubber hides secrets in remote text; nil means a private one.
	Scrubber *redact.Scrubber
	// Logger receives the client's records; nil discards them.
	Logger *slog.Logger
	// RequestObserver, when set, is told about every attempt (see
	// Settings.Attempt).
	RequestObserver remote.RequestObserver
}

// Validate returns a *remote.FieldError per invalid field, named like the
// Config fields; no value but a number or a duration is quoted.
func (s Settings) Validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &remote.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if s.Timeout < 0 {
		add("Timeout", "%v is negative", s.Timeout)
	}
	if s.MaxRetries > remote.MaxRetriesLimit {
		add("MaxRetries", "%d is larger than %d", s.MaxRetries, remote.MaxRetriesLimit)
	}
	if s.RootCAs != nil && s.HTTPClient != nil && s.HTTPClient.Transport != nil {
		add("RootCAs", "cannot be combined with an HTTPClient that has its own Transport")
	}
	return errs
}

// CheckDuration returns the *remote.FieldError of a negative duration
// field other than Timeout, or nil.
func CheckDuration(field string, d time.Duration) error {
	if d < 0 {
		return &remote.FieldError{Field: field, Problem: fmt.Sprintf("%v is negative", d)}
	}
	return nil
}

// WithDefaults returns s with its zero values replaced by the defaults:
// timeout for Timeout, remote.DefaultMaxRetries (a negative MaxRetries
// becomes 0), remote.DefaultBackoff, a private Scrubber and a Logger that
// discards.
func (s Settings) WithDefaults(timeout time.Duration) Settings {
	if s.Timeout == 0 {
		s.Timeout = timeout
	}
	switch {
	case s.MaxRetries == 0:
		s.MaxRetries = remote.DefaultMaxRetries
	case s.MaxRetries < 0:
		s.MaxRetries = 0
	}
	if s.Backoff == nil {
		s.Backoff = remote.DefaultBackoff
	}
	if s.Scrubber == nil {
		s.Scrubber = redact.NewScrubber()
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// Policy returns the retry policy of defaulted settings.
func (s Settings) Policy() *Policy {
	return &Policy{MaxRetries: s.MaxRetries, Backoff: s.Backoff, Logger: s.Logger, Now: time.Now}
}

// Attempt returns the round tripper of one attempt (see Attempt) of a
// request to the API named name (remote.OpenConnectors, remote.Compass),
// sending through next and telling RequestObserver about every attempt.
func (s Settings) Attempt(name string, next http.RoundTripper, timeout time.Duration, limit int64) *Attempt {
	return &Attempt{Next: next, Timeout: timeout, Limit: limit, Remote: name, Observe: s.RequestObserver}
}

// BaseTransport returns the round tripper requests leave through: the
// HTTPClient's own Transport, or endpoint.Transport trusting RootCAs.
func (s Settings) BaseTransport() http.RoundTripper {
	if s.HTTPClient != nil && s.HTTPClient.Transport != nil {
		return s.HTTPClient.Transport
	}
	return endpoint.Transport(s.RootCAs)
}

// Client returns a copy of HTTPClient (or a new client) that sends through
// rt and follows a redirect only when endpoint.CheckRedirect and then the
// caller's own policy allow it. The caller's value is never modified.
func (s Settings) Client(rt http.RoundTripper) *http.Client {
	var hc http.Client
	if s.HTTPClient != nil {
		hc = *s.HTTPClient
	}
	hc.Transport = rt
	hc.CheckRedirect = endpoint.WithCaller(hc.CheckRedirect)
	return &hc
}
