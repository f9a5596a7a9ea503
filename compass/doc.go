// Package compass keeps Compass applications in the shape ocsync asks for: it
// implements ocsync.Registry (and ocsync.Scoped and ocsync.Names) against the Kyma Compass Director GraphQL API.
//
// # Applications
//
// A Registry lists the applications that carry its identity label
// (Config.Labels, by default open_connectors, matched by the Director's JSON containment filter on
// Config.Scope and checked again on the client), and registers, updates and
// unregisters them. Each application holds one bundle with one API
// definition: the source's API document, its target URL and the
// Authorization header the source needs. mapping.go holds the whole mapping
// of an ocsync.Application to the Director's inputs, with the Director's
// name rules (NormalizeName, ASCIIName) and limits (a name of at most 100
// characters, a description cut to 2000): a source hands its values as
// they are. A second label (by default open_connectors_state) records a hash of every synchronised field; the
// Director never returns the stored Authorization header to an integration
// system.
//
// # What a run costs
//
// The listing reads only what planning needs: id, name, description,
// provider name, status and labels, without the nested bundles and API
// definitions, whose resolvers make a page about twice as expensive. Drift
// is found from the labels alone: a changed description, provider, status,
// bundle name, API name, target URL, credential or document shows in the
// state label's hashes, a missing state label makes every field an update,
// and an identity label of an older form marks the application Incomplete
// so that the next update rewrites it. The description, provider name and
// status are also read back (ocsync.Registered.ReadBack): one changed in
// the Director by hand is written again by the next run. The ids of an application's bundle
// and API definition are read (one application query) only for an
// application that is updated, when it is updated. The plan therefore
// cannot show the old bundle, API or target URL values, nor see a missing
// bundle or API definition: one is found when the application is next
// updated (every application is updated at least at its spec refresh,
// daily by default) and added in that run. An update that finds a part
// missing but was given no spec (the document was unchanged, so none was
// sent) first records a state claiming no spec, then loads the document
// through ocsync.Update.LoadSpec and adds the part with it; when the
// document cannot be loaded it writes what it can and fails with
// ErrIncomplete, and the next run sends it.
//
// The names the plan would create are looked up first (Registry.Taken), so
// that a clash with an application of someone else is a conflict in the
// plan, costing neither a download nor a refused register. The look-up is
// kept to a small share of what the creates cost the Director: few names
// (at most TakenBatch) are looked up one by one by the Director's own name
// label; for many, one page of the tenant's names per TakenShare names is
// read instead (one page for a cold sync into an empty tenant), and nothing
// when the tenant is larger than that. A clash the look-up skipped is
// refused at register once; the next run, which creates few, finds it in
// the plan.
//
// # Answers are untrusted
//
// Every answer is checked for the shape the schema promises before it is
// used. A listing is all or nothing: a null page, null data or pageInfo, a
// null item, an item without id or name, or a last page that leaves fewer
// applications than the Director counts fails the whole listing with an
// error naming the page and wrapping ErrMalformed (the engine reports it as
// ocsync.ErrListFailed, before any change). Pagination stops with an error
// on a cursor that does not advance, any cursor seen before, an empty page
// or an empty cursor that claims a next page, and after ceil(totalCount /
// PageSize) + 2 pages (the slack allows for applications registered or
// deleted by others between two pages, which shifts the Director's offset
// cursors), never more than ocsync.MaxApplications / PageSize pages. A
// mutation counts only when its answer holds the object written, with its
// id (setApplicationLabel: the label's key); {"data": null}, a null field or
// a missing id is an error. Answers are read up to MaxResponseBytes.
//
// # Requests
//
// Requests authenticate with OAuth2 client credentials (scopes
// application:read and application:write, one token per run, fetched again
// only when it expires or the Director answers HTTP 401) and name the tenant
// in a "tenant" header. Every request has a timeout. The HTTP policy is the
// one the Open Connectors client shares (408, 429 and 5xx and network
// failures are retryable, at most Config.MaxRetries times, each wait from
// Config.Backoff capped by remote.RetryWait; the default backoff waits at
// least what a Retry-After header asks for; a warning per retry, and the
// final error says how many attempts failed). One retry loop serves every
// call: queries and idempotent mutations are retried; a register
// whose outcome is uncertain (a network or server error, or a malformed
// answer) is looked up before it is sent again, so it never happens twice;
// adding a bundle or an API definition is never retried. No redirect is
// followed (endpoint.CheckRedirect refuses every redirect of a POST), so no
// body, token, tenant or client credential goes anywhere else. The default
// transport trusts the system's certificate authorities, or Config.RootCAs.
//
// Errors are classified by the Director's extensions.error and wrap the
// ocsync sentinels (ErrNotFound, ErrConflict, ErrInvalidInput, ErrFatal,
// ErrRetryable), so callers use errors.Is and errors.As with *Error. Without
// a known name the HTTP status decides: 400, 401 and 403 are fatal, 408, 429
// and 5xx retryable, 413 and 422 invalid input; any other status fails the
// one call only.
//
// Every text a remote sent (GraphQL messages and extensions, HTTP bodies,
// the token endpoint's error_description, network errors) is quoted through
// Config.Scrubber, which knows the client secret, the Basic credentials,
// every token and every application credential before it is sent, and is
// cut to redact.MaxQuotedBytes: a Director that echoes a request cannot make
// a secret reach an error or a log record.
//
// The Director rewrites legacy strings such as "packageID" in raw request
// bodies. The Registry escapes one character of every such string inside
// JSON string values (as a \u escape that JSON decoding undoes), so specs and
// labels reach the Director byte for byte.
package compass

//go:generate go tool genqlient
