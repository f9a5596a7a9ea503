package compasstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest/internal/graph"
	"github.com/kyma-incubator/open-connectors-job/internal/faults"
)

// Defaults of a Server and the paths it serves.
const (
	// DefaultTenant is the tenant the Director's seed data creates.
	DefaultTenant = "3e64ebae-38b5-46a0-b1ed-9ccee153a0ae"
	// DefaultClientID is the client id of the default OAuth2 client.
	DefaultClientID = "compasstest-client"
	// DefaultClientSecret is the secret of the default OAuth2 client.
	DefaultClientSecret = "compasstest-secret"
	// DefaultIntegrationSystemID is the integration system the default
	// client belongs to; it exists unless WithIntegrationSystems says
	// otherwise.
	DefaultIntegrationSystemID = "6e6b3f1a-0c51-4b6e-9a3f-5a1f2c3d4e5f"
	// DefaultTokenLifetime is how long an issued token stays valid.
	DefaultTokenLifetime = time.Hour

	// TokenPath is the path of the OAuth2 token endpoint.
	TokenPath = "/oauth2/token"
	// GraphQLPath is the path of the GraphQL endpoint.
	GraphQLPath = "/director/graphql"
	// TokenOperation names the token endpoint in AddFault and Count.
	TokenOperation = "token"
)

// IntegrationSystemScopes are the scopes the Director grants to clients of
// integration systems; the default client may request any of them.
var IntegrationSystemScopes = []string{
	"application:read", "application:write", "application.local_tenant_id:write",
	"application.application_template:read", "application_template:read", "application_template:write",
	"runtime:read", "runtime:write", "integration_system:read", "label_definition:read",
	"label_definition:write", "automatic_scenario_assignment:read", "integration_system.auths:read",
	"application_template.webhooks:read", "formation.state:write", "formation:write", "formation:read",
	"internal_visibility:read", "application.auths:read", "webhook:write", "formation_template:read",
	"formation_template.webhooks:read",
}

// Client is an OAuth2 client the token endpoint knows.
type Client struct {
	// ID and Secret are the client credentials.
	ID, Secret string
	// Scopes are the scopes the client may request; nil means
	// IntegrationSystemScopes.
	Scopes []string
	// ConsumerID is what viewer returns as id, typically the integration
	// system the client belongs to; empty means DefaultIntegrationSystemID.
	ConsumerID string
}

// Option configures a Server at NewServer.
type Option func(*Server)

// settings are what the options set before the server starts.
type settings struct {
	tenants, integrationSystems []string // nil: the defaults
	clients                     []Client // nil: the default client
	discardSpecs                bool
}

// WithTenants makes the Director know the external tenant ids given instead
// of DefaultTenant. Calls add up; a call without ids leaves no tenant at all.
func WithTenants(ids ...string) Option {
	return func(s *Server) { s.settings.tenants = append(orEmpty(s.settings.tenants), ids...) }
}

// WithClients makes the token endpoint know the OAuth2 clients given instead
// of the default one (DefaultClientID, DefaultClientSecret,
// IntegrationSystemScopes). Calls add up; a call without clients leaves no
// client at all.
func WithClients(clients ...Client) Option {
	return func(s *Server) {
		if s.settings.clients == nil {
			s.settings.clients = []Client{}
		}
		s.settings.clients = append(s.settings.clients, clients...)
	}
}

// WithIntegrationSystems makes the given ids the existing integration
// systems instead of DefaultIntegrationSystemID. Calls add up; a call without
// ids leaves none, so that registering with any integrationSystemID fails.
func WithIntegrationSystems(ids ...string) Option {
	return func(s *Server) {
		s.settings.integrationSystems = append(orEmpty(s.settings.integrationSystems), ids...)
	}
}

// WithTokenLifetime sets the lifetime of issued tokens; 0 or less keeps
// DefaultTokenLifetime.
func WithTokenLifetime(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.lifetime = d
		}
	}
}

// WithLatency delays every HTTP request by d (see SetLatency).
func WithLatency(d time.Duration) Option {
	return func(s *Server) { s.latency = d }
}

// WithDiscardSpecs makes the server keep only the SHA-256 and the length of
// each spec document it receives, not the document, so that many large specs
// cost no memory. The Director's API then reads specs back as null and
// Application shows them empty, with API.SpecSHA256 and API.SpecLength still
// set. Requests are parsed and checked as usual.
func WithDiscardSpecs() Option {
	return func(s *Server) { s.settings.discardSpecs = true }
}

// WithEcho makes the server echo what a client sent, as a careless server
// might (see SetEcho).
func WithEcho() Option {
	return func(s *Server) { s.echo.Store(true) }
}

// SetEcho turns echoing on or off. While it is on, every error the server
// answers quotes the request it answers: its headers (Authorization and
// tenant first) and its raw body, in GraphQL error messages, HTTP error
// bodies and the token endpoint's error_description. Clients use it to prove
// that they never pass such an echo on.
func (s *Server) SetEcho(on bool) { s.echo.Store(on) }

// orEmpty returns ids, or an empty list instead of nil (which stands for the
// default).
func orEmpty(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

type tokenGrant struct {
	client  Client
	scopes  []string
	expires time.Time
}

// Server is a fake Compass Director: an OAuth2 token endpoint and the
// Director's GraphQL API over real HTTP on loopback. It is safe for
// concurrent use.
type Server struct {
	// URL is the base URL of the server, e.g. http://127.0.0.1:41234.
	URL string

	srv      *httptest.Server
	settings settings // read by NewServer only
	store    *store
	specs    *specStore
	lifetime time.Duration
	clients  map[string]Client
	echo     atomic.Bool

	mu       sync.Mutex
	tokens   map[string]tokenGrant
	faults   faults.Queue[string, Fault]
	calls    map[string]int
	requests int
	latency  time.Duration
	nonce    int64
	closed   chan struct{}
	once     sync.Once
}

// NewServer starts a fake Director on a loopback port, configured by opts.
// Without options it knows DefaultTenant, the default client and
// DefaultIntegrationSystemID. Call Close when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		lifetime: DefaultTokenLifetime,
		clients:  map[string]Client{},
		tokens:   map[string]tokenGrant{},
		calls:    map[string]int{},
		closed:   make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	tenants := s.settings.tenants
	if tenants == nil {
		tenants = []string{DefaultTenant}
	}
	intSys := s.settings.integrationSystems
	if intSys == nil {
		intSys = []string{DefaultIntegrationSystemID}
	}
	clients := s.settings.clients
	if clients == nil {
		clients = []Client{{ID: DefaultClientID, Secret: DefaultClientSecret}}
	}
	s.store = newStore(tenants, intSys)
	s.specs = newSpecStore(s.settings.discardSpecs)
	for _, c := range clients {
		if c.Scopes == nil {
			c.Scopes = IntegrationSystemScopes
		}
		if c.ConsumerID == "" {
			c.ConsumerID = DefaultIntegrationSystemID
		}
		s.clients[c.ID] = c
	}
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.serveToken)
	mux.Handle(GraphQLPath, s.graphQLHandler())
	s.srv = httptest.NewServer(s.countAndDelay(mux))
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down and blocks until all requests are done.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.srv.Close()
}

// TokenURL returns the URL of the OAuth2 token endpoint.
func (s *Server) TokenURL() string { return s.URL + TokenPath }

// GraphQLURL returns the URL of the GraphQL endpoint.
func (s *Server) GraphQLURL() string { return s.URL + GraphQLPath }

// HTTPClient returns an HTTP client for the server without authentication.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// countAndDelay counts every request and applies the configured latency.
// The delay holds no lock and ends early when the request is cancelled or
// the server closes.
func (s *Server) countAndDelay(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		delay := s.latency
		s.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.closed:
				t.Stop()
				http.Error(w, "server closed", http.StatusServiceUnavailable)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// caller is what the authentication layer learned about a GraphQL request.
type caller struct {
	tenant     string
	consumerID string
	scopes     []string
	exchange   *exchange
	echo       string // the request, quoted in errors while echoing is on
}

func (c *caller) hasScope(scope string) bool { return slices.Contains(c.scopes, scope) }

// exchange carries what faults impose on a GraphQL response: an HTTP
// status, or malformations of the answers of some fields.
type exchange struct {
	mu        sync.Mutex
	status    int
	body      []byte
	ctype     string
	malformed []malformedField
	echo      string
}

// malformedField is a malformation to apply to the answer under key.
type malformedField struct {
	key   string
	kind  Malformation
	nonce int64
}

type callerKey struct{}

func callerFrom(ctx context.Context) *caller {
	if c, ok := ctx.Value(callerKey{}).(*caller); ok {
		return c
	}
	return &caller{exchange: &exchange{}}
}

// requireTenant returns the caller's tenant or TenantRequired.
func requireTenant(ctx context.Context) (string, error) {
	c := callerFrom(ctx)
	if c.tenant == "" {
		return "", errTenantRequired()
	}
	return c.tenant, nil
}

func (s *Server) graphQLHandler() http.Handler {
	exec := handler.New(graph.NewExecutableSchema(graph.Config{
		Resolvers: &resolver{s: s},
		Directives: graph.DirectiveRoot{
			HasScopes: hasScopes,
			Sanitize:  sanitize,
			Validate: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
				v, err := next(ctx)
				if err != nil {
					return nil, err
				}
				if err := validateInput(v); err != nil {
					return nil, err
				}
				return v, nil
			},
		},
	}))
	exec.AddTransport(transport.POST{})
	exec.AddTransport(transport.GET{})
	exec.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	exec.Use(extension.Introspection{})
	exec.SetErrorPresenter(presentError)
	exec.SetRecoverFunc(func(_ context.Context, v any) error { return errInternal("panic") })
	exec.AroundRootFields(s.aroundRootField)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				writeHTTPError(w, http.StatusInternalServerError, errInternal("while reading request body"), "")
				return
			}
		}
		echo := s.echoOf(r, body)
		c, status, err := s.authenticate(r)
		if err != nil {
			writeHTTPError(w, status, err, echo)
			return
		}
		c.echo, c.exchange.echo = echo, echo
		if r.Body != nil {
			if rewritten, changed := rewriteLegacyRequest(string(body)); changed {
				serveRewritten(w, r, rewritten, exec, c)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		rec := &bufferedResponse{header: w.Header()}
		exec.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
		rec.flush(w, c.exchange)
	})
}

// echoOf quotes a request for error messages while echoing is on: its Authorization and tenant headers first, then its raw body, then
// the other headers.
func (s *Server) echoOf(r *http.Request, body []byte) string {
	if !s.echo.Load() {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, " [request Authorization=%q tenant=%q body: ", r.Header.Get("Authorization"), r.Header.Get("tenant"))
	b.Write(body)
	b.WriteString(" headers:")
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, r.Header[k])
	}
	b.WriteString("]")
	return b.String()
}

func serveRewritten(w http.ResponseWriter, r *http.Request, body string, exec http.Handler, c *caller) {
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	rec := &bufferedResponse{header: w.Header()}
	exec.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	rec.body = *bytes.NewBufferString(rewriteLegacyResponse(rec.body.String()))
	rec.flush(w, c.exchange)
}

// bufferedResponse holds a GraphQL response until a fault had its say.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

func (b *bufferedResponse) flush(w http.ResponseWriter, ex *exchange) {
	ex.mu.Lock()
	forced, malformed, echo := ex.status, ex.malformed, ex.echo
	forcedBody, ctype := ex.body, ex.ctype
	ex.mu.Unlock()
	if forced != 0 && forcedBody != nil {
		writeRaw(w, forced, ctype, forcedBody)
		return
	}
	if forced != 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Del("Content-Length")
		w.WriteHeader(forced)
		_, _ = io.WriteString(w, http.StatusText(forced)+echo+"\n")
		return
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	body := b.body.Bytes()
	if len(malformed) > 0 {
		body = malform(body, malformed)
		w.Header().Del("Content-Length")
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(body)
}

// writeRaw writes a whole response of a fault with a Body.
func writeRaw(w http.ResponseWriter, status int, ctype string, body []byte) {
	if ctype == "" {
		ctype = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// authenticate checks the bearer token and the tenant header as the
// Director's gateway and middleware do.
func (s *Server) authenticate(r *http.Request) (*caller, int, error) {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return nil, http.StatusBadRequest, errUnauthorized("Invalid data: missing bearer token")
	}
	s.mu.Lock()
	grant, known := s.tokens[token]
	s.mu.Unlock()
	if !known || time.Now().After(grant.expires) {
		return nil, http.StatusUnauthorized, errUnauthorized("token is invalid or expired")
	}
	c := &caller{consumerID: grant.client.ConsumerID, scopes: grant.scopes, exchange: &exchange{}}
	if tenant := r.Header.Get("tenant"); tenant != "" {
		if !s.store.hasTenant(tenant) {
			return nil, http.StatusBadRequest, errTenantNotFound(tenant)
		}
		c.tenant = tenant
	}
	return c, 0, nil
}

// aroundRootField counts each top-level field and applies faults.
func (s *Server) aroundRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	name := graphql.GetRootFieldContext(ctx).Field.Name
	if strings.HasPrefix(name, "__") {
		return next(ctx)
	}
	f := s.takeFault(name)
	if f == nil {
		return next(ctx)
	}
	if f.Malformed != 0 {
		isMutation := graphql.GetOperationContext(ctx).Operation.Operation == ast.Mutation
		var answer graphql.Marshaler = graphql.Null
		if !isMutation || f.After {
			answer = next(ctx)
		}
		field := graphql.GetRootFieldContext(ctx).Field
		key := field.Alias
		if key == "" {
			key = field.Name
		}
		s.mu.Lock()
		s.nonce++
		nonce := s.nonce
		s.mu.Unlock()
		ex := callerFrom(ctx).exchange
		ex.mu.Lock()
		ex.malformed = append(ex.malformed, malformedField{key: key, kind: f.Malformed, nonce: nonce})
		ex.mu.Unlock()
		return answer
	}
	if f.After {
		// The operation runs and its changes stay; only the answer is lost.
		_ = next(ctx)
	}
	if f.Status != 0 {
		ex := callerFrom(ctx).exchange
		ex.mu.Lock()
		ex.status, ex.body, ex.ctype = f.Status, f.Body, f.ContentType
		ex.mu.Unlock()
		return graphql.Null
	}
	graphql.AddError(ctx, injectedError(f.Code, f.Message))
	return graphql.Null
}

// malform applies malformations to a GraphQL answer. A body that is not a
// JSON object is returned as it is.
func malform(body []byte, ms []malformedField) []byte {
	var resp map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&resp) != nil {
		return body
	}
	for _, m := range ms {
		if m.kind == DataNull {
			resp["data"] = nil
			continue
		}
		data, _ := resp["data"].(map[string]any)
		if data == nil {
			// A non-null field answered null nulls the whole data.
			data = map[string]any{}
			resp["data"] = data
		}
		obj, _ := data[m.key].(map[string]any)
		switch m.kind {
		case FieldNull:
			data[m.key] = nil
		case ItemsNull:
			if obj != nil {
				obj["data"] = nil
			}
		case NullItem:
			if obj != nil {
				items, _ := obj["data"].([]any)
				obj["data"] = append(items, nil)
			}
		case MissingID:
			switch {
			case obj == nil:
				data[m.key] = map[string]any{}
			case obj["data"] != nil:
				if items, _ := obj["data"].([]any); len(items) > 0 {
					if first, ok := items[0].(map[string]any); ok {
						delete(first, "id")
					}
				}
			default:
				delete(obj, "id")
			}
		case PageInfoNull:
			if obj != nil {
				obj["pageInfo"] = nil
			}
		case EndlessCursor:
			if obj != nil {
				obj["pageInfo"] = map[string]any{"startCursor": "", "hasNextPage": true, "endCursor": nonceCursor(0, m.nonce)}
			}
		}
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return body
	}
	return out
}
