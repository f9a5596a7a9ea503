package compasstest

import (
	"maps"
	"time"
)

// Fault makes the next calls of one operation fail. Operations are named by
// their top-level GraphQL field (e.g. "registerApplication", "applications")
// or TokenOperation for the token endpoint.
type Fault struct {
	// Times is how many calls fail; 0 means 1.
	Times int
	// Status, when set, is the HTTP status of the whole response (e.g. 503
	// or 502); the body is plain text, as from a proxy.
	Status int
	// Code, used when Status is 0, is the Director error code sent in a
	// GraphQL error with HTTP 200 (e.g. InternalError, NotUniqueName).
	Code ErrorCode
	// Message overrides the error message for Code.
	Message string
	// AfterCommit runs the operation first and fails only its answer: a
	// mutation's changes are stored although the client sees an error.
	// Not available for TokenOperation.
	AfterCommit bool
	// Malformed, when set, answers HTTP 200 without any error but with an
	// answer that breaks the schema's promise in the way named (Status and
	// Code are ignored). A query runs as usual before its answer is
	// changed; a mutation runs only with AfterCommit. Not available for
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
	// used before that leads to the first page again: with Times large, a
	// listing that follows cursors never ends.
	EndlessCursor
)

// InjectFault queues a fault for the next calls of operation op. Faults
// queued for the same operation apply one after the other.
func (s *Server) InjectFault(op string, f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Status == 0 && f.Code == 0 && f.Malformed == 0 {
		f.Code = InternalError
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], &f)
}

// ClearFaults removes all queued faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// takeFault counts a call of op and returns the fault that applies to it.
func (s *Server) takeFault(op string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	queue := s.faults[op]
	if len(queue) == 0 {
		return nil
	}
	f := *queue[0]
	queue[0].Times--
	if queue[0].Times <= 0 {
		s.faults[op] = queue[1:]
	}
	return &f
}

// SetLatency delays every following HTTP request by d (0 turns it off).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Requests returns the number of HTTP requests served, token requests
// included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Calls returns how often operation op was called: a top-level GraphQL
// field name, or TokenOperation for token requests.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// CallCounts returns the calls of every operation called so far.
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// ResetCounters sets all request and call counters to zero.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = 0
	clear(s.calls)
}
