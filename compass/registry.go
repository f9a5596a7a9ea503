package compass

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/Khan/genqlient/graphql"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/kyma-incubator/open-connectors-job/internal/transport"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Registry is the ocsync.Registry of a Compass Director: the applications of
// one tenant that carry this Registry's identity label (Config.Scope). It is
// safe for concurrent use.
type Registry struct {
	cfg     Config
	client  graphql.Client
	tokens  *tokenSource
	scrub   *redact.Scrubber
	policy  *transport.Policy
	base    http.RoundTripper // where every request leaves, the token's included
	retries atomic.Int64
}

var (
	_ ocsync.Registry = (*Registry)(nil)
	_ ocsync.Scoped   = (*Registry)(nil)
	_ ocsync.Names    = (*Registry)(nil)
)

// Ref is what a listed ocsync.Registered holds in its Ref field. The
// listing fills IdentityCurrent only; Update reads the ids of the bundle
// and the API definition with one application query, when it runs. A Ref
// whose ids are both set (built by another program) is used as it is.
type Ref struct {
	// BundleID is the id of the application's bundle.
	BundleID string
	// APIID is the id of the API definition in that bundle.
	APIID string
	// IdentityCurrent is true when the identity label needs no rewrite.
	IdentityCurrent bool
}

// RegisterSecrets makes s know the secrets a Registry of c sends on its
// own: the client secret and the Basic credentials of the token request,
// both as golang.org/x/oauth2 sends them with AuthStyleInHeader (id and
// secret URL-encoded, as RFC 6749 section 2.3.1 asks, then base64) and
// without the URL-encoding. NewRegistry registers them with c.Scrubber
// (with the tokens and credentials it learns later); a program that logs
// before it builds the Registry registers them with its own Scrubber this
// way.
func (c Config) RegisterSecrets(s *redact.Scrubber) {
	secret := c.ClientSecret.Reveal()
	if secret == "" {
		return
	}
	s.Add(secret)
	for _, pair := range []string{url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(secret), c.ClientID + ":" + secret} {
		s.AddCredential("Basic " + base64.StdEncoding.EncodeToString([]byte(pair)))
	}
}

// NewRegistry returns a Registry for cfg. It checks the configuration
// (Config.Validate) and sends no request; the first request fetches the
// token.
func NewRegistry(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("compass: invalid configuration: %w", err)
	}
	cfg = cfg.withDefaults()
	scrub := cfg.Scrubber
	cfg.RegisterSecrets(scrub)

	settings := cfg.settings()
	// One attempt reads the whole answer within MaxResponseBytes; the
	// attempt's time is the context of the call loop (r.call).
	base := settings.BaseTransport()
	rt := http.RoundTripper(settings.Attempt(remote.Compass, base, 0, MaxResponseBytes))
	// An HTML page is a *transport.PageError and an answer of the token
	// endpoint without a token a *notTokenError, so neither is read as
	// JSON that failed to parse.
	tokenClient := settings.Client(&tokenAnswerTransport{next: &transport.PageCheck{Scrubber: scrub, Next: rt}})
	tokenClient.Timeout = cfg.Timeout
	tokens := &tokenSource{
		cfg: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret.Reveal(),
			TokenURL:     cfg.TokenURL,
			Scopes:       Scopes,
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		client: tokenClient,
		scrub:  scrub,
	}
	gql := settings.Client(&legacyEscapeTransport{next: &tenantTransport{tenant: cfg.Tenant,
		next: &transport.PageCheck{Scrubber: scrub,
			Next: &tokenTransport{src: tokens, next: &retryAfterTransport{next: rt, now: time.Now}}}}})
	return &Registry{cfg: cfg, client: graphql.NewClient(cfg.DirectorURL, gql), tokens: tokens, scrub: scrub,
		policy: settings.Policy(), base: base}, nil
}

// CloseIdleConnections closes the keep-alive connections of the
// Registry's transport that carry no request now; a later request opens a
// new one. A program that runs the sync now and then calls it after each
// run, so that nothing lingers between runs.
func (r *Registry) CloseIdleConnections() {
	if t, ok := r.base.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// Scope returns the scope of the applications this Registry owns.
func (r *Registry) Scope() ocsync.Scope { return r.cfg.Scope }

// NameKey returns NormalizeName(name): the Director compares application
// names in that form.
func (r *Registry) NameKey(name string) string { return NormalizeName(name) }

// TokenFetches reports how many times a token was requested so far.
func (r *Registry) TokenFetches() int {
	r.tokens.mu.Lock()
	defer r.tokens.mu.Unlock()
	return r.tokens.fetches
}

// registerCredential makes the Scrubber know an application credential in
// every form a request carries it (the header value and its parts, and the
// JSON-escaped form inside the serialized header) before it is sent.
func (r *Registry) registerCredential(app ocsync.Application) {
	cred := app.Credential.Reveal()
	if cred == "" {
		return
	}
	r.scrub.AddCredential(cred)
	if quoted := string(mustJSON(cred)); len(quoted) > 2 {
		r.scrub.AddCredential(quoted[1 : len(quoted)-1])
	}
}
