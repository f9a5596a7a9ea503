package compass

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/Khan/genqlient/graphql"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/kyma-incubator/open-connectors-job/compass/internal/director"
	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
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

// ErrIncomplete is wrapped by the error of an update that found the
// application without its bundle or API definition and could not load the
// spec document to add one with (ocsync.Update.LoadSpec failed). The fields
// it could write are written, and the stored state no longer claims the
// spec, so the next run sends it.
var ErrIncomplete = errors.New("application lacks its bundle or API definition")

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

// Create registers app in one registerApplication call: identity and state
// labels, one bundle with the Authorization header, one API definition with
// the spec. A name taken by another application is an error wrapping
// ocsync.ErrConflict. When the outcome of an attempt is unknown (a network
// error, a server error or a malformed answer), the application is looked
// up before anything is sent again, so it is never registered twice; after
// a timeout of its own the request is not sent again in the same run, since
// the Director may still be processing it (the next run finds it, or
// creates it then).
func (r *Registry) Create(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
	if app.Unusable != "" {
		return &ocsync.UnusableError{Name: app.Name, Reason: app.Unusable}
	}
	in, err := registerInput(r.cfg.Labels, r.cfg.Scope, r.cfg.IntegrationSystemID, app, spec, state)
	if err != nil {
		return err
	}
	r.registerCredential(app)
	o := callOptions{timeout: r.cfg.SpecTimeout, policy: retryConfirmed,
		confirm: func(ctx context.Context) (bool, error) { return r.lookup(ctx, app) }}
	err = r.call(ctx, "registerApplication", o, func(ctx context.Context) error {
		resp, err := director.RegisterApplication(ctx, r.client, in)
		if err != nil {
			return err
		}
		if resp.RegisterApplication == nil || ptr.Value(resp.RegisterApplication.Id) == "" {
			return malformed("registerApplication", "the answer holds no application id")
		}
		return nil
	})
	if errors.Is(err, ocsync.ErrConflict) {
		if h := r.holderOfName(ctx, app.Name); h != "" {
			err = fmt.Errorf("%w: the name is taken by %s", err, h)
		}
	}
	return err
}

// holderOfName says who holds the name a register was refused for, when
// it is another sync of the same host (see holder): one look-up by name,
// paid only for a refused register. It is a hint for the report, so a
// failed look-up leaves it empty and the refusal stands as it is.
func (r *Registry) holderOfName(ctx context.Context, name string) string {
	found, err := r.takenBatch(ctx, []string{NormalizeName(name)})
	if err != nil {
		return ""
	}
	for _, f := range found {
		if f.Holder != "" {
			return f.Holder
		}
	}
	return ""
}

// lookup reports whether an owned application named app.Name exists, by
// the identity label (or, without a key, by the Director's name label).
func (r *Registry) lookup(ctx context.Context, app ocsync.Application) (bool, error) {
	filter := director.LabelFilter{Key: r.cfg.Labels.Identity, Query: ptr.To(identityFilter(r.cfg.Scope.Context, r.cfg.Scope.Owner, app.Key))}
	if app.Key == "" {
		filter = director.LabelFilter{Key: "name", Query: ptr.To(jsonString(NormalizeName(app.Name)))}
	}
	items, err := r.list(ctx, []director.LabelFilter{filter})
	if err != nil {
		return false, err
	}
	for _, it := range items {
		if _, owned, _ := r.ownerOf(it.Labels); owned && *it.Name == app.Name {
			return true, nil
		}
	}
	return false, nil
}

// Delete unregisters the owned application cur. An application that is
// already gone is not an error. The Director refuses to unregister an
// application that is part of a formation; that refusal is returned as an
// *Error named InvalidOperation.
func (r *Registry) Delete(ctx context.Context, cur ocsync.Registered) error {
	if !cur.Owned {
		return fmt.Errorf("compass: application %s is not owned by this job: %w", cur.Name, ocsync.ErrConflict)
	}
	err := r.mutate(ctx, "unregisterApplication", r.cfg.Timeout, retryIdempotent, func(ctx context.Context) (*string, error) {
		resp, err := director.UnregisterApplication(ctx, r.client, cur.ID)
		if err != nil || resp.UnregisterApplication == nil {
			return nil, err
		}
		return resp.UnregisterApplication.Id, nil
	})
	if errors.Is(err, remote.ErrNotFound) {
		return nil
	}
	return err
}
