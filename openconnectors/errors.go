package openconnectors

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// APIError is a request the platform answered with an unexpected status. It
// never holds a secret: the endpoint is a method and a path, without query.
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
	// Message is the platform's message from the error body, if any.
	Message string
	// ProviderMessage is the message relayed from the connector's provider,
	// if any.
	ProviderMessage string
	// Attempts is how many times the request was sent.
	Attempts int
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
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// Is classifies the status: 401 and 403 are ocsync.ErrFatal (the secrets are
// refused), 429 and 5xx are ocsync.ErrRetryable, 404 is ocsync.ErrNotFound.
func (e *APIError) Is(target error) bool {
	switch target {
	case ocsync.ErrFatal:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ocsync.ErrRetryable:
		return retryableStatus(e.StatusCode)
	case ocsync.ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// retryableStatus reports whether a status is worth another attempt.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500 && code <= 599
}

// newAPIError builds an APIError from a response's status, headers and (a
// prefix of) its body. Messages are cut to a sane length.
func newAPIError(method, path string, status int, h http.Header, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status, RequestID: h.Get("Elements-Request-Id")}
	var wire struct {
		RequestID       string `json:"requestId"`
		Message         string `json:"message"`
		ProviderMessage string `json:"providerMessage"`
	}
	if json.Unmarshal(body, &wire) == nil {
		if wire.RequestID != "" {
			e.RequestID = wire.RequestID
		}
		e.Message = clip(wire.Message, 500)
		e.ProviderMessage = clip(wire.ProviderMessage, 500)
	}
	return e
}

// clip cuts s to at most n runes and removes line breaks.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// transportError is a request that got no usable response: a network error or
// an attempt that ran out of time. It is retryable.
type transportError struct {
	method, path string
	attempts     int
	err          error
}

func (e *transportError) Error() string {
	s := fmt.Sprintf("%s %s: %v", e.method, e.path, e.err)
	if e.attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.attempts)
	}
	return s
}

func (e *transportError) Unwrap() error { return e.err }

func (e *transportError) Is(target error) bool { return target == ocsync.ErrRetryable }

// SpecError reports an API document that is not acceptable: too large, not
// JSON, or not a Swagger 2.0 / OpenAPI 3 document. It wraps
// ocsync.ErrInvalidSpec.
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

// Is makes errors.Is(err, ocsync.ErrInvalidSpec) true.
func (e *SpecError) Is(target error) bool { return target == ocsync.ErrInvalidSpec }
