// Package octest provides a fake SAP Open Connectors platform for tests, in
// the style of net/http/httptest: NewServer starts a real HTTP server on a
// loopback address that serves the platform endpoints a sync job uses, below
// /elements/api-v2:
//
//	GET /instances                  list instances (tags[], pageSize, nextPage)
//	GET /instances/{id}             one instance
//	GET /instances/{id}/docs        the instance's API document
//
// Server.URL is the server's root (http://127.0.0.1:port, without the API
// path); give it to openconnectors.Config.Host as it is.
//
// The fake behaves like the platform where the platform's behaviour is known
// and makes an explicit choice where it is not:
//   - Every request must carry exactly "Authorization: User <u>, Organization
//     <o>" with the server's secrets; otherwise it gets 401 with the
//     platform's error body {"requestId": "...", "message": "..."}. An Accept
//     header that does not admit application/json gets 406.
//   - Listings are ordered by id and paged with an opaque cursor in the
//     Elements-Next-Page-Token header, absent on the last page. pageSize
//     defaults to 200; larger values are served as 200. With WithTotalCount
//     each page also carries Elements-Total-Count (the platform does not
//     document whether it sends it).
//   - Several tags[] values select instances carrying ANY of them (the
//     platform does not document its rule).
//   - An instance without a spec of its own is served the document its
//     generator makes (WithSpecFunc, SetSpecFunc: large documents made on
//     each request instead of held in memory), else the document set with
//     WithDefaultSpec, else a small generated Swagger 2.0 document.
//   - Unknown ids get 404 with an error body; ids that are not integers 400.
//
// Tests change the platform at run time (Put, Update, Remove, SetSpec,
// RemoveSpec), inject latency, statuses, Retry-After and other headers (a
// cursor or a total count of their choice included), malformed bodies and
// bodies that trickle in byte by byte per endpoint (AddFault), make the
// server repeat its cursor (SetRepeatCursor) or echo the request's
// Authorization header and query in error bodies and headers (WithEcho,
// SetEcho: a platform a client must not trust with its secrets), and read
// request counters (Requests, Count), rejected requests included. A Server
// is safe for concurrent use.
package octest
