package compass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/kyma-incubator/open-connectors-job/compass/internal/director"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Registry is the ocsync.Registry of a Compass Director: the applications of
// one tenant that carry this job's identity label. It is safe for concurrent
// use.
type Registry struct {
	cfg    Config
	client graphql.Client
	tokens *tokenSource
}

var _ ocsync.Registry = (*Registry)(nil)

// Ref is what a listed ocsync.Registered holds in its Ref field: the ids of
// the application's bundle and API definition (empty when missing) and
// whether the identity label already has the form the Registry writes.
type Ref struct {
	// BundleID is the id of the application's bundle.
	BundleID string
	// APIID is the id of the API definition in that bundle.
	APIID string
	// IdentityCurrent is true when the identity label needs no rewrite.
	IdentityCurrent bool
}

// NewRegistry returns a Registry for cfg. It checks the configuration and
// sends no request; the first request fetches the token.
func NewRegistry(cfg Config) (*Registry, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	rt := base.Transport
	if rt == nil {
		// Enough idle connections per host for parallel mutations, so that
		// connections (and TLS sessions) are reused.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		rt = t
	}
	tokens := &tokenSource{
		cfg: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret.Reveal(),
			TokenURL:     cfg.TokenURL,
			Scopes:       Scopes,
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		client: &http.Client{Transport: rt, CheckRedirect: base.CheckRedirect, Jar: base.Jar, Timeout: cfg.Timeout},
	}
	gql := &http.Client{
		Transport: &legacyEscapeTransport{next: &tenantTransport{tenant: cfg.Tenant,
			next: &tokenTransport{src: tokens, next: &retryAfterTransport{next: rt, now: time.Now}}}},
		CheckRedirect: base.CheckRedirect,
		Jar:           base.Jar,
		Timeout:       base.Timeout,
	}
	return &Registry{cfg: cfg, client: graphql.NewClient(cfg.DirectorURL, gql), tokens: tokens}, nil
}

// TokenFetches reports how many times a token was requested so far.
func (r *Registry) TokenFetches() int {
	r.tokens.mu.Lock()
	defer r.tokens.mu.Unlock()
	return r.tokens.fetches
}

// call runs one GraphQL request under its own timeout and classifies its
// error, with the client secret and the given secrets redacted from it. A
// retryable failure is tried again, up to MaxRetries times with backoff,
// when retry is true.
func (r *Registry) call(ctx context.Context, op string, timeout time.Duration, retry bool, fn func(context.Context) error, secrets ...string) error {
	secrets = append(secrets, r.cfg.ClientSecret.Reveal())
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		err := redact(classify(ctx, op, fn(rctx)), secrets...)
		cancel()
		r.logCall(ctx, op, attempt, time.Since(start), err)
		if err == nil || !retry || !ocsync.Retryable(err) || attempt > r.cfg.MaxRetries {
			return err
		}
		wait := r.cfg.Backoff(attempt)
		var ce *Error
		if errors.As(err, &ce) && ce.RetryAfter > wait {
			wait = ce.RetryAfter
		}
		if werr := sleep(ctx, wait); werr != nil {
			return fmt.Errorf("compass: %s: %w (last failure: %v)", op, werr, err)
		}
	}
}

func (r *Registry) logCall(ctx context.Context, op string, attempt int, d time.Duration, err error) {
	attrs := []slog.Attr{slog.String("operation", op), slog.Int("attempt", attempt), slog.Duration("duration", d)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	r.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "director request", attrs...)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Viewer returns the id and type of the caller as the Director sees it (for
// an integration system, its id and INTEGRATION_SYSTEM). It is a cheap
// check of the credentials, the scopes and the tenant.
func (r *Registry) Viewer(ctx context.Context) (id, typ string, err error) {
	var resp *director.ViewerResponse
	err = r.call(ctx, "viewer", r.cfg.Timeout, true, func(ctx context.Context) error {
		var err error
		resp, err = director.Viewer(ctx, r.client)
		return err
	})
	if err != nil {
		return "", "", err
	}
	return resp.Viewer.Id, string(resp.Viewer.Type), nil
}

// Applications lists every application whose identity label has this job's
// context (and owner, when one is configured), reading all pages before it
// returns. Ownership is checked again on each application.
func (r *Registry) Applications(ctx context.Context) ([]ocsync.Registered, error) {
	apps, err := r.list(ctx, []director.LabelFilter{{Key: IdentityLabel, Query: ptr(identityFilter(r.cfg.Context, r.cfg.Owner, ""))}})
	if err != nil {
		return nil, err
	}
	out := make([]ocsync.Registered, 0, len(apps))
	for i := range apps {
		out = append(out, r.registered(&apps[i]))
	}
	slices.SortStableFunc(out, func(a, b ocsync.Registered) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// list reads all pages of an applications query.
func (r *Registry) list(ctx context.Context, filter []director.LabelFilter) ([]director.ApplicationFields, error) {
	var (
		apps  []director.ApplicationFields
		after string
		seen  = map[string]bool{}
		ids   = map[string]bool{}
	)
	for {
		var resp *director.ListApplicationsResponse
		err := r.call(ctx, "applications", r.cfg.Timeout, true, func(ctx context.Context) error {
			var cursor *string
			if after != "" {
				cursor = &after
			}
			var err error
			resp, err = director.ListApplications(ctx, r.client, filter, r.cfg.PageSize, cursor)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, a := range resp.Applications.Data {
			// Offset pagination can repeat a row when the set changes
			// between pages; keep each application once.
			if !ids[a.Id] {
				ids[a.Id] = true
				apps = append(apps, a.ApplicationFields)
			}
		}
		page := resp.Applications.PageInfo
		if !page.HasNextPage {
			return apps, nil
		}
		if page.EndCursor == "" || seen[page.EndCursor] {
			return nil, fmt.Errorf("compass: applications: the page cursor did not advance (%q)", page.EndCursor)
		}
		seen[page.EndCursor] = true
		after = page.EndCursor
	}
}

// registered converts a listed application.
func (r *Registry) registered(a *director.ApplicationFields) ocsync.Registered {
	var labels map[string]json.RawMessage
	if a.Labels != nil {
		_ = json.Unmarshal(*a.Labels, &labels)
	}
	id, ok, canonical := decodeIdentity(labels[IdentityLabel])
	reg := ocsync.Registered{
		ID:    a.Id,
		Name:  a.Name,
		Key:   id.InstanceID,
		Owned: ok && id.Context == r.cfg.Context && id.Owner == r.cfg.Owner,
		Attributes: ocsync.Attributes{
			Description:  deref(a.Description),
			ProviderName: deref(a.ProviderName),
			Status:       ocsync.Status(a.Status.Condition),
		},
		State: decodeState(labels[StateLabel]),
	}
	ref := Ref{IdentityCurrent: canonical}
	if a.Bundles != nil {
		// The Director does not keep bundle names unique; take the first
		// bundle that has an API definition, else the first bundle.
		for i, b := range a.Bundles.Data {
			hasAPI := b.ApiDefinitions != nil && len(b.ApiDefinitions.Data) > 0
			if i == 0 || (hasAPI && ref.APIID == "") {
				ref.BundleID, ref.APIID = b.Id, ""
				reg.Attributes.Bundle, reg.Attributes.API, reg.Attributes.TargetURL = b.Name, "", ""
				if hasAPI {
					api := b.ApiDefinitions.Data[0]
					ref.APIID = api.Id
					reg.Attributes.API, reg.Attributes.TargetURL = api.Name, api.TargetURL
				}
			}
			if ref.APIID != "" {
				break
			}
		}
	}
	reg.Incomplete = ref.BundleID == "" || ref.APIID == ""
	reg.Ref = ref
	return reg
}

// identity is the identity label value the Registry writes for app.
func (r *Registry) identity(app ocsync.Application) Identity {
	return Identity{Context: r.cfg.Context, InstanceID: app.Key, Owner: r.cfg.Owner}
}

// Create registers app in one registerApplication call: identity and state
// labels, one bundle with the Authorization header, one API definition with
// the spec. A name taken by another application is an error wrapping
// ocsync.ErrConflict. When the outcome of the call is unknown (a network
// error or a server error after sending), the application is looked up
// before anything is sent again, so it is never registered twice.
func (r *Registry) Create(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
	if err := checkApplication(app); err != nil {
		return err
	}
	bundle, err := r.bundleCreate(app, &spec)
	if err != nil {
		return err
	}
	status := statusOf(app.Status)
	labels := json.RawMessage(mustJSON(map[string]any{IdentityLabel: r.identity(app), StateLabel: state}))
	in := director.ApplicationRegisterInput{
		Name:            app.Name,
		ProviderName:    optional(truncateRunes(app.ProviderName, maxProvider)),
		Description:     optional(truncateRunes(app.Description, maxDescription)),
		Labels:          &labels,
		StatusCondition: &status,
		Bundles:         []director.BundleCreateInput{bundle},
	}
	if r.cfg.IntegrationSystemID != "" {
		in.IntegrationSystemID = ptr(r.cfg.IntegrationSystemID)
	}
	register := func() error {
		err := r.call(ctx, "registerApplication", r.cfg.SpecTimeout, false, func(ctx context.Context) error {
			_, err := director.RegisterApplication(ctx, r.client, in)
			return err
		}, app.Credential.Reveal())
		return err
	}
	err = register()
	uncertain := false
	for attempt := 1; err != nil; attempt++ {
		switch {
		case errors.Is(err, ocsync.ErrConflict) && uncertain:
			// An earlier attempt may have registered it after all.
			if found, lerr := r.lookup(ctx, app); lerr == nil && found {
				return nil
			}
			return err
		case !ocsync.Retryable(err) || attempt > r.cfg.MaxRetries:
			return err
		}
		uncertain = true
		found, lerr := r.lookup(ctx, app)
		if lerr != nil {
			return fmt.Errorf("%w (and the lookup that would tell whether it was registered failed: %v)", err, lerr)
		}
		if found {
			return nil
		}
		wait := r.cfg.Backoff(attempt)
		var ce *Error
		if errors.As(err, &ce) && ce.RetryAfter > wait {
			wait = ce.RetryAfter
		}
		if werr := sleep(ctx, wait); werr != nil {
			return fmt.Errorf("compass: registerApplication: %w (last failure: %v)", werr, err)
		}
		err = register()
	}
	return nil
}

// lookup reports whether an owned application named app.Name exists, by
// the identity label (or, without a key, by the Director's name label).
func (r *Registry) lookup(ctx context.Context, app ocsync.Application) (bool, error) {
	filter := director.LabelFilter{Key: IdentityLabel, Query: ptr(identityFilter(r.cfg.Context, r.cfg.Owner, app.Key))}
	if app.Key == "" {
		filter = director.LabelFilter{Key: "name", Query: ptr(jsonString(NormalizeName(app.Name)))}
	}
	apps, err := r.list(ctx, []director.LabelFilter{filter})
	if err != nil {
		return false, err
	}
	for i := range apps {
		if reg := r.registered(&apps[i]); reg.Owned && reg.Name == app.Name {
			return true, nil
		}
	}
	return false, nil
}

// Update brings the owned application cur to app. It calls only what the
// changed fields need (an application without state gets everything):
// updateApplication for description, provider name and status;
// updateBundle for the bundle name and the credential; updateAPIDefinition
// for the API name, the target URL and the spec (replaced only when u.Spec
// is set). A missing bundle or API is added again. The identity label is
// rewritten when it is not in the current form, and the state label is
// written last, so an interrupted update is redone on the next run.
func (r *Registry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	if !cur.Owned {
		return fmt.Errorf("compass: application %s is not owned by this job: %w", cur.Name, ocsync.ErrConflict)
	}
	if err := checkApplication(app); err != nil {
		return err
	}
	ref, err := r.refOf(ctx, cur)
	if err != nil {
		return err
	}
	secret := app.Credential.Reveal()
	all := cur.State == nil
	changed := func(fields ...string) bool {
		if all {
			return true
		}
		for _, f := range fields {
			if slices.Contains(u.Fields, f) {
				return true
			}
		}
		return false
	}
	needApp := changed(ocsync.FieldDescription, ocsync.FieldProviderName, ocsync.FieldStatus)
	needBundle := changed(ocsync.FieldBundle, ocsync.FieldCredential)
	needAPI := changed(ocsync.FieldAPI, ocsync.FieldTargetURL) || u.Spec != nil

	if needApp {
		status := statusOf(app.Status)
		in := director.ApplicationUpdateInput{
			ProviderName:    ptr(truncateRunes(app.ProviderName, maxProvider)),
			Description:     ptr(truncateRunes(app.Description, maxDescription)),
			StatusCondition: &status,
		}
		if r.cfg.IntegrationSystemID != "" {
			in.IntegrationSystemID = ptr(r.cfg.IntegrationSystemID)
		}
		if err := r.call(ctx, "updateApplication", r.cfg.Timeout, true, func(ctx context.Context) error {
			_, err := director.UpdateApplication(ctx, r.client, cur.ID, in)
			return err
		}); err != nil {
			return err
		}
	}

	switch {
	case ref.BundleID == "":
		if u.Spec == nil {
			return fmt.Errorf("compass: application %s has no bundle and no spec was given to add one: %w", cur.Name, ocsync.ErrInvalidInput)
		}
		in, err := r.bundleCreate(app, u.Spec)
		if err != nil {
			return err
		}
		err = r.call(ctx, "addBundle", r.cfg.SpecTimeout, false, func(ctx context.Context) error {
			_, err := director.AddBundle(ctx, r.client, cur.ID, in)
			return err
		}, secret)
		if err != nil {
			return err
		}
	case ref.APIID == "":
		if u.Spec == nil {
			return fmt.Errorf("compass: application %s has no API definition and no spec was given to add one: %w", cur.Name, ocsync.ErrInvalidInput)
		}
		if needBundle {
			if err := r.updateBundle(ctx, ref.BundleID, app); err != nil {
				return err
			}
		}
		in, err := apiInput(app, u.Spec)
		if err != nil {
			return err
		}
		if err := r.call(ctx, "addAPIDefinitionToBundle", r.cfg.SpecTimeout, false, func(ctx context.Context) error {
			_, err := director.AddAPIDefinitionToBundle(ctx, r.client, ref.BundleID, in)
			return err
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
			in, err := apiInput(app, u.Spec)
			if err != nil {
				return err
			}
			timeout := r.cfg.Timeout
			if u.Spec != nil {
				timeout = r.cfg.SpecTimeout
			}
			if err := r.call(ctx, "updateAPIDefinition", timeout, true, func(ctx context.Context) error {
				_, err := director.UpdateAPIDefinition(ctx, r.client, ref.APIID, in)
				return err
			}); err != nil {
				return err
			}
		}
	}

	if !ref.IdentityCurrent || cur.Key != app.Key {
		if err := r.setLabel(ctx, cur.ID, IdentityLabel, r.identity(app)); err != nil {
			return err
		}
	}
	return r.setLabel(ctx, cur.ID, StateLabel, u.State)
}

// refOf returns the Ref of cur, reading the application when cur carries
// none (for example a Registered built by another program).
func (r *Registry) refOf(ctx context.Context, cur ocsync.Registered) (Ref, error) {
	switch ref := cur.Ref.(type) {
	case Ref:
		return ref, nil
	case *Ref:
		if ref != nil {
			return *ref, nil
		}
	}
	var resp *director.GetApplicationResponse
	err := r.call(ctx, "application", r.cfg.Timeout, true, func(ctx context.Context) error {
		var err error
		resp, err = director.GetApplication(ctx, r.client, cur.ID)
		return err
	})
	if err != nil {
		return Ref{}, err
	}
	if resp.Application == nil {
		return Ref{}, &Error{Operation: "application", Name: "NotFound", Message: "application " + cur.ID + " does not exist", kind: ocsync.ErrNotFound}
	}
	ref, _ := r.registered(&resp.Application.ApplicationFields).Ref.(Ref)
	return ref, nil
}

// updateBundle replaces the bundle: every field is sent, because the
// Director clears what an update leaves out.
func (r *Registry) updateBundle(ctx context.Context, bundleID string, app ocsync.Application) error {
	in := director.BundleUpdateInput{Name: bundleName(app), DefaultInstanceAuth: authInput(app)}
	return r.call(ctx, "updateBundle", r.cfg.Timeout, true, func(ctx context.Context) error {
		_, err := director.UpdateBundle(ctx, r.client, bundleID, in)
		return err
	}, app.Credential.Reveal())
}

func (r *Registry) setLabel(ctx context.Context, appID, key string, value any) error {
	raw := json.RawMessage(mustJSON(value))
	return r.call(ctx, "setApplicationLabel", r.cfg.Timeout, true, func(ctx context.Context) error {
		_, err := director.SetApplicationLabel(ctx, r.client, appID, key, raw)
		return err
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
	err := r.call(ctx, "unregisterApplication", r.cfg.Timeout, true, func(ctx context.Context) error {
		_, err := director.UnregisterApplication(ctx, r.client, cur.ID)
		return err
	})
	if errors.Is(err, ocsync.ErrNotFound) {
		return nil
	}
	return err
}

// bundleCreate is the bundle of app with its one API definition.
func (r *Registry) bundleCreate(app ocsync.Application, spec *ocsync.Spec) (director.BundleCreateInput, error) {
	api, err := apiInput(app, spec)
	if err != nil {
		return director.BundleCreateInput{}, err
	}
	return director.BundleCreateInput{
		Name:                bundleName(app),
		DefaultInstanceAuth: authInput(app),
		ApiDefinitions:      []director.APIDefinitionInput{api},
	}, nil
}

// apiInput is the API definition of app; the spec is included when given.
func apiInput(app ocsync.Application, spec *ocsync.Spec) (director.APIDefinitionInput, error) {
	if err := checkTargetURL(app.TargetURL); err != nil {
		return director.APIDefinitionInput{}, err
	}
	in := director.APIDefinitionInput{Name: asciiName(app.API, bundleName(app)), TargetURL: app.TargetURL}
	if spec != nil {
		typ, format, err := checkSpec(*spec)
		if err != nil {
			return director.APIDefinitionInput{}, err
		}
		in.Spec = &director.APISpecInput{
			Data:   ptr(string(spec.Data)),
			Type:   director.APISpecType(typ),
			Format: director.SpecFormat(format),
		}
	}
	return in, nil
}

func bundleName(app ocsync.Application) string { return asciiName(app.Bundle, app.Name) }

// authInput carries the credential as the serialized Authorization header;
// nil when there is no credential.
func authInput(app ocsync.Application) *director.AuthInput {
	if app.Credential.Reveal() == "" {
		return nil
	}
	return &director.AuthInput{AdditionalHeadersSerialized: ptr(encodeHeaders(app.Credential.Reveal()))}
}

func statusOf(s ocsync.Status) director.ApplicationStatusCondition {
	if s == "" {
		return director.ApplicationStatusConditionConnected
	}
	return director.ApplicationStatusCondition(s)
}

func ptr[T any](v T) *T { return &v }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
