package compasstest

import (
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
)

// Application is an application as the fake Director stores it, for
// seeding and inspecting from Go. Empty strings stand for absent values.
type Application struct {
	// ID is the application id; Seed generates one when empty.
	ID string
	// Name is the application name.
	Name string
	// Description, ProviderName, BaseURL and IntegrationSystemID are the
	// optional attributes.
	Description, ProviderName, BaseURL, IntegrationSystemID string
	// Status is the status condition; Seed uses INITIAL when empty.
	Status string
	// Labels are the labels. Values read back are decoded JSON: maps,
	// slices, strings, bools, nil and json.Number.
	Labels map[string]any
	// Bundles are the application's bundles, ordered by id.
	Bundles []Bundle
	// Formations are the formations the application is part of; while
	// there is one, unregisterApplication fails with InvalidOperation.
	Formations []string
}

// Bundle is a stored bundle.
type Bundle struct {
	// ID, Name and Description are the bundle's attributes.
	ID, Name, Description string
	// AuthHeaders are the default instance auth's additional headers, as
	// parsed from additionalHeadersSerialized; nil without an auth. They can
	// be read here although the API hides them from most callers.
	AuthHeaders map[string][]string
	// APIs are the bundle's API definitions, ordered by id.
	APIs []API
}

// API is a stored API definition.
type API struct {
	// ID, Name, Description, TargetURL and Group are the API's attributes.
	ID, Name, Description, TargetURL, Group string
	// SpecType and SpecFormat are e.g. OPEN_API and JSON; empty without a
	// spec.
	SpecType, SpecFormat string
	// Spec is the stored spec document exactly as received; empty when
	// the server discards specs (WithDiscardSpecs).
	Spec string
	// SpecSHA256 is the hex SHA-256 of the spec document as received and
	// SpecLength its length in bytes, set on read whether or not the
	// document was kept; ignored by Seed.
	SpecSHA256 string
	// SpecLength is the length of the spec document in bytes.
	SpecLength int
	// Version is the version value, empty without a version.
	Version string
}

// ErrUnknownTenant is returned by Seed for a tenant the server does not know.
var ErrUnknownTenant = errors.New("compasstest: unknown tenant")

// Seed stores an application directly, as if an earlier client had
// registered it, and returns its id. Unlike registerApplication it does not
// validate; like it, it adds the labels the Director maintains (name, the
// normalised name; managed; integrationSystemID) unless app.Labels sets
// them. It refuses a name that clashes after normalisation (NotUniqueName)
// and an unknown integration system.
func (s *Server) Seed(tenant string, app Application) (string, error) {
	if !s.store.hasTenant(tenant) {
		return "", ErrUnknownTenant
	}
	now := time.Now().UTC()
	rec := &appRecord{
		id: app.ID, name: app.Name, normalized: NormalizeName(app.Name),
		description: ptr.NonEmpty(app.Description), providerName: ptr.NonEmpty(app.ProviderName),
		baseURL: ptr.NonEmpty(app.BaseURL), integrationSystemID: ptr.NonEmpty(app.IntegrationSystemID),
		status: app.Status, statusTime: now, createdAt: now, updatedAt: now,
		formations: slices.Clone(app.Formations), labels: map[string]any{},
	}
	if rec.id == "" {
		rec.id = newID()
	}
	if rec.status == "" {
		rec.status = "INITIAL"
	}
	if app.Labels != nil {
		labels, err := normalizeJSON(app.Labels)
		if err != nil {
			return "", err
		}
		rec.labels = labels.(map[string]any)
	}
	for key, value := range map[string]any{"name": rec.normalized, "managed": "false", "integrationSystemID": app.IntegrationSystemID} {
		if _, set := rec.labels[key]; !set {
			rec.labels[key] = value
		}
	}
	for _, b := range app.Bundles {
		br := &bundleRecord{id: b.ID, appID: rec.id, name: b.Name, description: ptr.NonEmpty(b.Description), createdAt: now, updatedAt: now}
		if br.id == "" {
			br.id = newID()
		}
		if b.AuthHeaders != nil {
			br.auth = &authRecord{headers: b.AuthHeaders}
		}
		for _, a := range b.APIs {
			ar := &apiRecord{
				id: a.ID, bundleID: br.id, name: a.Name, targetURL: a.TargetURL,
				description: ptr.NonEmpty(a.Description), group: ptr.NonEmpty(a.Group), createdAt: now, updatedAt: now,
			}
			if ar.id == "" {
				ar.id = newID()
			}
			if a.SpecType != "" || a.Spec != "" {
				spec := a.Spec
				ar.spec = &specRecord{id: newID(), typ: a.SpecType, format: a.SpecFormat, data: &spec}
				s.specs.compactAPI(ar)
			}
			if a.Version != "" {
				ar.version = &versionRecord{value: a.Version}
			}
			br.apis = withAPI(br.apis, ar)
		}
		rec.bundles = withBundle(rec.bundles, br)
	}
	if err := s.store.insert(tenant, rec); err != nil {
		return "", err
	}
	return rec.id, nil
}

// Application returns the application with exactly this name in a tenant.
func (s *Server) Application(tenant, name string) (Application, bool) {
	rec := s.store.getByName(tenant, name)
	if rec == nil {
		return Application{}, false
	}
	app := publicApp(rec)
	s.specs.describeSpecs(&app, rec)
	return app, true
}

// Applications returns all applications of a tenant, ordered by id.
func (s *Server) Applications(tenant string) []Application {
	recs := s.store.all(tenant)
	out := make([]Application, len(recs))
	for i, rec := range recs {
		out[i] = publicApp(rec)
		s.specs.describeSpecs(&out[i], rec)
	}
	return out
}

// SetFormations puts the application with this name into the given
// formations (none: out of every formation).
func (s *Server) SetFormations(tenant, name string, formations ...string) error {
	rec := s.store.getByName(tenant, name)
	if rec == nil {
		return errNotFound("application", name)
	}
	_, err := s.store.mutate(tenant, rec.id, func(app *appRecord) error {
		app.formations = slices.Clone(formations)
		return nil
	})
	return err
}

// AddIntegrationSystem makes an integration system id known.
func (s *Server) AddIntegrationSystem(id string) { s.store.addIntegrationSystem(id) }

func publicApp(rec *appRecord) Application {
	app := Application{
		ID: rec.id, Name: rec.name, Description: ptr.Value(rec.description), ProviderName: ptr.Value(rec.providerName),
		BaseURL: ptr.Value(rec.baseURL), IntegrationSystemID: ptr.Value(rec.integrationSystemID), Status: rec.status,
		Labels: maps.Clone(rec.labels), Formations: slices.Clone(rec.formations),
	}
	for _, b := range rec.bundles {
		pb := Bundle{ID: b.id, Name: b.name, Description: ptr.Value(b.description)}
		if b.auth != nil {
			pb.AuthHeaders = make(map[string][]string, len(b.auth.headers))
			for k, v := range b.auth.headers {
				pb.AuthHeaders[k] = slices.Clone(v)
			}
		}
		for _, a := range b.apis {
			pa := API{ID: a.id, Name: a.name, Description: ptr.Value(a.description), TargetURL: a.targetURL, Group: ptr.Value(a.group)}
			if a.spec != nil {
				pa.SpecType, pa.SpecFormat, pa.Spec = a.spec.typ, a.spec.format, ptr.Value(a.spec.data)
			}
			if a.version != nil {
				pa.Version = a.version.value
			}
			pb.APIs = append(pb.APIs, pa)
		}
		app.Bundles = append(app.Bundles, pb)
	}
	return app
}
