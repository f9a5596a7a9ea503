// Package compass keeps Compass applications in the shape ocsync asks for: it
// implements ocsync.Registry against the Kyma Compass Director GraphQL API.
//
// A Registry lists the applications that carry this job's identity label
// (open_connectors, matched by the Director's JSON containment filter and
// checked again on the client), and registers, updates and unregisters them.
// Each application holds one bundle with one API definition: the Open
// Connectors instance's OpenAPI document, its target URL and the
// Authorization header the instance needs. A second label,
// open_connectors_state, records a hash of every synchronised field so that
// drift is found from the listing alone; the Director never returns the
// stored Authorization header to an integration system.
//
// Requests authenticate with OAuth2 client credentials (scopes
// application:read and application:write, one token per run, fetched again only
// when it expires or the Director answers HTTP 401) and name the tenant in a "tenant" header. Every request
// has a timeout; queries and idempotent mutations are retried with capped,
// jittered backoff, waiting at least what a Retry-After header on HTTP 429 or
// 503 asks for (up to MaxRetryAfter). Errors are classified by the Director's
// extensions.error and wrap the ocsync sentinels (ErrNotFound, ErrConflict,
// ErrInvalidInput, ErrFatal, ErrRetryable), so callers use errors.Is and
// errors.As with *Error.
//
// The Director rewrites legacy strings such as "packageID" in raw request
// bodies. The Registry escapes one character of every such string inside
// JSON string values (as a \u escape that JSON decoding undoes), so specs and
// labels reach the Director byte for byte.
package compass

//go:generate go tool genqlient
