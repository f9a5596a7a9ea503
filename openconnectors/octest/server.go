package octest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kyma-incubator/open-connectors-job/internal/faults"
)

// Default secrets of a Server.
const (
	DefaultUserSecret         = "octest-user-secret"
	DefaultOrganizationSecret = "octest-organization-secret"
)

// MaxPageSize is the largest page the fake serves, and its default.
const MaxPageSize = 200

// apiPath is where the platform API lives on the server.
const apiPath = "/elements/api-v2"

// Endpoint names an endpoint of the fake for faults and counters.
type Endpoint string

// The endpoints.
const (
	// EndpointInstances is GET /instances.
	EndpointInstances Endpoint = "GET /instances"
	// EndpointInstance is GET /instances/{id}.
	EndpointInstance Endpoint = "GET /instances/{id}"
	// EndpointDocs is GET /instances/{id}/docs.
	EndpointDocs Endpoint = "GET /instances/{id}/docs"
	// EndpointOther is any other request; it is answered 404 (or 405 for a
	// known path with another method).
	EndpointOther Endpoint = "other"
)

// Element is the connector of an instance.
type Element struct {
	// ID is the connector id.
	ID int64 `json:"id"`
	// Key is the connector key, for example "sfdc".
	Key string `json:"key"`
	// Name is the connector's display name.
	Name string `json:"name"`
}

// Instance is a connector instance held by the fake. Its zero values make an
// enabled, valid instance.
type Instance struct {
	// ID identifies the instance.
	ID int64
	// Name is the display name.
	Name string
	// Token is the instance token, served in clear as the platform does.
	Token string
	// Element is the connector.
	Element Element
	// Tags are the instance's tags.
	Tags []string
	// Disabled serves "disabled": true.
	Disabled bool
	// Invalid serves "valid": false.
	Invalid bool
	// UpdatedDate is served as "updatedDate" (epoch milliseconds) when not
	// zero.
	UpdatedDate int64
}

// wire is the instance as the platform serves it.
type wire struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Token       string   `json:"token"`
	Element     Element  `json:"element"`
	ElementID   int64    `json:"elementId"`
	Tags        []string `json:"tags"`
	Disabled    bool     `json:"disabled"`
	Valid       bool     `json:"valid"`
	UpdatedDate int64    `json:"updatedDate,omitempty"`
}

func (in Instance) marshal() []byte {
	tags := in.Tags
	if tags == nil {
		tags = []string{}
	}
	b, err := json.Marshal(wire{
		ID: in.ID, Name: in.Name, Token: in.Token, Element: in.Element, ElementID: in.Element.ID,
		Tags: tags, Disabled: in.Disabled, Valid: !in.Invalid, UpdatedDate: in.UpdatedDate,
	})
	if err != nil {
		panic(err) // only strings, numbers and bools: cannot fail
	}
	return b
}

// entry is one stored instance with its encoded form.
type entry struct {
	inst Instance // zero for raw entries except ID and Tags
	raw  bool
	body []byte
}

// Fault changes how the server answers requests to one endpoint.
type Fault struct {
	// Latency delays the answer. The wait holds no lock and ends early when
	// the client gives up.
	Latency time.Duration
	// Status, when not zero, is sent instead of the normal answer, with
	// Body or, when Body is nil, the platform's error body.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Body replaces the answer's body: with Status, the error body; without
	// it, the body of a normal 200 answer (to serve malformed documents).
	Body []byte
	// Header holds extra headers set on the answer.
	Header http.Header
	// InstanceID restricts the fault to one instance on the per-instance
	// endpoints; zero matches every request.
	InstanceID int64
	// Times is how many matching requests the fault affects; zero means
	// every one until ClearFaults.
	Times int
	// Trickle, when not zero, sends the answer's body one byte at a time
	// with this pause before each byte (after the headers, which carry the
	// full Content-Length), so a client's timeout must cover reading the
	// body. The pauses end early when the client gives up.
	Trickle time.Duration
}

// Server is a fake Open Connectors platform.
type Server struct {
	// URL is the server's root, http://127.0.0.1:port, without the API path.
	URL string
	// UserSecret is the user secret the server accepts. Set it with
	// WithSecrets; it must not change once the server runs.
	UserSecret string
	// OrganizationSecret is the organization secret the server accepts. Set
	// it with WithSecrets; it must not change once the server runs.
	OrganizationSecret string

	ts          *httptest.Server
	defaultSpec []byte
	requestSeq  atomic.Uint64

	mu           sync.RWMutex
	entries      map[int64]*entry
	order        []int64 // sorted ids; nil when it must be rebuilt
	specs        map[int64][]byte
	specFunc     func(id int64) []byte
	repeatCursor bool
	totalCount   bool

	echo atomic.Bool

	faults faults.Queue[Endpoint, Fault]

	countMu sync.Mutex
	total   int
	counts  map[Endpoint]int
	queries map[Endpoint]url.Values
}

// Option configures a Server.
type Option func(*Server)

// WithSecrets sets the secrets the server accepts.
func WithSecrets(user, organization string) Option {
	return func(s *Server) { s.UserSecret, s.OrganizationSecret = user, organization }
}

// WithInstances seeds the server with instances.
func WithInstances(instances ...Instance) Option {
	return func(s *Server) { s.put(instances) }
}

// WithDefaultSpec sets the document served for instances without a spec of
// their own. The server keeps data; do not modify it afterwards.
func WithDefaultSpec(data []byte) Option {
	return func(s *Server) { s.defaultSpec = data }
}

// WithSpecFunc makes the server generate the document of every instance
// without a spec of its own (see SetSpecFunc).
func WithSpecFunc(f func(id int64) []byte) Option {
	return func(s *Server) { s.specFunc = f }
}

// WithTotalCount makes listings send the Elements-Total-Count header: the
// number of instances matching the request's tags over all pages. The
// platform's sending it on /instances is not documented, so it is off by
// default.
func WithTotalCount() Option {
	return func(s *Server) { s.totalCount = true }
}

// WithEcho makes the server echo what a client sent, as a careless or
// hostile platform might (see SetEcho).
func WithEcho() Option {
	return func(s *Server) { s.echo.Store(true) }
}

// SetEcho turns echoing on or off. While it is on, every error body repeats
// the request's Authorization header and raw query: in clear in "message"
// (so JSON-escaped on the wire), and base64- and URL-encoded in
// "providerMessage"; and every answer carries them in the headers
// Octest-Echo-Authorization and Octest-Echo-Query. Tests use it to check
// that a client never lets an echoed secret into an error or a log.
func (s *Server) SetEcho(on bool) { s.echo.Store(on) }

// NewServer starts a fake platform on a loopback address. Call Close when
// done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		UserSecret:         DefaultUserSecret,
		OrganizationSecret: DefaultOrganizationSecret,
		entries:            map[int64]*entry{},
		specs:              map[int64][]byte{},
		counts:             map[Endpoint]int{},
		queries:            map[Endpoint]url.Values{},
	}
	for _, o := range opts {
		o(s)
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down and blocks until all requests are done.
func (s *Server) Close() { s.ts.Close() }

// Client returns an HTTP client for the server (see httptest.Server.Client).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Put adds instances or replaces those with the same id.
func (s *Server) Put(instances ...Instance) { s.put(instances) }

func (s *Server) put(instances []Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range instances {
		in.Tags = slices.Clone(in.Tags)
		if _, ok := s.entries[in.ID]; !ok {
			s.order = nil
		}
		s.entries[in.ID] = &entry{inst: in, body: in.marshal()}
	}
}

// PutRaw adds or replaces the instance id with a body served exactly as
// given (to test odd shapes: tags as objects, missing fields, dates as
// strings). tags are what tag filtering sees.
func (s *Server) PutRaw(id int64, tags []string, body json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[id]; !ok {
		s.order = nil
	}
	s.entries[id] = &entry{inst: Instance{ID: id, Tags: slices.Clone(tags)}, raw: true, body: slices.Clone(body)}
}

// Update changes the instance id with f and reports whether it exists.
// f must not change the id.
func (s *Server) Update(id int64, f func(*Instance)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok || e.raw {
		return false
	}
	in := e.inst
	in.Tags = slices.Clone(in.Tags)
	f(&in)
	in.ID = id
	s.entries[id] = &entry{inst: in, body: in.marshal()}
	return true
}

// Remove deletes instances and their specs. Unknown ids are ignored.
func (s *Server) Remove(ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.entries[id]; ok {
			delete(s.entries, id)
			delete(s.specs, id)
			s.order = nil
		}
	}
}

// Instance returns the instance id as stored (only ID and tags for a raw
// one).
func (s *Server) Instance(id int64) (Instance, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.entries[id]
	if !ok {
		return Instance{}, false
	}
	in := e.inst
	in.Tags = slices.Clone(in.Tags)
	return in, true
}

// Len returns the number of instances.
func (s *Server) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.entries)
}

// SetSpec sets the API document of instance id, served byte for byte
// whether or not it is valid. The server keeps data; do not modify it
// afterwards.
func (s *Server) SetSpec(id int64, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.specs[id] = data
}

// SetSpecFunc makes the server answer GET /instances/{id}/docs for every
// instance without a spec of its own with f(id), computed on each request
// and not kept, so that many large documents cost no memory while the server
// is idle. f must be deterministic (the same id gives the same bytes until
// the test changes it on purpose) and safe for concurrent use. A spec set
// with SetSpec still wins; nil turns the generator off, so the document set
// with WithDefaultSpec or the small generated one is served again.
func (s *Server) SetSpecFunc(f func(id int64) []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.specFunc = f
}

// RemoveSpec makes instance id be served the default document again.
func (s *Server) RemoveSpec(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.specs, id)
}

// SetRepeatCursor makes the server misbehave by sending back the cursor it
// received as the next one, so a client that follows cursors blindly loops.
func (s *Server) SetRepeatCursor(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repeatCursor = on
}

// AddFault adds a fault for the requests of ep. Faults of one endpoint are
// matched in the order added: the first one left that matches a request
// applies to it, so a fault for every request hides those added after it.
func (s *Server) AddFault(ep Endpoint, f Fault) {
	f.Header = f.Header.Clone()
	s.faults.Add(ep, f, f.Times)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// takeFault returns the fault that applies to a request, consuming one use.
func (s *Server) takeFault(ep Endpoint, id int64) (Fault, bool) {
	return s.faults.Take(ep, func(f Fault) bool { return f.InstanceID == 0 || f.InstanceID == id })
}

// Requests returns how many requests the server received, rejected ones
// included.
func (s *Server) Requests() int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	return s.total
}

// Count returns how many requests ep received, rejected ones included.
func (s *Server) Count(ep Endpoint) int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	return s.counts[ep]
}

// Counts returns the count of every endpoint requested so far, rejected
// requests included.
func (s *Server) Counts() map[Endpoint]int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	return maps.Clone(s.counts)
}

// LastQuery returns the query of the last request to ep, nil if none.
func (s *Server) LastQuery(ep Endpoint) url.Values {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	q := s.queries[ep]
	if q == nil {
		return nil
	}
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// ResetCounts sets every request counter back to zero and forgets the last
// queries.
func (s *Server) ResetCounts() {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	s.total = 0
	s.counts = map[Endpoint]int{}
	s.queries = map[Endpoint]url.Values{}
}

func (s *Server) count(ep Endpoint, q url.Values) {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	s.total++
	s.counts[ep]++
	s.queries[ep] = q
}

// route finds the endpoint of a request and the instance id in its path.
// ok is false for a known path with the wrong method.
func route(r *http.Request) (ep Endpoint, idText string, methodOK bool) {
	rest, found := strings.CutPrefix(r.URL.Path, apiPath+"/instances")
	if !found {
		return EndpointOther, "", true
	}
	methodOK = r.Method == http.MethodGet
	switch {
	case rest == "" || rest == "/":
		return EndpointInstances, "", methodOK
	case strings.HasPrefix(rest, "/"):
		parts := strings.Split(rest[1:], "/")
		switch {
		case len(parts) == 1:
			return EndpointInstance, parts[0], methodOK
		case len(parts) == 2 && parts[1] == "docs":
			return EndpointDocs, parts[0], methodOK
		}
	}
	return EndpointOther, "", true
}

func (s *Server) serveHTTP(hw http.ResponseWriter, r *http.Request) {
	ep, idText, methodOK := route(r)
	s.count(ep, r.URL.Query())
	var id int64
	if idText != "" {
		id, _ = strconv.ParseInt(idText, 10, 64)
	}
	w := &reply{ResponseWriter: hw, done: r.Context().Done()}
	if s.echo.Load() {
		w.echo, w.auth, w.query = true, r.Header.Get("Authorization"), r.URL.RawQuery
	}
	f, hasFault := s.takeFault(ep, id)
	if hasFault {
		w.trickle = f.Trickle
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		for k, v := range f.Header {
			w.Header()[k] = slices.Clone(v)
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Status != 0 {
			if f.Body != nil {
				s.writeRaw(w, f.Status, f.Body)
			} else {
				s.writeError(w, f.Status, fmt.Sprintf("injected status %d", f.Status))
			}
			return
		}
	}
	if ep == EndpointOther {
		s.writeError(w, http.StatusNotFound, "No resource found at "+r.URL.Path)
		return
	}
	if !methodOK {
		s.writeError(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed")
		return
	}
	if r.Header.Get("Authorization") != "User "+s.UserSecret+", Organization "+s.OrganizationSecret {
		s.writeError(w, http.StatusUnauthorized, "Invalid Organization or User secret, or invalid Element token provided.")
		return
	}
	if !acceptsJSON(r.Header.Values("Accept")) {
		s.writeError(w, http.StatusNotAcceptable, "Only application/json responses are available")
		return
	}
	var override []byte
	if hasFault {
		override = f.Body
	}
	switch ep {
	case EndpointInstances:
		s.serveList(w, r, override)
	case EndpointInstance, EndpointDocs:
		if n, err := strconv.ParseInt(idText, 10, 64); err != nil || n <= 0 {
			s.writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid instance ID %q", idText))
			return
		}
		if ep == EndpointInstance {
			s.serveInstance(w, id, override)
		} else {
			s.serveDocs(w, id, override)
		}
	}
}

// acceptsJSON reports whether Accept headers admit application/json; no
// header admits everything.
func acceptsJSON(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/json", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// cursorPrefix makes cursors look opaque while staying easy to check.
const cursorPrefix = "octest-after:"

func encodeCursor(afterID int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(afterID, 10)))
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// sortedIDs returns the ids in order, rebuilding the index when needed. It
// must be called with s.mu held for reading; it may drop and retake it.
func (s *Server) sortedIDs() []int64 {
	for s.order == nil {
		s.mu.RUnlock()
		s.mu.Lock()
		if s.order == nil {
			order := make([]int64, 0, len(s.entries))
			for id := range s.entries {
				order = append(order, id)
			}
			slices.Sort(order)
			s.order = order
		}
		s.mu.Unlock()
		s.mu.RLock()
	}
	return s.order
}

func (s *Server) serveList(w *reply, r *http.Request, override []byte) {
	q := r.URL.Query()
	size := MaxPageSize
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid pageSize %q", v))
			return
		}
		size = min(n, MaxPageSize)
	}
	after, cursor := int64(0), q.Get("nextPage")
	hasAfter := false
	if cursor != "" {
		var ok bool
		if after, ok = decodeCursor(cursor); !ok {
			s.writeError(w, http.StatusBadRequest, "Invalid nextPage token")
			return
		}
		hasAfter = true
	}
	tags := q["tags[]"]

	s.mu.RLock()
	order := s.sortedIDs()
	start := 0
	if hasAfter {
		start, _ = slices.BinarySearch(order, after+1)
		if after == int64(^uint64(0)>>1) {
			start = len(order)
		}
	}
	body := make([]byte, 0, 64*size)
	body = append(body, '[')
	n, last, more := 0, int64(0), false
	for _, id := range order[start:] {
		e := s.entries[id]
		if !hasAnyTag(e.inst.Tags, tags) {
			continue
		}
		if n == size {
			more = true
			break
		}
		if n > 0 {
			body = append(body, ',')
		}
		body = append(body, e.body...)
		n++
		last = id
	}
	repeat := s.repeatCursor
	total := -1
	if s.totalCount {
		total = 0
		for _, id := range order {
			if hasAnyTag(s.entries[id].inst.Tags, tags) {
				total++
			}
		}
	}
	s.mu.RUnlock()
	body = append(body, ']')

	// A cursor set by a fault's headers wins.
	if more && w.Header().Get("Elements-Next-Page-Token") == "" {
		next := encodeCursor(last)
		if repeat && cursor != "" {
			next = cursor
		}
		w.Header().Set("Elements-Next-Page-Token", next)
	}
	if total >= 0 && w.Header().Get("Elements-Total-Count") == "" {
		w.Header().Set("Elements-Total-Count", strconv.Itoa(total))
	}
	w.Header().Set("Elements-Returned-Count", strconv.Itoa(n))
	if override != nil {
		body = override
	}
	s.writeRaw(w, http.StatusOK, body)
}

func hasAnyTag(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, t := range want {
		if slices.Contains(have, t) {
			return true
		}
	}
	return false
}

func (s *Server) serveInstance(w *reply, id int64, override []byte) {
	s.mu.RLock()
	e, ok := s.entries[id]
	s.mu.RUnlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("No instance found with ID %d", id))
		return
	}
	body := e.body
	if override != nil {
		body = override
	}
	s.writeRaw(w, http.StatusOK, body)
}

func (s *Server) serveDocs(w *reply, id int64, override []byte) {
	s.mu.RLock()
	e, ok := s.entries[id]
	spec, hasSpec := s.specs[id]
	gen := s.specFunc
	s.mu.RUnlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("No instance found with ID %d", id))
		return
	}
	switch {
	case override != nil:
		spec = override
	case hasSpec:
	case gen != nil:
		spec = gen(id)
	case s.defaultSpec != nil:
		spec = s.defaultSpec
	default:
		title := e.inst.Element.Key
		if title == "" {
			title = "instance-" + strconv.FormatInt(id, 10)
		}
		spec = SwaggerDocument(title, 0)
	}
	s.writeRaw(w, http.StatusOK, spec)
}

func (s *Server) nextRequestID() string {
	return fmt.Sprintf("octest-%012x", s.requestSeq.Add(1))
}

// reply is the answer to one request: the ResponseWriter with what the
// server echoes and how slowly it sends the body.
type reply struct {
	http.ResponseWriter
	echo        bool
	auth, query string
	trickle     time.Duration
	done        <-chan struct{} // the request's end
}

func (s *Server) writeRaw(w *reply, status int, body []byte) {
	h := w.Header()
	if h.Get("Elements-Request-Id") == "" {
		h.Set("Elements-Request-Id", s.nextRequestID())
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	if w.echo {
		h.Set("Octest-Echo-Authorization", w.auth)
		h.Set("Octest-Echo-Query", w.query)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if w.trickle <= 0 {
		_, _ = w.Write(body)
		return
	}
	rc := http.NewResponseController(w.ResponseWriter)
	_ = rc.Flush()
	t := time.NewTimer(w.trickle)
	defer t.Stop()
	for i := range body {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		if _, err := w.Write(body[i : i+1]); err != nil {
			return
		}
		_ = rc.Flush()
		t.Reset(w.trickle)
	}
}

func (s *Server) writeError(w *reply, status int, message string) {
	rid := s.nextRequestID()
	w.Header().Set("Elements-Request-Id", rid)
	e := struct {
		RequestID       string `json:"requestId"`
		Message         string `json:"message"`
		ProviderMessage string `json:"providerMessage,omitempty"`
	}{RequestID: rid, Message: message}
	if w.echo {
		e.Message += " [Authorization: " + w.auth + "] [query: " + w.query + "]"
		e.ProviderMessage = base64.StdEncoding.EncodeToString([]byte(w.auth)) + " " + url.QueryEscape(w.auth)
	}
	body, _ := json.Marshal(e)
	s.writeRaw(w, status, body)
}

// Instances returns every instance ordered by id (only ID and tags for raw
// ones).
func (s *Server) Instances() []Instance {
	s.mu.RLock()
	defer s.mu.RUnlock()
	order := s.sortedIDs()
	out := make([]Instance, 0, len(order))
	for _, id := range order {
		in := s.entries[id].inst
		in.Tags = slices.Clone(in.Tags)
		out = append(out, in)
	}
	return out
}
