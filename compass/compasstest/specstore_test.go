package compasstest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

// discardOpts returns the options of a server that keeps spec documents or
// discards them.
func discardOpts(discard bool) []compasstest.Option {
	if discard {
		return []compasstest.Option{compasstest.WithDiscardSpecs()}
	}
	return nil
}

func sha(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// TestDiscardSpecs checks that every way a spec reaches the store keeps
// only its digest with WithDiscardSpecs, and the full document
// otherwise.
func TestDiscardSpecs(t *testing.T) {
	const (
		first  = `{"swagger":"2.0","info":{"title":"first"}}`
		second = `{"swagger":"2.0","info":{"title":"second, longer"}}`
		third  = `{"openapi":"3.0.0","info":{"title":"third"}}`
	)
	type stored struct{ name, spec string }
	steps := []struct {
		name string
		// run changes the application with API api in bundle bundle and
		// returns the name of the API and the document it should now hold.
		run func(t *testing.T, s *compasstest.Server, appID, bundleID, apiID string) stored
	}{
		{"register", func(*testing.T, *compasstest.Server, string, string, string) stored {
			return stored{"HubSpot: one", `{"swagger":"2.0"}`}
		}},
		{"update with a spec", func(t *testing.T, s *compasstest.Server, _, _, apiID string) stored {
			do(t, s, `mutation($id: ID!, $d: CLOB!) { updateAPIDefinition(id: $id, in: {name: "HubSpot: one", targetURL: "https://h/x", spec: {type: OPEN_API, format: JSON, data: $d}}) { id } }`,
				map[string]any{"id": apiID, "d": first})
			return stored{"HubSpot: one", first}
		}},
		{"update without a spec keeps it", func(t *testing.T, s *compasstest.Server, _, _, apiID string) stored {
			do(t, s, `mutation($id: ID!) { updateAPIDefinition(id: $id, in: {name: "HubSpot: one", targetURL: "https://h/y"}) { id } }`,
				map[string]any{"id": apiID})
			return stored{"HubSpot: one", `{"swagger":"2.0"}`}
		}},
		{"add an API", func(t *testing.T, s *compasstest.Server, _, bundleID, _ string) stored {
			do(t, s, `mutation($b: ID!, $d: CLOB!) { addAPIDefinitionToBundle(bundleID: $b, in: {name: "zz added", targetURL: "https://h/z", spec: {type: OPEN_API, format: JSON, data: $d}}) { id } }`,
				map[string]any{"b": bundleID, "d": second})
			return stored{"zz added", second}
		}},
		{"add a bundle", func(t *testing.T, s *compasstest.Server, appID, _, _ string) stored {
			do(t, s, `mutation($a: ID!, $d: CLOB!) { addBundle(applicationID: $a, in: {name: "other", apiDefinitions: [{name: "zz bundled", targetURL: "https://h/b", spec: {type: OPEN_API, format: JSON, data: $d}}]}) { id } }`,
				map[string]any{"a": appID, "d": third})
			return stored{"zz bundled", third}
		}},
	}
	for _, discard := range []bool{false, true} {
		for _, step := range steps {
			t.Run(step.name+map[bool]string{false: "/kept", true: "/discarded"}[discard], func(t *testing.T) {
				s := compasstest.NewServer(discardOpts(discard)...)
				defer s.Close()
				app := register(t, s, "app", nil)
				b := app.Bundles.Data[0]
				want := step.run(t, s, app.ID, b.ID, b.APIDefinitions.Data[0].ID)

				got, ok := s.Application(compasstest.DefaultTenant, "app")
				require.True(t, ok)
				var api *compasstest.API
				for i := range got.Bundles {
					for j := range got.Bundles[i].APIs {
						if got.Bundles[i].APIs[j].Name == want.name {
							api = &got.Bundles[i].APIs[j]
						}
					}
				}
				require.NotNil(t, api, "API %s", want.name)
				assert.Equal(t, sha(want.spec), api.SpecSHA256)
				assert.Equal(t, len(want.spec), api.SpecLength)
				assert.Equal(t, "OPEN_API", api.SpecType)
				listed := s.Applications(compasstest.DefaultTenant)
				require.Len(t, listed, 1)
				assert.Equal(t, got, listed[0])

				read := do(t, s, `query($id: ID!) { application(id: $id) { bundles { data { apiDefinitions { data { name spec { data type } } } } } } }`, map[string]any{"id": app.ID})
				var out struct {
					Bundles struct {
						Data []struct {
							APIDefinitions struct {
								Data []struct {
									Name string
									Spec struct {
										Data *string
										Type string
									}
								}
							} `json:"apiDefinitions"`
						}
					}
				}
				require.NoError(t, json.Unmarshal(read["application"], &out))
				found := false
				for _, bd := range out.Bundles.Data {
					for _, a := range bd.APIDefinitions.Data {
						if a.Name != want.name {
							continue
						}
						found = true
						assert.Equal(t, "OPEN_API", a.Spec.Type)
						if discard {
							assert.Nil(t, a.Spec.Data)
						} else if assert.NotNil(t, a.Spec.Data) {
							assert.Equal(t, want.spec, *a.Spec.Data)
						}
					}
				}
				assert.True(t, found)
				if discard {
					assert.Empty(t, api.Spec)
				} else {
					assert.Equal(t, want.spec, api.Spec)
				}
			})
		}
	}
}

func TestDiscardSpecsSeed(t *testing.T) {
	const doc = `{"swagger":"2.0","info":{"title":"seeded"}}`
	for _, discard := range []bool{false, true} {
		s := compasstest.NewServer(discardOpts(discard)...)
		_, err := s.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "seeded", Bundles: []compasstest.Bundle{{
			Name: "b", APIs: []compasstest.API{{Name: "a", TargetURL: "https://h", SpecType: "OPEN_API", SpecFormat: "JSON", Spec: doc}},
		}}})
		require.NoError(t, err)
		got, ok := s.Application(compasstest.DefaultTenant, "seeded")
		require.True(t, ok)
		api := got.Bundles[0].APIs[0]
		assert.Equal(t, sha(doc), api.SpecSHA256)
		assert.Equal(t, len(doc), api.SpecLength)
		if discard {
			assert.Empty(t, api.Spec)
		} else {
			assert.Equal(t, doc, api.Spec)
		}
		s.Close()
	}
}
