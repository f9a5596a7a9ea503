package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

const tenant = compasstest.DefaultTenant

// otherContext is the Open Connectors host of another job.
const otherContext = "api.openconnectors.other.example"

// foreignApps are the applications the job must never touch, given the
// job's context. Two of them clash with the names of pinned instances.
func foreignApps(ctx string) []compasstest.Application {
	spec := `{"swagger":"2.0","info":{"title":"foreign","version":"1"},"paths":{}}`
	bundle := func(name, token string) []compasstest.Bundle {
		return []compasstest.Bundle{{
			Name:        name,
			AuthHeaders: map[string][]string{"Authorization": {"User x, Organization y, Element " + token}},
			APIs: []compasstest.API{{Name: name + " API", TargetURL: "https://" + otherContext + basePath,
				SpecType: "OPEN_API", SpecFormat: "JSON", Spec: spec}},
		}}
	}
	identity := func(c, id, owner string) map[string]any {
		m := map[string]any{"connectorInstanceContext": c, "connectorInstanceID": id}
		if owner != "" {
			m["owner"] = owner
		}
		return m
	}
	return []compasstest.Application{
		{Name: "crm-legacy", Description: "no identity label", ProviderName: "someone", Status: "CONNECTED",
			Labels: map[string]any{"team": "crm"}, Bundles: bundle("legacy", "foreign-token-1")},
		{Name: "other-host-1004", Description: "another context", ProviderName: "SAP Open Connectors", Status: "CONNECTED",
			Labels:  map[string]any{"open_connectors": identity(otherContext, "1004", ""), "open_connectors_state": map[string]any{"fields": map[string]any{}}},
			Bundles: bundle("sfdc", "foreign-token-2")},
		{Name: "shard-b-1005", Description: "another owner", ProviderName: "SAP Open Connectors", Status: "FAILED",
			Labels:  map[string]any{"open_connectors": identity(ctx, "1005", "shard-b")},
			Bundles: bundle("hubspot", "foreign-token-3")},
		{Name: "unowned-1006", Description: "the job without an owner", ProviderName: "SAP Open Connectors", Status: "CONNECTED",
			Labels: map[string]any{"open_connectors": identity(ctx, "1006", "")}, Bundles: bundle("zendesk", "foreign-token-4")},
		{Name: prefix + "-1002", Description: "same name, no identity", Status: "INITIAL",
			Labels: map[string]any{"origin": "manual"}, Bundles: bundle("manual", "foreign-token-5")},
		{Name: "Chaos_1003", Description: "same name after normalisation, another context", Status: "CONNECTED",
			Labels: map[string]any{"open_connectors": identity(otherContext, "1003", "")}},
	}
}

// clashing are the instances whose application names the foreign
// applications hold.
var clashing = []int64{1002, 1003}

// director drives the fake Director behind the job's back, as a person with
// the Director's UI would.
type director struct {
	srv   *compasstest.Server
	token string
	// foreign maps the ids of the foreign applications to their snapshot.
	foreign map[string]compasstest.Application
	// foreignIDs are the ids of the foreign applications and of their
	// bundles and API definitions: no mutation may name one.
	foreignIDs []string
	// context is the job's identity context.
	context string
}

func newDirector(ctx string) (*director, error) {
	d := &director{srv: compasstest.NewServer(), foreign: map[string]compasstest.Application{}, context: ctx}
	d.token = d.srv.Token(compasstest.DefaultClientID, "application:read", "application:write")
	for _, app := range foreignApps(ctx) {
		id, err := d.srv.Seed(tenant, app)
		if err != nil {
			d.srv.Close()
			return nil, err
		}
		d.foreignIDs = append(d.foreignIDs, id)
	}
	for _, app := range d.srv.Applications(tenant) {
		if slices.Contains(d.foreignIDs, app.ID) {
			d.foreign[app.ID] = app
			for _, b := range app.Bundles {
				d.foreignIDs = append(d.foreignIDs, b.ID)
				for _, a := range b.APIs {
					d.foreignIDs = append(d.foreignIDs, a.ID)
				}
			}
		}
	}
	return d, nil
}

// identity returns the instance id of an application this job owns, or
// false.
func (d *director) identity(app compasstest.Application) (int64, bool) {
	m, ok := app.Labels["open_connectors"].(map[string]any)
	if !ok || m["connectorInstanceContext"] != d.context || m["owner"] != owner {
		return 0, false
	}
	s, ok := m["connectorInstanceID"].(string)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// owned returns the applications this job owns, by instance id; dup lists
// the instance ids held by more than one application.
func (d *director) owned() (byInstance map[int64]compasstest.Application, dup []int64) {
	byInstance = map[int64]compasstest.Application{}
	for _, app := range d.srv.Applications(tenant) {
		if id, ok := d.identity(app); ok {
			if _, twice := byInstance[id]; twice {
				dup = append(dup, id)
			}
			byInstance[id] = app
		}
	}
	return byInstance, dup
}

// snapshot returns every application of the tenant by id.
func (d *director) snapshot() map[string]compasstest.Application {
	m := map[string]compasstest.Application{}
	for _, app := range d.srv.Applications(tenant) {
		m[app.ID] = app
	}
	return m
}

// mutationCalls returns how often each mutation was called so far.
func (d *director) mutationCalls() map[string]int {
	m := map[string]int{}
	for op, n := range d.srv.Counts() {
		if !directorQueries[op] {
			m[op] = n
		}
	}
	return m
}

// directorQueries are the operations of the fake that change nothing.
var directorQueries = map[string]bool{"applications": true, "application": true, "viewer": true, compasstest.TokenOperation: true}

func mutationsSince(before, after map[string]int) int {
	n := 0
	for op, c := range after {
		n += c - before[op]
	}
	return n
}

// graphql sends one request with the director's own token.
func (d *director) graphql(ctx context.Context, query string, vars map[string]any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.srv.GraphQLURL(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("tenant", tenant)
	resp, err := d.srv.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var out struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &out) != nil || len(out.Errors) > 0 {
		return fmt.Errorf("director: HTTP %d: %s", resp.StatusCode, data)
	}
	return nil
}

// marks are the changes made behind the job's back that the job is not
// expected to see, because its state label still claims the old value: the
// listing carries no bundles, and drift is judged from the state label. A
// mark is cleared once the job wrote the field again.
type marks struct {
	bundleGone map[string]bool // application ids whose bundle was deleted by hand
}

func newMarks() *marks {
	return &marks{bundleGone: map[string]bool{}}
}

// drift makes one change behind the job's back on an owned application
// that is not in exclude. It returns what it did, or "".
func (d *director) drift(ctx context.Context, rng *rand.Rand, m *marks, exclude map[int64]bool) (string, error) {
	owned, _ := d.owned()
	ids := slices.Sorted(maps.Keys(owned))
	ids = slices.DeleteFunc(ids, func(id int64) bool { return exclude[id] })
	if len(ids) == 0 {
		return "", nil
	}
	app := owned[ids[rng.IntN(len(ids))]]
	switch rng.IntN(4) {
	case 0:
		desc := fmt.Sprintf("edited by hand %d", rng.IntN(1000))
		err := d.graphql(ctx, `mutation($id: ID!, $in: ApplicationUpdateInput!) { updateApplication(id: $id, in: $in) { id } }`,
			map[string]any{"id": app.ID, "in": map[string]any{"description": desc, "providerName": app.ProviderName, "statusCondition": app.Status}})
		return "edit description", err
	case 1:
		if len(app.Bundles) == 0 {
			return "", nil
		}
		err := d.graphql(ctx, `mutation($id: ID!) { deleteBundle(id: $id) { id } }`, map[string]any{"id": app.Bundles[0].ID})
		if err == nil {
			m.bundleGone[app.ID] = true
		}
		return "delete bundle", err
	case 2:
		if _, ok := app.Labels["open_connectors_state"]; !ok {
			return "", nil
		}
		return "delete state label", d.graphql(ctx, `mutation($id: ID!, $key: String!) { deleteApplicationLabel(applicationID: $id, key: $key) { key } }`,
			map[string]any{"id": app.ID, "key": "open_connectors_state"})
	default:
		delete(m.bundleGone, app.ID)
		return "unregister application", d.graphql(ctx, `mutation($id: ID!) { unregisterApplication(id: $id) { id } }`, map[string]any{"id": app.ID})
	}
}
