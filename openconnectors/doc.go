// Package openconnectors reads the connector instances of one SAP Open
// Connectors tenant and serves them as an ocsync.Source.
//
// A Client talks to the platform API under https://<host>/elements/api-v2
// with the tenant's user and organization secrets. It lists instances
// (following the Elements-Next-Page-Token cursor until the last page, with
// tag filtering) and reads one instance's API document with a size cap. Calls
// that fail on the network, with 429 or with a 5xx status are retried with
// capped exponential backoff and jitter, honouring Retry-After; other client
// errors are not retried. Errors are *APIError values for refused requests
// and wrap ocsync.ErrFatal (401, 403), ocsync.ErrRetryable (network, 429,
// 5xx), ocsync.ErrNotFound (404) or ocsync.ErrInvalidSpec (a document that is
// not an acceptable OpenAPI document), so callers can tell them apart with
// errors.Is. No secret or instance token ever appears in an error or a log.
//
// A Source maps every instance to an ocsync.Application: one application per
// instance, named <prefix>-<id>, with one bundle and one API definition whose
// spec is the instance's document, fetched lazily by Source.Spec.
//
// The package openconnectors/octest provides a fake platform for tests.
package openconnectors
