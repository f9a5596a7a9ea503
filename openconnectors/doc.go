// Package openconnectors reads the connector instances of one SAP Open
// Connectors tenant and serves them as an ocsync.Source.
//
// A Client talks to the platform API under https://<host>/elements/api-v2
// (see ParseHost) with the tenant's user and organization secrets. It lists
// instances (following the Elements-Next-Page-Token cursor, with tag
// filtering) and reads one instance's API document. Config.Validate states
// every configuration rule; its errors are *remote.FieldError values.
//
// # Listings are all or nothing
//
// Client.Instances returns every page or an error, never a part of a
// listing, so that a malformed answer can never make instances (and their
// applications) disappear. Every page must be a JSON array; every item a
// JSON object with an id that is a positive integer within int64 (a number,
// or a string holding one), whose known fields have their JSON types or are
// null: name, token, element.key and element.name strings, element an
// object, tags an array of strings or {id, name} objects, disabled and
// valid booleans, updatedDate a number or a string. Unknown fields are
// ignored. Anything else fails the listing with an error naming the page,
// the item's index and the field; nothing is ever dropped with only a
// warning. Identical objects with one id are listed once; differing objects
// with one id fail the listing.
//
// With tags configured, the platform selects by the tags sent and the
// client filters again with its own rule, ANY, on the items that carry a
// tags array. The platform may leave tags out of its items (without
// hydrate): an item whose tags are absent or null is trusted to match and
// listed, so that a terser answer cannot shrink the listing. Only an item
// whose tags array holds none of the configured tags is left out.
//
// An instance that decodes but cannot be mapped (an empty name, no token or
// element key, a token or key that would corrupt the Authorization header,
// a token shorter than redact.MinLength that could not be scrubbed from
// logs) is listed; Source.Application marks its application unusable
// (ocsync.Application.Unusable), and the engine leaves an existing
// application exactly as it is. Only the platform's own word, disabled: true
// or valid: false, makes the status FAILED.
//
// # Bounds
//
// Every loop and every read is bounded:
//   - a listing page's body: MaxListPageBytes; a document: Config.MaxSpecBytes
//     (a body announced larger is refused unread); the start of an error body:
//     64 KiB read, all of it scrubbed, then redact.MaxQuotedBytes quoted;
//   - one attempt of a listing request: Config.Timeout, of a document
//     request: Config.SpecTimeout, each for the whole exchange, body
//     included, however slowly the server sends it;
//   - retries: Config.MaxRetries (at most MaxRetriesLimit) per request, each
//     wait at most remote.MaxRetryWait;
//   - pages: ocsync.MaxApplications / PageSize; instances:
//     ocsync.MaxApplications. Elements-Total-Count, whose presence and
//     meaning on /instances are not documented, is only logged: a listing
//     that takes more than ceil(total / PageSize) + PageSlack pages logs a
//     warning and goes on;
//   - cursors: at most MaxCursorBytes; a cursor seen before (a repeated
//     cursor or a cycle) or a page without items that names a next page
//     ends the listing with an error;
//   - redirects: endpoint.MaxRedirects, to the same scheme, host and port only.
//
// # Errors
//
// GETs that fail on the network, with 408, 429 or a 5xx status are retried
// by resty under the HTTP policy the compass Registry shares, with
// Config.Backoff (remote.DefaultBackoff, which honours Retry-After); other client errors, refused redirects, untrusted
// certificates and oversized bodies are not retried. Errors are *APIError
// values for refused requests and wrap remote.ErrRetryable (network, 408,
// 429, 5xx), remote.ErrNotFound (404) or remote.ErrInvalidSpec (a document that
// is not an acceptable OpenAPI document, a *SpecError), so callers can tell
// them apart with errors.Is. 401 and 403 on the listing wrap ocsync.ErrFatal
// (the tenant's secrets are refused); on one instance's document they
// concern that instance only and are ordinary item errors naming it.
//
// # Secrets
//
// No secret or instance token ever appears in an error or a log. The client
// registers the tenant's secrets and every instance token it lists, with the
// Authorization values made of them, with Config.Scrubber (shared by the
// clients of a run); every text the platform sent (error messages, request
// ids, bodies that are not JSON, header values, transport error texts) is
// scrubbed and cut with redact.Scrubber.Quote before an error or a log
// record holds it. Redirects are followed only to the configured scheme,
// host and port (endpoint.CheckRedirect, before a caller's own policy).
// Config.RootCAs trusts a private certificate authority; verification is
// always on.
//
// A Source maps every instance to an ocsync.Application: one application per
// instance, named <prefix>-<id>, with one bundle and one API definition whose
// spec is the instance's document, fetched lazily by Source.Spec. It knows
// its ocsync.Scope (the client's context and SourceOptions.Owner).
//
// The package openconnectors/octest provides a fake platform for tests.
package openconnectors
