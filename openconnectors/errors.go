package openconnectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/internal/transport"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// APIError is a request the platform answered with an unexpected status. It
// never holds a secret: the endpoint is a method and a path, without query,
// and every text the platform sent passed through the client's
// redact.Scrubber (Quote) before it was stored.
type APIError struct {
	// Method is the HTTP method, for example GET.
	Method string
	// Path is the request path below the API base, for example
	// /instances/42/docs.
	Path string
	// StatusCode is the HTTP status.
	StatusCode int
	// RequestID is the platform's request id, from the error body or the
	// Elements-Request-Id header; empty when neither was sent.
	RequestID string
	// Message is the platform's message from the error body, or the start
	// of a body that is not a JSON object; empty when there was none.
	Message string
	// ProviderMessage is the message relayed from the connector's provider,
	// if any.
	ProviderMessage string
	// Attempts is how many times the request was sent.
	Attempts int

	// fix names the Config fields to check, when a configuration value
	// is the likely cause.
	fix *remote.ConfigError
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.ProviderMessage != "" {
		fmt.Fprintf(&b, " (provider: %s)", e.ProviderMessage)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [requestId %s]", e.RequestID)
	}
	b.WriteString(transport.Attempts(e.Attempts))
	if e.fix != nil {
		b.WriteString("; ")
		b.WriteString(e.fix.Error())
	}
	return b.String()
}

// Unwrap returns the *remote.ConfigError naming the Config fields to
// check, when a configuration value is the likely cause: UserSecret and
// OrganizationSecret for a listing refused with 401 or 403, Host for a
// listing answered by an HTML page (other than a proxy's error page with
// a status worth another attempt); nil otherwise.
func (e *APIError) Unwrap() error {
	if e.fix == nil {
		return nil
	}
	return e.fix
}

// Is classifies the status by endpoint. On the listing (Path /instances)
// 401 and 403 are ocsync.ErrFatal: the tenant's secrets are refused and
// nothing can be synchronised. On one instance's document they concern that
// instance only and are ordinary item errors. 408, 429 and 5xx are
// remote.ErrRetryable anywhere, 404 is remote.ErrNotFound.
func (e *APIError) Is(target error) bool {
	switch target {
	case ocsync.ErrFatal:
		return e.Path == instancesPath && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden)
	case remote.ErrRetryable:
		return transport.RetryableStatus(e.StatusCode)
	case remote.ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// newAPIError builds an APIError from a response's status, headers and (a
// prefix of) its body. Every text is scrubbed and cut by scrub.Quote; an
// HTML page is summarised by its title (transport.HTMLPage).
func newAPIError(method, path string, status int, h http.Header, body []byte, scrub *redact.Scrubber) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status, RequestID: quote(scrub, h.Get("Elements-Request-Id"))}
	listing := path == instancesPath
	if listing && (status == http.StatusUnauthorized || status == http.StatusForbidden) {
		e.fix = &remote.ConfigError{Config: "openconnectors", Fields: []string{"UserSecret", "OrganizationSecret"}}
	}
	if page := transport.HTMLPage(scrub, status, h, body); page != nil {
		// A login page, a web site or a proxy's error page: summarised,
		// never quoted.
		e.Message = page.Summary()
		if listing && e.fix == nil && !transport.RetryableStatus(status) {
			e.fix = &remote.ConfigError{Config: "openconnectors", Fields: []string{"Host"}}
		}
		return e
	}
	body = bytes.TrimSpace(body)
	var wire struct {
		RequestID       json.RawMessage `json:"requestId"`
		Message         json.RawMessage `json:"message"`
		ProviderMessage json.RawMessage `json:"providerMessage"`
	}
	if len(body) > 0 && body[0] == '{' && json.Unmarshal(body, &wire) == nil {
		if id := jsonText(wire.RequestID); id != "" {
			e.RequestID = quote(scrub, id)
		}
		e.Message = quote(scrub, jsonText(wire.Message))
		e.ProviderMessage = quote(scrub, jsonText(wire.ProviderMessage))
		return e
	}
	// Not the platform's error body (a gateway's HTML page, plain text):
	// its start says more than nothing. The whole prefix that was read
	// (transport.Attempt reads at most endpoint.MaxErrorBodyBytes) is scrubbed before
	// Quote cuts it: secrets shrink when scrubbed, so a prefix cut first
	// could bring the readable start of a secret cut at its end into the
	// quote.
	e.Message = quote(scrub, string(body[:min(len(body), endpoint.MaxErrorBodyBytes)]))
	return e
}

// jsonText returns a JSON string's value, "" for anything else.
func jsonText(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// quote is transport.Quote: scrubbed, cut, white space made single spaces.
func quote(scrub *redact.Scrubber, s string) string { return transport.Quote(scrub, s) }

// transportError is a request that got no usable response: a network error,
// an attempt that ran out of time, a refused redirect. msg is the scrubbed
// description; err keeps the cause for errors.Is and errors.As.
type transportError struct {
	method, path string
	attempts     int
	msg          string
	err          error
	retryable    bool
}

func (e *transportError) Error() string {
	s := fmt.Sprintf("%s %s: %s", e.method, e.path, e.msg)
	return s + transport.Attempts(e.attempts)
}

func (e *transportError) Unwrap() error { return e.err }

func (e *transportError) Is(target error) bool { return e.retryable && target == remote.ErrRetryable }

// SpecError reports an API document that is not acceptable: too large, not
// JSON, or not a Swagger 2.0 / OpenAPI 3 document. It wraps
// remote.ErrInvalidSpec.
type SpecError struct {
	// InstanceID is the instance whose document was refused.
	InstanceID int64
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *SpecError) Error() string {
	return fmt.Sprintf("instance %d: API document: %s", e.InstanceID, e.Reason)
}

// Is makes errors.Is(err, remote.ErrInvalidSpec) true.
func (e *SpecError) Is(target error) bool { return target == remote.ErrInvalidSpec }
