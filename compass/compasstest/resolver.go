package compasstest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest/internal/graph"
)

// scopesByPath maps the paths of the schema's @hasScopes and @sanitize
// directives to the scopes the Director's configuration requires.
var scopesByPath = map[string][]string{
	"graphql.query.applications":                  {"application:read"},
	"graphql.query.application":                   {"application:read"},
	"graphql.query.viewer":                        nil,
	"graphql.mutation.registerApplication":        {"application:write"},
	"graphql.mutation.updateApplication":          {"application:write"},
	"graphql.mutation.unregisterApplication":      {"application:write"},
	"graphql.mutation.addAPIDefinitionToBundle":   {"application:write"},
	"graphql.mutation.updateAPIDefinition":        {"application:write"},
	"graphql.mutation.deleteAPIDefinition":        {"application:write"},
	"graphql.mutation.setApplicationLabel":        {"application:write"},
	"graphql.mutation.deleteApplicationLabel":     {"application:write"},
	"graphql.mutation.addBundle":                  {"application:write"},
	"graphql.mutation.updateBundle":               {"application:write"},
	"graphql.mutation.deleteBundle":               {"application:write"},
	"graphql.input.application.localTenantID":     {"application.local_tenant_id:write"},
	"graphql.field.bundle.default_instance_auth":  {"bundle.instance_auths:read"},
	"graphql.field.api_spec.fetch_request":        {"api_spec.fetch_request:read"},
	"graphql.field.fetch_request.auth":            {"fetch_request.auth:read"},
	"graphql.field.application.webhooks":          {"application.webhooks:read"},
	"graphql.field.bundle.instance_auths":         {"bundle.instance_auths:read"},
	"graphql.field.bundle.instance_auth":          {"bundle.instance_auths:read"},
	"graphql.field.application_template.webhooks": {"application_template.webhooks:read"},
}

func missingScopes(c *caller, path string) ([]string, bool) {
	required, known := scopesByPath[path]
	if !known {
		return []string{path}, true
	}
	for _, sc := range required {
		if !c.hasScope(sc) {
			return required, true
		}
	}
	return nil, false
}

// hasScopes implements @hasScopes: the caller needs every scope of path.
func hasScopes(ctx context.Context, _ any, next graphql.Resolver, path string) (any, error) {
	c := callerFrom(ctx)
	if required, missing := missingScopes(c, path); missing {
		return nil, errInsufficientScopes(required, c.scopes)
	}
	return next(ctx)
}

// sanitize implements @sanitize: without the scopes the field is null,
// with no error.
func sanitize(ctx context.Context, _ any, next graphql.Resolver, path string) (any, error) {
	if _, missing := missingScopes(callerFrom(ctx), path); missing {
		return nil, nil
	}
	return next(ctx)
}

type resolver struct{ s *Server }

func (r *resolver) Application() graph.ApplicationResolver { return appResolver{r} }
func (r *resolver) Bundle() graph.BundleResolver           { return bundleResolver{r} }
func (r *resolver) Mutation() graph.MutationResolver       { return mutationResolver{r} }
func (r *resolver) Query() graph.QueryResolver             { return queryResolver{r} }

type queryResolver struct{ *resolver }

func (r queryResolver) Applications(ctx context.Context, filter []*graph.LabelFilter, first *int, after *string) (*graph.ApplicationPage, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	offset, size, err := pageBounds(first, after)
	if err != nil {
		return nil, err
	}
	filters := make([]labelFilter, 0, len(filter))
	for _, f := range filter {
		if f == nil {
			continue
		}
		lf, err := parseFilter(f.Key, f.Query)
		if err != nil {
			return nil, err
		}
		filters = append(filters, lf)
	}
	apps, total, err := r.s.store.list(tenant, filters, offset, size)
	if err != nil {
		return nil, err
	}
	page := &graph.ApplicationPage{Data: make([]*graph.Application, len(apps)), TotalCount: total, PageInfo: pageInfo(offset, size, total)}
	for i, app := range apps {
		page.Data[i] = appModel(app)
	}
	return page, nil
}

func pageInfo(offset, size, total int) *graph.PageInfo {
	info := &graph.PageInfo{StartCursor: encodeCursor(offset)}
	if offset+size < total {
		info.HasNextPage = true
		info.EndCursor = encodeCursor(offset + size)
	}
	return info
}

func (r queryResolver) Application(ctx context.Context, id string) (*graph.Application, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	app, err := r.s.store.get(tenant, id)
	if err != nil || app == nil {
		return nil, err
	}
	return appModel(app), nil
}

func (r queryResolver) Viewer(ctx context.Context) (*graph.Viewer, error) {
	return &graph.Viewer{ID: callerFrom(ctx).consumerID, Type: graph.ViewerTypeIntegrationSystem}, nil
}

type appResolver struct{ *resolver }

func (appResolver) Labels(_ context.Context, obj *graph.Application, key *string) (graph.Labels, error) {
	app := obj.Source.(*appRecord)
	if key == nil {
		return graph.Labels(app.labels), nil
	}
	out := graph.Labels{}
	if v, ok := app.labels[*key]; ok {
		out[*key] = v
	}
	return out, nil
}

func (appResolver) Bundles(_ context.Context, obj *graph.Application, first *int, after *string) (*graph.BundlePage, error) {
	app := obj.Source.(*appRecord)
	offset, size, err := pageBounds(first, after)
	if err != nil {
		return nil, err
	}
	total := len(app.bundles)
	page := &graph.BundlePage{Data: []*graph.Bundle{}, TotalCount: total, PageInfo: pageInfo(offset, size, total)}
	for i := offset; i < total && i < offset+size; i++ {
		page.Data = append(page.Data, bundleModel(app.bundles[i]))
	}
	return page, nil
}

func (appResolver) Bundle(_ context.Context, obj *graph.Application, id string) (*graph.Bundle, error) {
	if b := findBundle(obj.Source.(*appRecord), id); b != nil {
		return bundleModel(b), nil
	}
	return nil, nil
}

func (appResolver) APIDefinition(_ context.Context, obj *graph.Application, id string) (*graph.APIDefinition, error) {
	for _, b := range obj.Source.(*appRecord).bundles {
		if a := findAPI(b, id); a != nil {
			return apiModel(a), nil
		}
	}
	return nil, nil
}

type bundleResolver struct{ *resolver }

func (bundleResolver) APIDefinitions(_ context.Context, obj *graph.Bundle, group *string, first *int, after *string) (*graph.APIDefinitionPage, error) {
	b := obj.Source.(*bundleRecord)
	offset, size, err := pageBounds(first, after)
	if err != nil {
		return nil, err
	}
	apis := b.apis
	if group != nil {
		apis = slices.DeleteFunc(slices.Clone(apis), func(a *apiRecord) bool { return a.group == nil || *a.group != *group })
	}
	total := len(apis)
	page := &graph.APIDefinitionPage{Data: []*graph.APIDefinition{}, TotalCount: total, PageInfo: pageInfo(offset, size, total)}
	for i := offset; i < total && i < offset+size; i++ {
		page.Data = append(page.Data, apiModel(apis[i]))
	}
	return page, nil
}

func (bundleResolver) APIDefinition(_ context.Context, obj *graph.Bundle, id string) (*graph.APIDefinition, error) {
	if a := findAPI(obj.Source.(*bundleRecord), id); a != nil {
		return apiModel(a), nil
	}
	return nil, nil
}

type mutationResolver struct{ *resolver }

func (r mutationResolver) RegisterApplication(ctx context.Context, in graph.ApplicationRegisterInput, mode *graph.OperationMode) (*graph.Application, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	if mode != nil && *mode == graph.OperationModeAsync {
		return nil, errInternal("Unable to schedule operation")
	}
	now := time.Now().UTC()
	app := &appRecord{
		id: newID(), name: in.Name, normalized: NormalizeName(in.Name),
		description: in.Description, providerName: in.ProviderName, baseURL: in.BaseURL,
		healthCheckURL: in.HealthCheckURL, namespace: in.ApplicationNamespace,
		integrationSystemID: in.IntegrationSystemID, status: string(graph.ApplicationStatusConditionInitial),
		statusTime: now, createdAt: now, updatedAt: now,
	}
	if in.StatusCondition != nil {
		app.status = string(*in.StatusCondition)
	}
	if v, set := in.LocalTenantID.ValueOK(); set {
		app.localTenantID = v
	}
	labels, err := normalizeJSON(map[string]any(in.Labels))
	if err != nil {
		return nil, errInternal("while converting labels")
	}
	app.labels, _ = labels.(map[string]any)
	if app.labels == nil {
		app.labels = map[string]any{}
	}
	app.labels["integrationSystemID"] = ""
	if in.IntegrationSystemID != nil {
		app.labels["integrationSystemID"] = *in.IntegrationSystemID
	}
	app.labels["name"] = app.normalized
	app.labels["managed"] = "false"
	for _, bin := range in.Bundles {
		if bin == nil {
			continue
		}
		b, err := toBundle(app.id, bin, now)
		if err != nil {
			return nil, err
		}
		r.s.specs.compactBundle(b)
		app.bundles = withBundle(app.bundles, b)
	}
	if err := r.s.store.insert(tenant, app); err != nil {
		return nil, err
	}
	return appModel(app), nil
}

func (r mutationResolver) UpdateApplication(ctx context.Context, id string, in graph.ApplicationUpdateInput) (*graph.Application, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	app, err := r.s.store.mutate(tenant, id, func(app *appRecord) error {
		setIfPresent(&app.providerName, in.ProviderName)
		setIfPresent(&app.description, in.Description)
		setIfPresent(&app.healthCheckURL, in.HealthCheckURL)
		setIfPresent(&app.baseURL, in.BaseURL)
		setIfPresent(&app.namespace, in.ApplicationNamespace)
		if v, set := in.LocalTenantID.ValueOK(); set && v != nil {
			app.localTenantID = v
		}
		if in.IntegrationSystemID != nil {
			app.integrationSystemID = in.IntegrationSystemID
			app.labels = maps.Clone(app.labels)
			app.labels["integrationSystemID"] = *in.IntegrationSystemID
		}
		app.status = string(graph.ApplicationStatusConditionInitial)
		if in.StatusCondition != nil {
			app.status = string(*in.StatusCondition)
		}
		app.statusTime, app.updatedAt = now, now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return appModel(app), nil
}

func setIfPresent(dst **string, v *string) {
	if v != nil {
		*dst = v
	}
}

func (r mutationResolver) UnregisterApplication(ctx context.Context, id string, mode *graph.OperationMode) (*graph.Application, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	if mode != nil && *mode == graph.OperationModeAsync {
		return nil, errInternal("Unable to schedule operation")
	}
	app, err := r.s.store.remove(tenant, id, func(app *appRecord) error {
		if len(app.formations) > 0 {
			return errInvalidOperation(fmt.Sprintf("System %s is part of the following formations : %s", app.name, strings.Join(app.formations, ", ")))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return appModel(app), nil
}

func (r mutationResolver) SetApplicationLabel(ctx context.Context, applicationID string, key string, value any) (*graph.Label, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	f := fieldErrors{}
	f.add("key", runeLen(1, 256, key))
	if !labelKeyPattern.MatchString(key) {
		f.add("key", "must be in a valid format")
	}
	if isEmptyValue(value) {
		f.add("value", "cannot be blank")
	}
	if err := f.err("LabelInput"); err != nil {
		return nil, err
	}
	if key == scenariosLabelKey {
		return nil, errInternal("label with key scenarios cannot be set here")
	}
	v, err := normalizeJSON(value)
	if err != nil {
		return nil, errInternal("while converting the label value")
	}
	_, err = r.s.store.mutate(tenant, applicationID, func(app *appRecord) error {
		app.labels = maps.Clone(app.labels)
		app.labels[key] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &graph.Label{Key: key, Value: v}, nil
}

func (r mutationResolver) DeleteApplicationLabel(ctx context.Context, applicationID string, key string) (*graph.Label, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	var old any
	_, err = r.s.store.mutate(tenant, applicationID, func(app *appRecord) error {
		v, ok := app.labels[key]
		if !ok {
			return errNotFound("label", key)
		}
		old = v
		app.labels = maps.Clone(app.labels)
		delete(app.labels, key)
		return nil
	})
	if err != nil {
		var de *directorError
		if asDirector(err, &de) && de.code == NotFound && de.args["object"] == "application" {
			return nil, errInternal(fmt.Sprintf("application with ID %s doesn't exist", applicationID))
		}
		return nil, err
	}
	return &graph.Label{Key: key, Value: old}, nil
}

func (r mutationResolver) AddBundle(ctx context.Context, applicationID string, in graph.BundleCreateInput) (*graph.Bundle, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	b, err := toBundle(applicationID, &in, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	r.s.specs.compactBundle(b)
	_, err = r.s.store.mutate(tenant, applicationID, func(app *appRecord) error {
		app.bundles = withBundle(app.bundles, b)
		if app.baseURL == nil && len(b.apis) > 0 {
			if base := baseURLOf(b.apis[0].targetURL); base != "" {
				app.baseURL = &base
			}
		}
		return nil
	})
	if err != nil {
		var de *directorError
		if asDirector(err, &de) && de.code == NotFound {
			return nil, errUnauthorized(fmt.Sprintf("Tenant %s does not have access to the parent resource application with ID %s", tenant, applicationID))
		}
		return nil, err
	}
	return bundleModel(b), nil
}

func (r mutationResolver) UpdateBundle(ctx context.Context, id string, in graph.BundleUpdateInput) (*graph.Bundle, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	auth, err := toAuth(in.DefaultInstanceAuth)
	if err != nil {
		return nil, err
	}
	var updated *bundleRecord
	err = r.s.changeBundle(tenant, id, func(app *appRecord, old *bundleRecord) error {
		b := *old
		b.name, b.description, b.schema, b.auth = in.Name, in.Description, in.InstanceAuthRequestInputSchema, auth
		b.updatedAt = time.Now().UTC()
		app.bundles = withBundle(app.bundles, &b)
		updated = &b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return bundleModel(updated), nil
}

func (r mutationResolver) DeleteBundle(ctx context.Context, id string) (*graph.Bundle, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	var deleted *bundleRecord
	err = r.s.changeBundle(tenant, id, func(app *appRecord, old *bundleRecord) error {
		app.bundles = withoutBundle(app.bundles, id)
		deleted = old
		return nil
	})
	if err != nil {
		return nil, err
	}
	return bundleModel(deleted), nil
}

func (r mutationResolver) AddAPIDefinitionToBundle(ctx context.Context, bundleID string, in graph.APIDefinitionInput) (*graph.APIDefinition, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	api := toAPI(newID(), bundleID, &in, nil, time.Now().UTC())
	r.s.specs.compactAPI(api)
	err = r.s.changeBundle(tenant, bundleID, func(app *appRecord, old *bundleRecord) error {
		b := *old
		b.apis = withAPI(b.apis, api)
		app.bundles = withBundle(app.bundles, &b)
		if app.baseURL == nil {
			if base := baseURLOf(api.targetURL); base != "" {
				app.baseURL = &base
			}
		}
		return nil
	})
	if err != nil {
		var de *directorError
		if asDirector(err, &de) && de.code == NotFound {
			return nil, errInvalidData("cannot add API to not existing bundle")
		}
		return nil, err
	}
	return apiModel(api), nil
}

func (r mutationResolver) UpdateAPIDefinition(ctx context.Context, id string, in graph.APIDefinitionInput) (*graph.APIDefinition, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	var updated *apiRecord
	err = r.s.changeAPI(tenant, id, func(b *bundleRecord, old *apiRecord) {
		updated = toAPI(id, b.id, &in, old, time.Now().UTC())
		r.s.specs.compactAPI(updated)
		b.apis = withAPI(b.apis, updated)
	})
	if err != nil {
		return nil, err
	}
	return apiModel(updated), nil
}

func (r mutationResolver) DeleteAPIDefinition(ctx context.Context, id string) (*graph.APIDefinition, error) {
	tenant, err := requireTenant(ctx)
	if err != nil {
		return nil, err
	}
	var deleted *apiRecord
	err = r.s.changeAPI(tenant, id, func(b *bundleRecord, old *apiRecord) {
		b.apis = withoutAPI(b.apis, id)
		deleted = old
	})
	if err != nil {
		return nil, err
	}
	return apiModel(deleted), nil
}

// changeBundle applies change to a copy of the application holding bundle
// id; NotFound names the bundle when it does not exist.
func (s *Server) changeBundle(tenant, id string, change func(app *appRecord, b *bundleRecord) error) error {
	appID := s.store.appOfBundle(tenant, id)
	if appID == "" {
		return errNotFound("bundle", id)
	}
	_, err := s.store.mutate(tenant, appID, func(app *appRecord) error {
		b := findBundle(app, id)
		if b == nil {
			return errNotFound("bundle", id)
		}
		return change(app, b)
	})
	return err
}

// changeAPI applies change to a copy of the bundle holding API id.
func (s *Server) changeAPI(tenant, id string, change func(b *bundleRecord, old *apiRecord)) error {
	appID, bundleID := s.store.appOfAPI(tenant, id)
	if appID == "" {
		return errNotFound("api", id)
	}
	_, err := s.store.mutate(tenant, appID, func(app *appRecord) error {
		b := findBundle(app, bundleID)
		var old *apiRecord
		if b != nil {
			old = findAPI(b, id)
		}
		if old == nil {
			return errNotFound("api", id)
		}
		nb := *b
		change(&nb, old)
		nb.updatedAt = time.Now().UTC()
		app.bundles = withBundle(app.bundles, &nb)
		return nil
	})
	return err
}

func ts(t time.Time) *graph.Timestamp {
	v := graph.Timestamp(t)
	return &v
}

func appModel(app *appRecord) *graph.Application {
	return &graph.Application{
		ID: app.id, Name: app.name, LocalTenantID: app.localTenantID, BaseURL: app.baseURL,
		ProviderName: app.providerName, Description: app.description, IntegrationSystemID: app.integrationSystemID,
		Status:               &graph.ApplicationStatus{Condition: graph.ApplicationStatusCondition(app.status), Timestamp: graph.Timestamp(app.statusTime)},
		HealthCheckURL:       app.healthCheckURL,
		ApplicationNamespace: app.namespace,
		CreatedAt:            ts(app.createdAt), UpdatedAt: ts(app.updatedAt),
		Source: app,
	}
}

func bundleModel(b *bundleRecord) *graph.Bundle {
	return &graph.Bundle{
		ID: b.id, Name: b.name, Description: b.description, InstanceAuthRequestInputSchema: b.schema,
		DefaultInstanceAuth: authModel(b.auth), CorrelationIDs: b.correlationIDs,
		CreatedAt: ts(b.createdAt), UpdatedAt: ts(b.updatedAt), Source: b,
	}
}

func authModel(a *authRecord) *graph.Auth {
	if a == nil {
		return nil
	}
	out := &graph.Auth{
		AccessStrategy: a.accessStrategy, CertCommonName: a.certCommonName,
		AdditionalHeaders: a.headers, AdditionalHeadersSerialized: a.headersSerialized,
		AdditionalQueryParams: a.queryParams, AdditionalQueryParamsSerialized: a.queryParamsSerialized,
	}
	switch {
	case a.basic != nil:
		out.Credential = &graph.BasicCredentialData{Username: a.basic[0], Password: a.basic[1]}
	case a.oauth != nil:
		out.Credential = &graph.OAuthCredentialData{ClientID: a.oauth[0], ClientSecret: a.oauth[1], URL: a.oauth[2]}
	}
	return out
}

func apiModel(a *apiRecord) *graph.APIDefinition {
	out := &graph.APIDefinition{
		ID: a.id, Name: a.name, Description: a.description, TargetURL: a.targetURL, Group: a.group,
		CreatedAt: ts(a.createdAt), UpdatedAt: ts(a.updatedAt),
	}
	if sp := a.spec; sp != nil {
		out.Spec = &graph.APISpec{ID: sp.id, Data: sp.data, Format: graph.SpecFormat(sp.format), Type: graph.APISpecType(sp.typ)}
	}
	if v := a.version; v != nil {
		out.Version = &graph.Version{Value: v.value, Deprecated: v.deprecated, DeprecatedSince: v.deprecatedSince, ForRemoval: v.forRemoval}
	}
	return out
}
