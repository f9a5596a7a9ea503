package compasstest

import (
	"slices"
	"sort"
	"sync"
	"time"
)

// appRecord is one stored application. Records are immutable once stored:
// a change stores a modified copy, so readers may use a record after the
// lock is released.
type appRecord struct {
	id, name, normalized string
	description          *string
	providerName         *string
	baseURL              *string
	healthCheckURL       *string
	namespace            *string
	integrationSystemID  *string
	localTenantID        *string
	status               string
	statusTime           time.Time
	createdAt, updatedAt time.Time
	labels               map[string]any
	bundles              []*bundleRecord // sorted by id
	formations           []string
}

type bundleRecord struct {
	id, appID, name      string
	description          *string
	schema               *string
	auth                 *authRecord
	apis                 []*apiRecord // sorted by id
	correlationIDs       []string
	createdAt, updatedAt time.Time
}

type authRecord struct {
	headers               map[string][]string
	headersSerialized     *string
	queryParams           map[string][]string
	queryParamsSerialized *string
	accessStrategy        *string
	certCommonName        *string
	basic                 *[2]string // username, password
	oauth                 *[3]string // client id, secret, url
}

type apiRecord struct {
	id, bundleID, name   string
	targetURL            string
	description, group   *string
	spec                 *specRecord
	version              *versionRecord
	createdAt, updatedAt time.Time
}

type specRecord struct {
	id, typ, format string
	data            *string
}

type versionRecord struct {
	value           string
	deprecated      *bool
	deprecatedSince *string
	forRemoval      *bool
}

// tenantData holds the applications of one tenant and the indexes over them.
type tenantData struct {
	apps      map[string]*appRecord
	ids       []string          // application ids, sorted
	names     map[string]string // normalized name → application id
	bundleApp map[string]string // bundle id → application id
	apiBundle map[string]string // API id → bundle id
}

func newTenantData() *tenantData {
	return &tenantData{
		apps:      map[string]*appRecord{},
		names:     map[string]string{},
		bundleApp: map[string]string{},
		apiBundle: map[string]string{},
	}
}

// store is the fake Director's database.
type store struct {
	mu      sync.RWMutex
	tenants map[string]*tenantData
	intSys  map[string]bool
}

func newStore(tenants, integrationSystems []string) *store {
	s := &store{tenants: map[string]*tenantData{}, intSys: map[string]bool{}}
	for _, t := range tenants {
		s.tenants[t] = newTenantData()
	}
	for _, id := range integrationSystems {
		s.intSys[id] = true
	}
	return s
}

func (s *store) hasTenant(tenant string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.tenants[tenant]
	return ok
}

func (s *store) addIntegrationSystem(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intSys[id] = true
}

// tenant returns the data of a tenant; callers hold the lock.
func (s *store) tenant(tenant string) (*tenantData, error) {
	td, ok := s.tenants[tenant]
	if !ok {
		return nil, errTenantNotFound(tenant)
	}
	return td, nil
}

// list returns one page of the applications matching every filter, in id
// order, and the number of all matching applications.
func (s *store) list(tenant string, filters []labelFilter, offset, size int) ([]*appRecord, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	td, err := s.tenant(tenant)
	if err != nil {
		return nil, 0, err
	}
	page := make([]*appRecord, 0, min(size, len(td.ids)))
	total := 0
	for _, id := range td.ids {
		app := td.apps[id]
		if !matchesAll(app.labels, filters) {
			continue
		}
		if total >= offset && len(page) < size {
			page = append(page, app)
		}
		total++
	}
	return page, total, nil
}

func matchesAll(labels map[string]any, filters []labelFilter) bool {
	for _, f := range filters {
		if !f.matches(labels) {
			return false
		}
	}
	return true
}

func (s *store) get(tenant, id string) (*appRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	td, err := s.tenant(tenant)
	if err != nil {
		return nil, err
	}
	return td.apps[id], nil
}

func (s *store) getByName(tenant, name string) *appRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	td, ok := s.tenants[tenant]
	if !ok {
		return nil
	}
	if app := td.apps[td.names[NormalizeName(name)]]; app != nil && app.name == name {
		return app
	}
	return nil
}

func (s *store) all(tenant string) []*appRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	td, ok := s.tenants[tenant]
	if !ok {
		return nil
	}
	out := make([]*appRecord, 0, len(td.ids))
	for _, id := range td.ids {
		out = append(out, td.apps[id])
	}
	return out
}

// insert stores a new application after the checks the Director makes:
// the integration system exists and the normalized name is free.
func (s *store) insert(tenant string, app *appRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	td, err := s.tenant(tenant)
	if err != nil {
		return err
	}
	if app.integrationSystemID != nil && !s.intSys[*app.integrationSystemID] {
		return errNotFound("integrationSystem", "")
	}
	if _, taken := td.names[app.normalized]; taken {
		return errNotUniqueName()
	}
	td.names[app.normalized] = app.id
	td.apps[app.id] = app
	i := sort.SearchStrings(td.ids, app.id)
	td.ids = slices.Insert(td.ids, i, app.id)
	td.indexBundles(app)
	return nil
}

func (td *tenantData) indexBundles(app *appRecord) {
	for _, b := range app.bundles {
		td.bundleApp[b.id] = app.id
		for _, api := range b.apis {
			td.apiBundle[api.id] = b.id
		}
	}
}

func (td *tenantData) unindexBundles(app *appRecord) {
	for _, b := range app.bundles {
		delete(td.bundleApp, b.id)
		for _, api := range b.apis {
			delete(td.apiBundle, api.id)
		}
	}
}

// remove deletes an application and returns it as it was.
func (s *store) remove(tenant, id string, check func(*appRecord) error) (*appRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	td, err := s.tenant(tenant)
	if err != nil {
		return nil, err
	}
	app, ok := td.apps[id]
	if !ok {
		return nil, errNotFound("application", id)
	}
	if check != nil {
		if err := check(app); err != nil {
			return nil, err
		}
	}
	delete(td.apps, id)
	delete(td.names, app.normalized)
	if i, found := slices.BinarySearch(td.ids, id); found {
		td.ids = slices.Delete(td.ids, i, i+1)
	}
	td.unindexBundles(app)
	return app, nil
}

// mutate replaces an application by a changed copy. change works on a
// shallow copy and must copy any map or slice it modifies.
func (s *store) mutate(tenant, id string, change func(app *appRecord) error) (*appRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	td, err := s.tenant(tenant)
	if err != nil {
		return nil, err
	}
	old, ok := td.apps[id]
	if !ok {
		return nil, errNotFound("application", id)
	}
	next := *old
	if err := change(&next); err != nil {
		return nil, err
	}
	if next.integrationSystemID != nil && !equalPtr(old.integrationSystemID, next.integrationSystemID) &&
		!s.intSys[*next.integrationSystemID] {
		return nil, errNotFound("integrationSystem", "")
	}
	td.unindexBundles(old)
	td.apps[id] = &next
	td.indexBundles(&next)
	return &next, nil
}

// appOfBundle returns the id of the application holding a bundle, "" when
// the bundle does not exist.
func (s *store) appOfBundle(tenant, bundleID string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if td, ok := s.tenants[tenant]; ok {
		return td.bundleApp[bundleID]
	}
	return ""
}

// appOfAPI returns the ids of the application and bundle holding an API.
func (s *store) appOfAPI(tenant, apiID string) (appID, bundleID string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	td, ok := s.tenants[tenant]
	if !ok {
		return "", ""
	}
	bundleID = td.apiBundle[apiID]
	return td.bundleApp[bundleID], bundleID
}

func equalPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// withBundle returns a copy of bundles where the bundle with b's id is
// replaced by b, or b is added; the result stays sorted by id.
func withBundle(bundles []*bundleRecord, b *bundleRecord) []*bundleRecord {
	out := make([]*bundleRecord, 0, len(bundles)+1)
	placed := false
	for _, old := range bundles {
		switch {
		case old.id == b.id:
			out = append(out, b)
			placed = true
			continue
		case !placed && b.id < old.id:
			out = append(out, b)
			placed = true
		}
		out = append(out, old)
	}
	if !placed {
		out = append(out, b)
	}
	return out
}

func withoutBundle(bundles []*bundleRecord, id string) []*bundleRecord {
	return slices.DeleteFunc(slices.Clone(bundles), func(b *bundleRecord) bool { return b.id == id })
}

func withAPI(apis []*apiRecord, a *apiRecord) []*apiRecord {
	out := make([]*apiRecord, 0, len(apis)+1)
	placed := false
	for _, old := range apis {
		switch {
		case old.id == a.id:
			out = append(out, a)
			placed = true
			continue
		case !placed && a.id < old.id:
			out = append(out, a)
			placed = true
		}
		out = append(out, old)
	}
	if !placed {
		out = append(out, a)
	}
	return out
}

func withoutAPI(apis []*apiRecord, id string) []*apiRecord {
	return slices.DeleteFunc(slices.Clone(apis), func(a *apiRecord) bool { return a.id == id })
}

func findBundle(app *appRecord, id string) *bundleRecord {
	for _, b := range app.bundles {
		if b.id == id {
			return b
		}
	}
	return nil
}

func findAPI(b *bundleRecord, id string) *apiRecord {
	for _, a := range b.apis {
		if a.id == id {
			return a
		}
	}
	return nil
}
