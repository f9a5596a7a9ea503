package compasstest

import (
	"maps"
	"time"
)

// Fault changes how the server answers calls of one operation. Operations
// are named by their top-level GraphQL field (e.g. "registerApplication",
// "applications"; each aliased field of a request is a call) or
// TokenOperation for the token endpoint. Without Status, Code or Malformed
// the call fails with InternalError.
type Fault struct {
	// Times is how many calls the fault affects: 0 means every call until
	// ClearFaults, n > 0 the next n.
	Times int
	// Status, when set, is the HTTP status of the whole response (e.g. 503
	// or 502); the body is plain text, as from a proxy, unless Body is
	// set.
	Status int
	// Body, with Status (200 included), is the body of the whole response
	// instead of the plain text, sent with ContentType: a proxy's HTML
	// error page, a login page at a wrong URL, a token endpoint's answer
	// without a token. For TokenOperation it is the token endpoint's
	// answer.
	Body []byte
	// ContentType is the Content-Type of Body; empty means
	// "text/html; charset=utf-8".
	ContentType string
	// Code, used when Status is 0, is the Director error code sent in a
	// GraphQL error with HTTP 200 (e.g. InternalError, NotUniqueName).
	Code ErrorCode
	// Message overrides the error message for Code.
	Message string
	// After runs the operation first and fails only its answer: a
	// mutation's changes are stored although the client sees an error (a
	// change committed whose answer was lost). Not available for
	// TokenOperation.
	After bool
	// Malformed, when set, answers HTTP 200 without any error but with an
	// answer that breaks the schema's promise in the way named (Status and
	// Code are ignored). A query runs as usual before its answer is
	// changed; a mutation runs only with After. Not available for
	// TokenOperation.
	Malformed Malformation
}

// Malformation is a way an answer can break the shape the schema promises,
// as a faulty gateway or Director might send it. Each applies to the
// answer of the faulted top-level field (under its alias, if any).
type Malformation int

// The malformations.
const (
	// DataNull answers {"data": null}.
	DataNull Malformation = iota + 1
	// FieldNull makes the field null (for applications, the page).
	FieldNull
	// ItemsNull makes the data array of a page null.
	ItemsNull
	// NullItem appends a null item to the data array of a page.
	NullItem
	// MissingID removes the id of the field's object, or of the first item
	// of a page (a mutation that did not run answers an empty object).
	MissingID
	// PageInfoNull makes the pageInfo of a page null.
	PageInfoNull
	// EndlessCursor makes a page claim a next page, with an endCursor never
	// used before that leads to the first page again: with Times 0, a
	// listing that follows cursors never ends.
	EndlessCursor
)

// AddFault adds a fault for the calls of operation op. Faults of one
// operation are matched in the order added: the first one left applies to a
// call, so a fault for every call hides those added after it.
func (s *Server) AddFault(op string, f Fault) {
	if f.Status == 0 && f.Code == 0 && f.Malformed == 0 {
		f.Code = InternalError
	}
	s.faults.Add(op, f, f.Times)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// takeFault counts a call of op and returns the fault that applies to it,
// consuming one use; nil when none does.
func (s *Server) takeFault(op string) *Fault {
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	f, ok := s.faults.Take(op, nil)
	if !ok {
		return nil
	}
	return &f
}

// SetLatency delays every following HTTP request by d (0 turns it off).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Requests returns the number of HTTP requests served, token requests and
// rejected requests included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Count returns how often operation op was called: a top-level GraphQL
// field name (each aliased field of a request counts), or TokenOperation for
// token requests. GraphQL requests refused before they run (no valid token,
// an unknown tenant, a schema violation) call no operation.
func (s *Server) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Counts returns the count of every operation called so far.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// FieldExecutions returns how many top-level GraphQL fields the Director
// executed so far, over all operations: each aliased field of a request
// counts as one (twenty aliased applications look-ups in one request are
// twenty listings to the Director's database), token requests do not. It is
// the measure of the Director's work that a request count hides.
func (s *Server) FieldExecutions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for op, c := range s.calls {
		if op != TokenOperation {
			n += c
		}
	}
	return n
}

// ResetCounts sets every request and call counter back to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = 0
	clear(s.calls)
}
