package remote

import (
	"strconv"
	"time"
)

// The names of the remote APIs of this module, the Remote of a Request.
const (
	// OpenConnectors is the Open Connectors platform API.
	OpenConnectors = "openconnectors"
	// Compass is the Compass Director and its token endpoint.
	Compass = "compass"
)

// OutcomeError is the Outcome of an attempt that ended without a complete
// answer: a network failure, a timeout, a refused certificate or redirect,
// an answer too large or cut short.
const OutcomeError = "error"

// Request is one attempt of a request to a remote API as the client that
// sent it reports it: a retried request is one Request per attempt, and a
// redirect one per hop. It holds no URL, header or body.
type Request struct {
	// Remote names the API (OpenConnectors, Compass).
	Remote string
	// Method is the HTTP method.
	Method string
	// Status is the HTTP status of a complete answer; 0 when the attempt
	// ended without one.
	Status int
	// Duration is how long the attempt took, reading the answer included.
	Duration time.Duration
}

// Outcome is the class of the attempt's status, "2xx", "3xx", "4xx" or
// "5xx", or OutcomeError when it got no complete answer (or a status
// outside 100..599).
func (r Request) Outcome() string {
	if r.Status < 100 || r.Status > 599 {
		return OutcomeError
	}
	return strconv.Itoa(r.Status/100) + "xx"
}

// RequestObserver is told about every attempt of a request a client sends
// (see Request). It is called from the goroutine that sent the request,
// from several at once when requests run in parallel, and must return
// quickly.
type RequestObserver func(Request)
