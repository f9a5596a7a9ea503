package compass

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Khan/genqlient/graphql"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/errgroup"

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

// retryPolicy says which failures of one operation are tried again.
type retryPolicy int

const (
	// noRetry: the operation is sent once (it is not idempotent and its
	// effect cannot be looked up).
	noRetry retryPolicy = iota
	// retryIdempotent: retryable failures are tried again.
	retryIdempotent
	// retryConfirmed: retryable failures and malformed answers leave the
	// outcome uncertain; confirm is asked whether the operation took effect
	// before it is sent again, and once more before giving up.
	retryConfirmed
)

// callOptions are the options of one call.
type callOptions struct {
	timeout time.Duration
	policy  retryPolicy
	// confirm reports whether an earlier attempt took effect after all
	// (retryConfirmed only).
	confirm func(ctx context.Context) (bool, error)
}

// call runs one GraphQL operation under its own timeout per attempt and
// classifies its error. It is the one retry loop of the Registry, under the
// shared policy (r.policy: at most MaxRetries further attempts, its waits,
// its warning per retry). The loop is written here, not in a RoundTripper
// under genqlient (which has no retry mechanism of its own), because
// whether to send again depends on what only the operation sees: GraphQL
// errors and malformed answers inside an HTTP 200, whether the operation is
// idempotent (every request is a POST), and, for registerApplication, a
// look-up that must confirm an uncertain attempt took no effect.
func (r *Registry) call(ctx context.Context, op string, o callOptions, fn func(context.Context) error) error {
	uncertain := false
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, o.timeout)
		start := time.Now()
		err := classify(ctx, r.scrub, op, fn(rctx))
		cancel()
		r.logCall(ctx, op, attempt, time.Since(start), err)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		switch o.policy {
		case noRetry:
			return err
		case retryIdempotent:
			if !remote.Retryable(err) || !r.policy.Again(attempt) {
				return afterAttempts(err, attempt)
			}
		case retryConfirmed:
			again := remote.Retryable(err) || errors.Is(err, ErrMalformed)
			if !again && !(uncertain && errors.Is(err, ocsync.ErrConflict)) {
				return err // a definite refusal
			}
			if !again || !r.policy.Again(attempt) {
				// A clash with itself, or out of attempts with the outcome
				// uncertain: an earlier attempt may have taken effect.
				if done, cerr := o.confirm(ctx); cerr == nil && done {
					return nil
				}
				return afterAttempts(err, attempt)
			}
			uncertain = true
			done, cerr := o.confirm(ctx)
			if cerr != nil {
				return fmt.Errorf("%w (and the look-up that would tell whether it took effect failed: %v)", err, cerr)
			}
			if done {
				return nil
			}
			if stillRunning(err) {
				// Our side (or the gateway) gave up, but the Director may
				// still be working on it (its own timeout is longer), and
				// it checks name uniqueness in code, not in the database:
				// a second attempt now could register the application
				// twice. The next run lists it, or creates it then.
				return fmt.Errorf("%w; not sent again in this run, since the Director may still be processing it", err)
			}
		}
		var retryAfter time.Duration
		var ce *Error
		if errors.As(err, &ce) {
			retryAfter = ce.RetryAfter
		}
		wait := r.policy.Wait(attempt, retryAfter)
		r.policy.LogRetry(ctx, "compass: retrying", attempt, err.Error(), wait, slog.String("operation", op))
		if werr := r.policy.Pause(ctx, wait); werr != nil {
			return fmt.Errorf("compass: %s: %w (last failure: %v)", op, werr, err)
		}
		r.retries.Add(1)
	}
}

// stillRunning reports a failure after which the Director may still be
// processing the request: our own timeout, or the gateway's (504).
func stillRunning(err error) bool {
	var ce *Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ce) && ce.StatusCode == http.StatusGatewayTimeout
}

// Retries returns how many Director requests were retried so far (one per
// retry, after the first attempt).
func (r *Registry) Retries() int64 { return r.retries.Load() }

func (r *Registry) logCall(ctx context.Context, op string, attempt int, d time.Duration, err error) {
	attrs := []slog.Attr{slog.String("operation", op), slog.Int("attempt", attempt), slog.Duration("duration", d)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	r.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "director request", attrs...)
}

func (r *Registry) query() callOptions {
	return callOptions{timeout: r.cfg.Timeout, policy: retryIdempotent}
}

// Viewer returns the id and type of the caller as the Director sees it (for
// an integration system, its id and INTEGRATION_SYSTEM). It is a cheap
// check of the credentials, the scopes and the tenant.
func (r *Registry) Viewer(ctx context.Context) (id, typ string, err error) {
	err = r.call(ctx, "viewer", r.query(), func(ctx context.Context) error {
		resp, err := director.Viewer(ctx, r.client)
		if err != nil {
			return err
		}
		if resp.Viewer == nil || ptr.Value(resp.Viewer.Id) == "" {
			return malformed("viewer", "the answer holds no viewer id")
		}
		id, typ = *resp.Viewer.Id, string(resp.Viewer.Type)
		return nil
	})
	return id, typ, err
}

// Page bounds of a listing. The Director's cursors are offsets, so
// applications registered or deleted by others between two pages shift the
// window: a listing may take a page or two more than totalCount promises
// (listingSlack). A listing never reads more than ceil(totalCount /
// PageSize) + listingSlack pages (totalCount being the largest any page
// reported), and never more than ocsync.MaxApplications / PageSize.
const listingSlack = 2

// Applications lists every application whose identity label has this
// Registry's context (and owner, when one is configured), reading all
// pages before it returns. The listing is all or nothing: a malformed page
// or item fails it (the error wraps ErrMalformed and names the page).
// Ownership is checked again on each application: one with another owner
// is listed with Owned false.
func (r *Registry) Applications(ctx context.Context) ([]ocsync.Registered, error) {
	filter := []director.LabelFilter{{Key: r.cfg.Labels.Identity, Query: ptr.To(identityFilter(r.cfg.Scope.Context, r.cfg.Scope.Owner, ""))}}
	items, err := r.list(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]ocsync.Registered, 0, len(items))
	for _, it := range items {
		reg, err := r.registered(it)
		if err != nil {
			return nil, err
		}
		out = append(out, reg)
	}
	slices.SortStableFunc(out, func(a, b ocsync.Registered) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// list reads all pages of an applications query, each checked for the
// shape the schema promises, and bounded as listingSlack says.
func (r *Registry) list(ctx context.Context, filter []director.LabelFilter) ([]*director.ListedApplication, error) {
	var (
		items []*director.ListedApplication
		ids   = map[string]bool{}
		w     = newPager(r.cfg.PageSize)
	)
	for page := 1; ; page++ {
		var resp *director.ListApplicationsResponse
		err := r.call(ctx, "applications", r.query(), func(ctx context.Context) error {
			var err error
			resp, err = director.ListApplications(ctx, r.client, filter, w.size, w.cursor())
			return err
		})
		if err != nil {
			return nil, pageError(page, err)
		}
		p := resp.Applications
		switch {
		case p == nil:
			return nil, pageError(page, malformed("applications", "the page is null"))
		case p.Data == nil:
			return nil, pageError(page, malformed("applications", "data is null"))
		case p.PageInfo == nil:
			return nil, pageError(page, malformed("applications", "pageInfo is null"))
		case p.PageInfo.HasNextPage == nil || p.PageInfo.EndCursor == nil:
			return nil, pageError(page, malformed("applications", "pageInfo lacks hasNextPage or endCursor"))
		case p.TotalCount == nil || *p.TotalCount < 0:
			return nil, pageError(page, malformed("applications", "totalCount is missing or negative"))
		}
		for i, it := range p.Data {
			if it == nil {
				return nil, pageError(page, malformed("applications", fmt.Sprintf("item %d is null", i)))
			}
			a := &it.ListedApplication
			switch {
			case ptr.Value(a.Id) == "":
				return nil, pageError(page, malformed("applications", fmt.Sprintf("item %d has no id", i)))
			case ptr.Value(a.Name) == "":
				return nil, pageError(page, malformed("applications", fmt.Sprintf("item %d has no name", i)))
			case a.Status == nil || a.Status.Condition == nil:
				return nil, pageError(page, malformed("applications", fmt.Sprintf("item %d has no status", i)))
			}
			// Offset pagination repeats a row when the set grows between
			// pages; keep each application once.
			if !ids[*a.Id] {
				ids[*a.Id] = true
				items = append(items, a)
			}
		}
		last, err := w.advance("applications", page, len(items), len(p.Data), *p.TotalCount, *p.PageInfo.HasNextPage, *p.PageInfo.EndCursor)
		if err != nil {
			return nil, pageError(page, err)
		}
		if last {
			return items, nil
		}
	}
}

// pager holds the rules every walk over the Director's cursor pages obeys:
// the answer must end where its totalCount says, a next page needs a new
// cursor, and no walk reads more pages than listingSlack allows.
type pager struct {
	size, ceiling, maxTotal int
	after                   string
	cursors                 map[string]bool
}

func newPager(size int) *pager {
	return &pager{size: size, ceiling: max(ocsync.MaxApplications/size, 1), cursors: map[string]bool{}}
}

// cursor is the after argument of the next page: nil for the first.
func (w *pager) cursor() *string {
	if w.after == "" {
		return nil
	}
	return &w.after
}

// advance checks the page numbered page, which held onPage items (have in
// all so far) and claims total, next and cursor. It reports whether the page
// was the last one; otherwise the next cursor() follows it. A page that
// breaks a rule is a malformed answer of op.
func (w *pager) advance(op string, page, have, onPage, total int, next bool, cursor string) (last bool, err error) {
	w.maxTotal = max(w.maxTotal, total)
	if !next {
		if have < total {
			return true, malformed(op, fmt.Sprintf("the last page leaves %d applications where the Director counts %d", have, total))
		}
		return true, nil
	}
	limit := min(w.ceiling, w.pages()+listingSlack)
	switch {
	case onPage == 0:
		return false, malformed(op, "an empty page claims a next page")
	case cursor == "":
		return false, malformed(op, "a next page is claimed without a cursor")
	case cursor == w.after:
		return false, malformed(op, "the page cursor did not advance")
	case w.cursors[cursor]:
		return false, malformed(op, "the page cursor repeats an earlier one")
	case page >= limit:
		return false, malformed(op, fmt.Sprintf("more than %d pages of %d for %d applications", limit, w.size, w.maxTotal))
	}
	w.cursors[cursor] = true
	w.after = cursor
	return false, nil
}

// pages is how many pages the largest totalCount seen so far takes.
func (w *pager) pages() int { return (w.maxTotal + w.size - 1) / w.size }

// pageError names the page of a failed listing.
func pageError(page int, err error) error {
	return fmt.Errorf("compass: applications page %d: %w", page, err)
}

// registered converts a listed application. Its labels must be an object
// holding an identity label of this Registry's context: the listing's
// filter selected it by that label, so anything else is a malformed answer
// and fails the listing instead of passing as a foreign application.
func (r *Registry) registered(a *director.ListedApplication) (ocsync.Registered, error) {
	labels, ok := decodeLabels(a.Labels)
	if !ok {
		return ocsync.Registered{}, malformed("applications", fmt.Sprintf("application %s: labels are not an object", *a.Id))
	}
	id, ok, canonical := decodeIdentity(labels[r.cfg.Labels.Identity])
	if !ok || id.Context != r.cfg.Scope.Context {
		return ocsync.Registered{}, malformed("applications",
			fmt.Sprintf("application %s was selected by its identity label but carries none of this context", *a.Id))
	}
	reg := ocsync.Registered{
		ID:     *a.Id,
		Name:   *a.Name,
		Key:    id.InstanceID,
		Owned:  id.Owner == r.cfg.Scope.Owner,
		Holder: r.holder(id, true),
		Attributes: ocsync.Attributes{
			Description:  ptr.Value(a.Description),
			ProviderName: ptr.Value(a.ProviderName),
			Status:       ocsync.Status(*a.Status.Condition),
		},
		State: decodeState(labels[r.cfg.Labels.State]),
		// An identity label of an older form is rewritten by the next
		// update, which this makes happen.
		Incomplete: !canonical,
		Ref:        Ref{IdentityCurrent: canonical},
	}
	reg.ReadBack = readBack(reg.Attributes)
	return reg, nil
}

// ownerOf reports whether raw labels (possibly null) mark an application of
// this Registry's scope, its key, and who holds it when it is not owned
// (see holder).
func (r *Registry) ownerOf(raw *json.RawMessage) (key string, owned bool, holder string) {
	labels, _ := decodeLabels(raw)
	id, ok, _ := decodeIdentity(labels[r.cfg.Labels.Identity])
	return id.InstanceID, ok && id.Context == r.cfg.Scope.Context && id.Owner == r.cfg.Scope.Owner, r.holder(id, ok)
}

// maxHolderOwner is how much of another owner's name a conflict quotes:
// the value comes from the Director, so its length is not trusted.
const maxHolderOwner = 100

// holder describes, for a conflict's reason, an application whose identity
// label (id, when ok) names this Registry's Open Connectors host but
// another owner: another job (a shard) syncs the same host under the same
// names, so the two jobs' selections of instances overlap. It is empty for
// any other application, owned or foreign.
func (r *Registry) holder(id Identity, ok bool) string {
	if !ok || id.Context != r.cfg.Scope.Context || id.Owner == r.cfg.Scope.Owner {
		return ""
	}
	who := "of the job without a sync.owner"
	if id.Owner != "" {
		owner := id.Owner
		if len(owner) > maxHolderOwner {
			owner = strings.ToValidUTF8(owner[:maxHolderOwner], "") + "..."
		}
		who = fmt.Sprintf("of sync.owner %q", owner)
	}
	return "an application " + who + " for the same Open Connectors host; the two jobs' selections overlap: " +
		"give each its own applicationPrefix or disjoint tags"
}

// TakenBatch is how many names one Taken request looks up (the aliases of
// the TakenNames operation). It is also what counts as few names: up to
// TakenBatch names are looked up one by one.
const TakenBatch = 20

// TakenConcurrency is how many Taken requests run at once: few, since the
// Director's database pool is small (five connections by default).
const TakenConcurrency = 4

// TakenShare bounds what Taken costs the Director for many names: at most
// one page of the tenant's names per TakenShare names, that is 5 % of the
// registrations those names become, plus one look-up per name found taken.
const TakenShare = 20

// Taken finds the applications whose names clash (under NormalizeName)
// with any of names, so that the plan makes a conflict of a clash instead
// of downloading a document for a register the Director refuses. Each
// match is returned with Owned false unless it carries this Registry's
// identity, and with Holder set when it belongs to another sync of the same
// Open Connectors host. A malformed answer fails the look-up.
//
// The Director runs every aliased look-up by name as a label-filtered
// listing of its own, about as much database work as a registration, so
// looking up every name would double the work of a run that creates many,
// for a clash that is rare. Taken therefore spends at most a small share of
// what the creates cost:
//
//   - Few names (at most TakenBatch): one request, one look-up per name
//     (the Director's own "name" label holds NormalizeName of the name).
//     Every run after the one that met a clash is such a run: the clash is
//     then one of few creates (the others were created), so it is a
//     conflict in the plan and in the dry run, and costs no download and no
//     refused register.
//   - Many names: the tenant's application names, id and name only
//     (TenantNames, PageSize a page), when they take at most one page per
//     TakenShare names; the names found there (in a cold sync, none) are
//     then looked up one by one to learn who holds them. The first page
//     tells the tenant's size; when the tenant is larger, Taken stops there
//     and reports nothing.
//   - Otherwise, nothing: a clash costs this run one download and one
//     refused register (Create's error wraps ocsync.ErrConflict), and the
//     next run, creating few, finds it at plan time.
//
// A cold sync of 1000 instances into a tenant of up to 10 000 applications
// thus costs the Director the registrations, its listing pages and at most
// 50 pages of names (one page for an empty tenant), instead of 1000
// look-ups; and no run pays a second time for a clash it met once, unless
// it keeps creating more than TakenBatch applications into a tenant too
// large to list its names.
func (r *Registry) Taken(ctx context.Context, names []string) ([]ocsync.Registered, error) {
	var keys []string
	seen := map[string]bool{}
	for _, n := range names {
		if k := NormalizeName(n); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) > TakenBatch {
		var err error
		if keys, err = r.tenantTaken(ctx, keys, (len(keys)+TakenShare-1)/TakenShare); err != nil {
			return nil, err
		}
	}
	return r.takenByName(ctx, keys)
}

// tenantTaken returns those of keys that a name in the tenant normalises
// to, reading the tenant's names a page at a time, at most maxPages pages.
// When the first page's totalCount asks for more, or the tenant grows past
// that while it reads, it returns what it found so far: a clash it missed
// is refused by the Director at register, so a short answer costs at most
// a refused register, never a wrong change.
func (r *Registry) tenantTaken(ctx context.Context, keys []string, maxPages int) ([]string, error) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	found := map[string]bool{}
	w := newPager(r.cfg.PageSize)
	ids := map[string]bool{}
	for page := 1; ; page++ {
		var p *director.NamesPage
		err := r.call(ctx, "TenantNames", r.query(), func(ctx context.Context) error {
			resp, err := director.TenantNames(ctx, r.client, w.size, w.cursor())
			if err != nil {
				return err
			}
			p = resp.Applications
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("compass: names page %d: %w", page, err)
		}
		switch {
		case p == nil || p.Data == nil:
			return nil, fmt.Errorf("compass: names page %d: %w", page, malformed("TenantNames", "the page or its data is null"))
		case p.PageInfo == nil || p.PageInfo.HasNextPage == nil || p.PageInfo.EndCursor == nil:
			return nil, fmt.Errorf("compass: names page %d: %w", page, malformed("TenantNames", "pageInfo is null or lacks hasNextPage or endCursor"))
		case p.TotalCount == nil || *p.TotalCount < 0:
			return nil, fmt.Errorf("compass: names page %d: %w", page, malformed("TenantNames", "totalCount is missing or negative"))
		}
		for i, it := range p.Data {
			if it == nil || ptr.Value(it.Id) == "" || ptr.Value(it.Name) == "" {
				return nil, fmt.Errorf("compass: names page %d: %w", page, malformed("TenantNames", fmt.Sprintf("item %d lacks its id or name", i)))
			}
			ids[*it.Id] = true
			if k := NormalizeName(*it.Name); want[k] {
				found[k] = true
			}
		}
		last, err := w.advance("TenantNames", page, len(ids), len(p.Data), *p.TotalCount, *p.PageInfo.HasNextPage, *p.PageInfo.EndCursor)
		if err != nil {
			return nil, fmt.Errorf("compass: names page %d: %w", page, err)
		}
		if last || w.pages() > maxPages {
			break
		}
	}
	// In the order of keys, so that the look-ups do not depend on the
	// order of the pages.
	var out []string
	for _, k := range keys {
		if found[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// takenByName looks up normalised names one by one, TakenBatch per
// request and TakenConcurrency requests at once.
func (r *Registry) takenByName(ctx context.Context, keys []string) ([]ocsync.Registered, error) {
	// The batches run TakenConcurrency at a time; their results are merged
	// in batch order, so the answer does not depend on timing.
	batches := make([][]ocsync.Registered, (len(keys)+TakenBatch-1)/TakenBatch)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(TakenConcurrency)
	for b := range batches {
		batch := keys[b*TakenBatch : min((b+1)*TakenBatch, len(keys))]
		g.Go(func() (err error) {
			batches[b], err = r.takenBatch(gctx, batch)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []ocsync.Registered
	found := map[string]bool{}
	for _, matches := range batches {
		for _, m := range matches {
			if !found[m.ID] {
				found[m.ID] = true
				out = append(out, m)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ocsync.Registered) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// takenBatch looks up at most TakenBatch normalised names in one request.
func (r *Registry) takenBatch(ctx context.Context, batch []string) ([]ocsync.Registered, error) {
	var f [TakenBatch][]director.LabelFilter
	var use [TakenBatch]bool
	for i, k := range batch {
		f[i] = []director.LabelFilter{{Key: "name", Query: ptr.To(jsonString(k))}}
		use[i] = true
	}
	var pages [TakenBatch]*director.TakenPage
	err := r.call(ctx, "TakenNames", r.query(), func(ctx context.Context) error {
		resp, err := director.TakenNames(ctx, r.client,
			f[0], use[0], f[1], use[1], f[2], use[2], f[3], use[3], f[4], use[4],
			f[5], use[5], f[6], use[6], f[7], use[7], f[8], use[8], f[9], use[9],
			f[10], use[10], f[11], use[11], f[12], use[12], f[13], use[13], f[14], use[14],
			f[15], use[15], f[16], use[16], f[17], use[17], f[18], use[18], f[19], use[19])
		if err != nil {
			return err
		}
		pages = [TakenBatch]*director.TakenPage{resp.N0, resp.N1, resp.N2, resp.N3, resp.N4,
			resp.N5, resp.N6, resp.N7, resp.N8, resp.N9, resp.N10, resp.N11, resp.N12, resp.N13,
			resp.N14, resp.N15, resp.N16, resp.N17, resp.N18, resp.N19}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []ocsync.Registered
	for i := range batch {
		p := pages[i]
		if p == nil || p.Data == nil {
			return nil, malformed("TakenNames", fmt.Sprintf("look-up %d of the batch is null", i))
		}
		for _, it := range p.Data {
			if it == nil || ptr.Value(it.Id) == "" || ptr.Value(it.Name) == "" {
				return nil, malformed("TakenNames", fmt.Sprintf("look-up %d of the batch holds an item without id or name", i))
			}
			key, owned, holder := r.ownerOf(it.Labels)
			out = append(out, ocsync.Registered{ID: *it.Id, Name: *it.Name, Key: key, Owned: owned, Holder: holder})
		}
	}
	return out, nil
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

// Update brings the owned application cur to app. It reads the ids of the
// application's bundle and API definition (one application query), records
// u.PendingState first when there is one, then writes only what the changed
// fields need (an application without state gets everything):
// updateApplication for description, provider name and status; updateBundle
// for the bundle name and the credential; updateAPIDefinition for the API
// name, the target URL and the spec (sent only when u.Spec is set; otherwise
// the Director keeps the stored one). The identity label is rewritten when
// it is not in the current form, and u.State is written last, so an update
// interrupted anywhere is redone on the next run.
//
// A bundle or API definition deleted in the Director is added again with the
// spec: u.Spec, or the document u.LoadSpec loads. Before that the state is
// recorded without the spec, so an interruption leaves no claim on a
// document the Director lacks. When the document cannot be loaded, the
// other fields are written and the error wraps ErrIncomplete.
func (r *Registry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	if !cur.Owned {
		return fmt.Errorf("compass: application %s is not owned by this job: %w", cur.Name, ocsync.ErrConflict)
	}
	if app.Unusable != "" {
		return &ocsync.UnusableError{Name: app.Name, Reason: app.Unusable}
	}
	if err := checkApplication(app); err != nil {
		return err
	}
	ref, err := r.refOf(ctx, cur)
	if err != nil {
		return err
	}
	r.registerCredential(app)
	pending := u.PendingState(cur.State)
	if pending != nil {
		if err := r.setLabel(ctx, cur.ID, r.cfg.Labels.State, *pending); err != nil {
			return err
		}
	}
	// spec is what a missing part is added with; final the state recorded
	// last (that of a document loaded here, when one is).
	spec, final := u.Spec, u.State
	var missing string
	var loadErr error
	restore := func(part string) bool {
		if spec != nil {
			return true
		}
		if st := specless(cur.State, pending); st != nil {
			if err := r.setLabel(ctx, cur.ID, r.cfg.Labels.State, *st); err != nil {
				loadErr = err
				return false
			}
		}
		if u.LoadSpec == nil {
			missing, loadErr = part, errors.New("no document was given")
			return false
		}
		s, st, err := u.LoadSpec(ctx)
		if err != nil {
			missing, loadErr = part, err
			return false
		}
		spec, final = &s, st
		return true
	}
	all := cur.State == nil
	changed := func(fields ...string) bool {
		return all || slices.ContainsFunc(fields, func(f string) bool { return slices.Contains(u.Fields, f) })
	}
	needApp := changed(ocsync.FieldDescription, ocsync.FieldProviderName, ocsync.FieldStatus)
	needBundle := changed(ocsync.FieldBundle, ocsync.FieldCredential)
	needAPI := changed(ocsync.FieldAPI, ocsync.FieldTargetURL) || spec != nil

	if needApp {
		in := updateInput(r.cfg.IntegrationSystemID, app)
		if err := r.mutate(ctx, "updateApplication", r.cfg.Timeout, retryIdempotent, func(ctx context.Context) (*string, error) {
			resp, err := director.UpdateApplication(ctx, r.client, cur.ID, in)
			if err != nil || resp.UpdateApplication == nil {
				return nil, err
			}
			return resp.UpdateApplication.Id, nil
		}); err != nil {
			return err
		}
	}

	switch {
	case ref.BundleID == "":
		if !restore("bundle") {
			break
		}
		in, err := bundleCreateInput(app, spec)
		if err != nil {
			return err
		}
		if err := r.mutate(ctx, "addBundle", r.cfg.SpecTimeout, noRetry, func(ctx context.Context) (*string, error) {
			resp, err := director.AddBundle(ctx, r.client, cur.ID, in)
			if err != nil || resp.AddBundle == nil {
				return nil, err
			}
			return resp.AddBundle.Id, nil
		}); err != nil {
			return err
		}
	case ref.APIID == "":
		if needBundle {
			if err := r.updateBundle(ctx, ref.BundleID, app); err != nil {
				return err
			}
		}
		if !restore("API definition") {
			break
		}
		in, err := apiInput(app, spec)
		if err != nil {
			return err
		}
		if err := r.mutate(ctx, "addAPIDefinitionToBundle", r.cfg.SpecTimeout, noRetry, func(ctx context.Context) (*string, error) {
			resp, err := director.AddAPIDefinitionToBundle(ctx, r.client, ref.BundleID, in)
			if err != nil || resp.AddAPIDefinitionToBundle == nil {
				return nil, err
			}
			return resp.AddAPIDefinitionToBundle.Id, nil
		}); err != nil {
			return err
		}
	default:
		if needBundle {
			if err := r.updateBundle(ctx, ref.BundleID, app); err != nil {
				return err
			}
		}
		if needAPI {
			in, err := apiInput(app, spec)
			if err != nil {
				return err
			}
			timeout := r.cfg.Timeout
			if spec != nil {
				timeout = r.cfg.SpecTimeout
			}
			if err := r.mutate(ctx, "updateAPIDefinition", timeout, retryIdempotent, func(ctx context.Context) (*string, error) {
				resp, err := director.UpdateAPIDefinition(ctx, r.client, ref.APIID, in)
				if err != nil || resp.UpdateAPIDefinition == nil {
					return nil, err
				}
				return resp.UpdateAPIDefinition.Id, nil
			}); err != nil {
				return err
			}
		}
	}

	if !ref.IdentityCurrent || cur.Key != app.Key {
		if err := r.setLabel(ctx, cur.ID, r.cfg.Labels.Identity, identityOf(r.cfg.Scope, app)); err != nil {
			return err
		}
	}
	switch {
	case missing != "":
		return fmt.Errorf("compass: application %s has no %s and its document could not be loaded to add one; the next run sends it: %w",
			cur.Name, missing, errors.Join(ErrIncomplete, loadErr))
	case loadErr != nil:
		return loadErr
	}
	return r.setLabel(ctx, cur.ID, r.cfg.Labels.State, final)
}

// specless is the state written when an update could not add a missing
// bundle or API definition: the state that was safe to claim (the pending
// one, else the stored one) without the spec, marked pending, so that the
// next plan refreshes the spec and the next update carries it. nil when
// nothing is stored: no state already makes the next update send all.
func specless(stored, pending *ocsync.State) *ocsync.State {
	base := pending
	if base == nil {
		base = stored
	}
	if base == nil {
		return nil
	}
	st := *base
	st.SpecSHA256, st.SpecFetchedAt, st.Pending = "", time.Time{}, true
	return &st
}

// mutate runs a mutation whose answer must hold the id of the object it
// wrote; a null answer or an empty id is an error wrapping ErrMalformed.
func (r *Registry) mutate(ctx context.Context, op string, timeout time.Duration, policy retryPolicy, fn func(context.Context) (*string, error)) error {
	return r.call(ctx, op, callOptions{timeout: timeout, policy: policy}, func(ctx context.Context) error {
		id, err := fn(ctx)
		if err != nil {
			return err
		}
		if ptr.Value(id) == "" {
			return malformed(op, "the answer holds no id")
		}
		return nil
	})
}

// refOf returns the ids of cur's bundle and API definition, read with one
// application query unless cur.Ref already holds both. The answer is
// checked: a null or inconsistent page of bundles or API definitions is an
// error, never a missing bundle, so a malformed answer cannot make the
// update add a second bundle.
func (r *Registry) refOf(ctx context.Context, cur ocsync.Registered) (Ref, error) {
	var base Ref
	switch ref := cur.Ref.(type) {
	case Ref:
		base = ref
	case *Ref:
		if ref != nil {
			base = *ref
		}
	}
	if base.BundleID != "" && base.APIID != "" {
		return base, nil
	}
	var app *director.GetApplicationApplication
	err := r.call(ctx, "application", r.query(), func(ctx context.Context) error {
		resp, err := director.GetApplication(ctx, r.client, cur.ID)
		if err != nil {
			return err
		}
		app = resp.Application
		return nil
	})
	if err != nil {
		return Ref{}, err
	}
	if app == nil {
		return Ref{}, &Error{Operation: "application", Name: "NotFound", Message: "application " + cur.ID + " does not exist", kind: remote.ErrNotFound}
	}
	ref, err := refFrom(cur.ID, app)
	if err != nil {
		return Ref{}, err
	}
	ref.IdentityCurrent = base.IdentityCurrent
	return ref, nil
}

// refFrom picks the bundle and API definition of an application as read:
// the first bundle that has an API definition, else the first bundle (the
// Director does not keep bundle names unique).
func refFrom(id string, app *director.GetApplicationApplication) (Ref, error) {
	bad := func(what string) (Ref, error) {
		return Ref{}, malformed("application", "application "+id+": "+what)
	}
	if ptr.Value(app.Id) != id {
		return bad("the answer is another application")
	}
	bp := app.Bundles
	if bp == nil || bp.Data == nil || bp.TotalCount == nil {
		return bad("the bundles page is null or incomplete")
	}
	if len(bp.Data) == 0 && *bp.TotalCount > 0 {
		return bad("the bundles page is empty but counts bundles")
	}
	var ref Ref
	for i, b := range bp.Data {
		if b == nil || ptr.Value(b.Id) == "" {
			return bad(fmt.Sprintf("bundle %d has no id", i))
		}
		ap := b.ApiDefinitions
		if ap == nil || ap.Data == nil || ap.TotalCount == nil {
			return bad(fmt.Sprintf("the API definitions page of bundle %d is null or incomplete", i))
		}
		if len(ap.Data) == 0 && *ap.TotalCount > 0 {
			return bad(fmt.Sprintf("the API definitions page of bundle %d is empty but counts API definitions", i))
		}
		for j, a := range ap.Data {
			if a == nil || ptr.Value(a.Id) == "" {
				return bad(fmt.Sprintf("API definition %d of bundle %d has no id", j, i))
			}
		}
		if i == 0 {
			ref.BundleID = *b.Id
		}
		if len(ap.Data) > 0 {
			ref.BundleID, ref.APIID = *b.Id, *ap.Data[0].Id
			return ref, nil
		}
	}
	if *bp.TotalCount > len(bp.Data) {
		// The bundle with an API definition may be on a later page: never
		// add a second one on a guess.
		return bad(fmt.Sprintf("none of the first %d of %d bundles has an API definition", len(bp.Data), *bp.TotalCount))
	}
	return ref, nil
}

func (r *Registry) updateBundle(ctx context.Context, bundleID string, app ocsync.Application) error {
	in := bundleUpdateInput(app)
	return r.mutate(ctx, "updateBundle", r.cfg.Timeout, retryIdempotent, func(ctx context.Context) (*string, error) {
		resp, err := director.UpdateBundle(ctx, r.client, bundleID, in)
		if err != nil || resp.UpdateBundle == nil {
			return nil, err
		}
		return resp.UpdateBundle.Id, nil
	})
}

// setLabel writes one label; the answer must name the label written.
func (r *Registry) setLabel(ctx context.Context, appID, key string, value any) error {
	raw := json.RawMessage(mustJSON(value))
	return r.call(ctx, "setApplicationLabel", r.query(), func(ctx context.Context) error {
		resp, err := director.SetApplicationLabel(ctx, r.client, appID, key, raw)
		if err != nil {
			return err
		}
		if resp.SetApplicationLabel == nil || ptr.Value(resp.SetApplicationLabel.Key) != key {
			return malformed("setApplicationLabel", "the answer does not hold the label written")
		}
		return nil
	})
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
