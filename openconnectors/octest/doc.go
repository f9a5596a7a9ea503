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
// The three fakes (this one, compass/compasstest and ocsync/ocsynctest)
// share one idiom:
//
//	s := octest.NewServer(octest.WithInstances(instances...), octest.WithEcho())
//	defer s.Close()
//	s.AddFault(octest.EndpointDocs, octest.Fault{Status: 429, RetryAfter: "1", Times: 1})
//	... run the client ...
//	s.Count(octest.EndpointDocs), s.Requests(), s.ResetCounts(), s.ClearFaults()
//
// Options given to NewServer set the secrets (WithSecrets), seed instances
// (WithInstances), choose the documents served (WithDefaultSpec,
// WithSpecFunc), send total counts (WithTotalCount) and echo the request's
// Authorization header and query in error bodies and headers (WithEcho: a
// platform a client must not trust with its secrets).
//
// At run time, tests change the platform (Put, PutRaw, Update, Remove,
// SetSpec, RemoveSpec, SetSpecFunc), turn echoing on and off (SetEcho), make
// the server repeat its cursor (SetRepeatCursor), and add faults per
// endpoint (AddFault, optionally for one instance): latency, statuses,
// Retry-After and other headers (a cursor or a total count of their choice
// included), malformed bodies and bodies that trickle in byte by byte, for
// every matching request until ClearFaults (Fault.Times 0) or the next n.
// Count, Counts and Requests count requests, rejected ones included, until
// ResetCounts; LastQuery returns the query of an endpoint's last request. A
// Server is safe for concurrent use.
package octest
