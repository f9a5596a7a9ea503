package compass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/internal/transport"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/oauth2"
)

// Error is a failure reported by the Director, the token endpoint or the
// network. It wraps the ocsync sentinel that classifies it (ErrNotFound,
// ErrConflict, ErrInvalidInput, ErrFatal or ErrRetryable; none for other
// refusals such as InvalidOperation), so errors.Is works on it. Every text
// in it that came from a remote was scrubbed of the secrets the Registry
// knows (Config.Scrubber) and cut to redact.MaxQuotedBytes.
type Error struct {
	// Operation is the GraphQL operation ("registerApplication", ...) or
	// "token" for the token endpoint.
	Operation string
	// Code is the Director's extensions.error_code; 0 when absent.
	Code int
	// Name is the Director's extensions.error (for example "NotFound"),
	// the OAuth2 error code (for example "invalid_client"), or one of
	// "HTTPError", "NetworkError", "Timeout", "HTMLPage" (an HTML page
	// where JSON was expected, summarised by its title) and "NotAToken"
	// (a token endpoint's answer without a token).
	Name string
	// Message is the Director's or the token endpoint's message.
	Message string
	// StatusCode is the HTTP status when it was not 200; 0 otherwise.
	StatusCode int
	// RetryAfter is the wait the Director or its gateway asked for with a
	// Retry-After header on an answer with a retryable status; 0 when it
	// named none.
	RetryAfter time.Duration
	// Attempts is how many times the request was sent when more than once
	// failed; 0 or 1 otherwise.
	Attempts int

	kind  error
	cause error
	// fix names the Config fields to check, when a configuration value
	// is the likely cause.
	fix *remote.ConfigError
}

// Error renders the operation, the Director's error name and its message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("compass: ")
	b.WriteString(e.Operation)
	b.WriteString(": ")
	if e.Name != "" {
		b.WriteString(e.Name)
		if e.Message != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Message)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	b.WriteString(transport.Attempts(e.Attempts))
	if e.fix != nil {
		b.WriteString("; ")
		b.WriteString(e.fix.Error())
	}
	return b.String()
}

// Unwrap returns the classifying ocsync sentinel, the underlying cause and
// the *remote.ConfigError naming the Config fields to check, when there
// are any.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	if e.fix != nil {
		errs = append(errs, e.fix)
	}
	return errs
}

// Kind returns the ocsync sentinel the error is classified as, or nil.
func (e *Error) Kind() error { return e.kind }

// kindOf maps the Director's error name and the HTTP status to a sentinel,
// following the fact sheet: names first, then the status, then
// InternalError as retryable. Only what concerns the whole run is fatal:
// 401, 403 and 400 (the Director's middleware answers 400 for a missing
// token or an unknown tenant). 408 is retryable, 413 (an ingress refusing
// one large body) invalid input, and any other 4xx, as a proxy may answer
// one request (404, 405, 431, ...), is left unclassified: it fails that
// item only.
func kindOf(name string, status int) error {
	switch name {
	case "NotFound":
		return remote.ErrNotFound
	case "NotUniqueName", "NotUnique":
		return ocsync.ErrConflict
	case "InvalidData":
		return remote.ErrInvalidInput
	case "InsufficientScopes", "Unauthorized", "TenantRequired", "TenantNotFound":
		return ocsync.ErrFatal
	case "ConcurrentOperation":
		return remote.ErrRetryable
	}
	switch {
	case status == http.StatusUnprocessableEntity, status == http.StatusRequestEntityTooLarge:
		return remote.ErrInvalidInput
	case status == http.StatusBadRequest, status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ocsync.ErrFatal
	case transport.RetryableStatus(status):
		return remote.ErrRetryable
	case status != 0 && status != http.StatusOK:
		return nil
	}
	if name == "InternalError" {
		return remote.ErrRetryable
	}
	return nil
}

// afterAttempts returns err, when it is an *Error, as a copy that says
// how many attempts failed.
func afterAttempts(err error, attempts int) error {
	var ce *Error
	if attempts <= 1 || !errors.As(err, &ce) || ce != err {
		return err
	}
	cp := *ce
	cp.Attempts = attempts
	return &cp
}

// ErrMalformed is wrapped by the *Error of an answer that does not have the
// shape the operation promises: a null or missing page, item, field or id.
// Such an answer never counts as an empty result.
var ErrMalformed = errors.New("malformed answer")

// malformed is the *Error of a malformed answer to op; what says what was
// wrong (never a value from the answer).
func malformed(op, what string) *Error {
	return &Error{Operation: op, Name: "MalformedAnswer", Message: what, cause: ErrMalformed}
}

// classify turns an error of one request into an *Error whose every text
// from the Director, the token endpoint or the network passed through
// q.Quote. parent is the caller's context: when it is done, its error is
// returned as is, because the run was cancelled and nothing should be
// retried.
func classify(parent context.Context, q *redact.Scrubber, op string, err error) error {
	if err == nil {
		return nil
	}
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("compass: %s: %w", op, perr)
	}
	var ce *Error
	if errors.As(err, &ce) {
		if ce.Operation == "token" || ce.Operation == op {
			return ce
		}
		cp := *ce
		cp.Operation = op
		return &cp
	}
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return &Error{Operation: op, Name: "HTTPError", Message: http.StatusText(ra.status), StatusCode: ra.status,
			RetryAfter: ra.wait, kind: remote.ErrRetryable}
	}
	var page *transport.PageError
	if errors.As(err, &page) {
		return htmlPageError(op, page, "DirectorURL")
	}
	var he *graphql.HTTPError
	if errors.As(err, &he) {
		e := fromGQLErrors(q, op, he.Response.Errors)
		e.StatusCode = he.StatusCode
		if e.Name == "" {
			e.Name = "HTTPError"
		}
		if e.Message == "" {
			e.Message = http.StatusText(he.StatusCode)
		}
		e.kind = kindOf(e.Name, he.StatusCode)
		return e
	}
	var gl gqlerror.List
	if errors.As(err, &gl) && len(gl) > 0 {
		e := fromGQLErrors(q, op, gl)
		e.kind = kindOf(e.Name, 0)
		return e
	}
	return transportError(q, op, err)
}

// transportError classifies a failure below GraphQL: a refused redirect is
// fatal (the endpoint is misconfigured, and retrying cannot help), a timeout
// and any other network failure retryable. The URL of a *url.Error is left
// out: a redirect's location may carry a query.
func transportError(q *redact.Scrubber, op string, err error) *Error {
	var tooLarge *transport.TooLargeError
	switch {
	case errors.Is(err, endpoint.ErrRedirectRefused):
		return &Error{Operation: op, Name: "RedirectRefused", Message: transport.Describe(q, err), kind: ocsync.ErrFatal, cause: endpoint.ErrRedirectRefused}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Operation: op, Name: "Timeout", Message: "request timed out", kind: remote.ErrRetryable, cause: context.DeadlineExceeded}
	case errors.Is(err, context.Canceled):
		return &Error{Operation: op, Name: "Canceled", Message: "request cancelled", cause: context.Canceled}
	case errors.As(err, &tooLarge):
		return &Error{Operation: op, Name: "ResponseTooLarge", Message: tooLarge.Error(), cause: ErrMalformed}
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		// The answer was HTTP 200 but not the JSON the operation promises.
		return &Error{Operation: op, Name: "MalformedAnswer", Message: q.Quote(err.Error()), cause: ErrMalformed}
	}
	return &Error{Operation: op, Name: "NetworkError", Message: transport.Describe(q, err), kind: remote.ErrRetryable}
}

// fromGQLErrors reads the first error of a GraphQL error list; every text in
// it is quoted through q.
func fromGQLErrors(q *redact.Scrubber, op string, list gqlerror.List) *Error {
	e := &Error{Operation: op}
	if len(list) == 0 || list[0] == nil {
		return e
	}
	first := list[0]
	e.Message = q.Quote(first.Message)
	if name, ok := first.Extensions["error"].(string); ok {
		e.Name = q.Quote(name)
	}
	switch code := first.Extensions["error_code"].(type) {
	case float64:
		if code >= 0 && code <= 1<<16 {
			e.Code = int(code)
		}
	case int:
		e.Code = code
	}
	if len(list) > 1 {
		e.Message += fmt.Sprintf(" (and %d more errors)", len(list)-1)
	}
	return e
}

// htmlPageError is the *Error of an HTML page where JSON was expected (see
// transport.PageCheck): classified by its status, and, unless the status
// is one worth another attempt (a proxy's error page), fatal and naming
// field, the Config field of the URL, as the likely fix.
func htmlPageError(op string, page *transport.PageError, field string) *Error {
	e := &Error{Operation: op, Name: "HTMLPage", Message: strings.TrimSpace(page.URL + " " + page.Summary()),
		StatusCode: page.StatusCode, kind: kindOf("", page.StatusCode), cause: page}
	if !transport.RetryableStatus(page.StatusCode) {
		e.kind, e.fix = ocsync.ErrFatal, fixOf(field)
	}
	return e
}

// notTokenError reports a successful answer of the token endpoint that
// holds no token (see tokenAnswerTransport).
type notTokenError struct {
	what string
}

func (e *notTokenError) Error() string { return "answered " + e.what + " instead of a token" }

// fixOf names the Config fields to check.
func fixOf(fields ...string) *remote.ConfigError {
	return &remote.ConfigError{Config: "compass", Fields: fields}
}

// tokenError classifies a failure to get a token from tokenURL: a refusal
// by the token endpoint (invalid_client, invalid_scope, ...) is fatal, rate
// limits, server errors and network failures are retryable. An answer that
// is no token (an HTML page, JSON without access_token) is fatal too: the
// URL is not the token endpoint, and asking again cannot help. Refused
// client credentials name ClientID, ClientSecret and TokenURL, an answer
// that is no token TokenURL (a *remote.ConfigError in the chain). The
// message names the token URL (endpoint.Redacted) and holds the OAuth2
// error code and description only, quoted through q, never the body.
func tokenError(q *redact.Scrubber, tokenURL string, err error) *Error {
	at := endpoint.Redacted(tokenURL)
	var (
		re   *oauth2.RetrieveError
		page *transport.PageError
		nt   *notTokenError
	)
	switch {
	case errors.As(err, &page):
		page.URL = at
		return htmlPageError("token", page, "TokenURL")
	case errors.As(err, &nt):
		return &Error{Operation: "token", Name: "NotAToken", Message: at + " " + nt.Error(), StatusCode: http.StatusOK,
			kind: ocsync.ErrFatal, cause: ErrMalformed, fix: fixOf("TokenURL")}
	case errors.As(err, &re):
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		e := &Error{Operation: "token", Name: q.Quote(re.ErrorCode), StatusCode: status}
		if e.Name == "" {
			e.Name = "HTTPError"
		}
		e.Message = "token request refused by " + at
		if re.ErrorDescription != "" {
			e.Message += ": " + q.Quote(re.ErrorDescription)
		}
		switch {
		case transport.RetryableStatus(status):
			e.kind = remote.ErrRetryable
			e.RetryAfter, _ = transport.RetryAfter(re.Response, time.Now())
		default:
			e.kind = ocsync.ErrFatal
		}
		switch {
		case re.ErrorCode == "invalid_client", re.ErrorCode == "unauthorized_client", status == http.StatusUnauthorized:
			e.fix = fixOf("ClientID", "ClientSecret", "TokenURL")
		case status == http.StatusNotFound, status == http.StatusMethodNotAllowed:
			e.fix = fixOf("TokenURL")
		}
		return e
	}
	e := transportError(q, "token", err)
	if e.Name == "MalformedAnswer" {
		// oauth2 could not read the token endpoint's answer.
		e.kind = remote.ErrRetryable
	}
	return e
}

// retryAfterError reports an answer with a retryable status that named a
// wait in a Retry-After header. genqlient keeps no response headers, so the
// transport turns such an answer into this error for the retry loop.
type retryAfterError struct {
	status int
	wait   time.Duration
}

func (e *retryAfterError) Error() string {
	return fmt.Sprintf("HTTP %d, retry after %v", e.status, e.wait)
}
