package compass

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// TestNestedAnswersNeverLookIncomplete: the bundle and API pages read for
// an update are checked; a null or inconsistent page fails the update and
// never makes it add a second bundle or API definition.
func TestNestedAnswersNeverLookIncomplete(t *testing.T) {
	const app = `"id":"a1"`
	api := `{"totalCount":1,"data":[{"id":"api1"}]}`
	tests := []struct {
		name   string
		answer string
		want   string
	}{
		{"bundles null", `{"data":{"application":{` + app + `,"bundles":null}}}`, "the bundles page is null"},
		{"bundles data null", `{"data":{"application":{` + app + `,"bundles":{"totalCount":1,"data":null}}}}`, "the bundles page is null"},
		{"bundles counted but none given", `{"data":{"application":{` + app + `,"bundles":{"totalCount":1,"data":[]}}}}`, "empty but counts bundles"},
		{"null bundle", `{"data":{"application":{` + app + `,"bundles":{"totalCount":1,"data":[null]}}}}`, "bundle 0 has no id"},
		{"API page null", `{"data":{"application":{` + app + `,"bundles":{"totalCount":1,"data":[{"id":"b1","apiDefinitions":null}]}}}}`,
			"the API definitions page of bundle 0 is null"},
		{"APIs counted but none given", `{"data":{"application":{` + app + `,"bundles":{"totalCount":1,"data":[{"id":"b1","apiDefinitions":{"totalCount":2,"data":[]}}]}}}}`,
			"empty but counts API definitions"},
		{"API without id", `{"data":{"application":{` + app + `,"bundles":{"totalCount":1,"data":[{"id":"b1","apiDefinitions":{"totalCount":1,"data":[{}]}}]}}}}`,
			"API definition 0 of bundle 0 has no id"},
		{"bundle with an API beyond the first page", `{"data":{"application":{` + app + `,"bundles":{"totalCount":201,"data":[{"id":"b1","apiDefinitions":{"totalCount":0,"data":[]}}]}}}}`,
			"none of the first 1 of 201 bundles"},
		{"another application", `{"data":{"application":{"id":"other","bundles":{"totalCount":1,"data":[{"id":"b1","apiDefinitions":` + api + `}]}}}}`,
			"the answer is another application"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newScripted(t, func(op string, _ int, _ map[string]any) string {
				if op == "GetApplication" {
					return tt.answer
				}
				return `{"errors":[{"message":"not expected here"}]}`
			})
			reg := d.registry(t, 0)
			cur := ocsync.Registered{ID: "a1", Name: "oc-1", Key: "1", Owned: true, Ref: Ref{IdentityCurrent: true}}
			spec := testSpec(`{}`)
			app := desired("1")
			err := reg.Update(t.Context(), cur, app, ocsync.Update{Fields: []string{ocsync.FieldSpec}, Spec: &spec, State: stateOf(app, spec)})
			require.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, 1, d.calls("GetApplication"))
			assert.Zero(t, d.calls("AddBundle"))
			assert.Zero(t, d.calls("AddAPIDefinitionToBundle"))
			assert.Zero(t, d.calls("SetApplicationLabel"), "nothing is written on a malformed read")
		})
	}
	t.Run("a well-formed answer picks the bundle with an API", func(t *testing.T) {
		answer := `{"data":{"application":{` + app + `,"bundles":{"totalCount":2,"data":[` +
			`{"id":"b0","apiDefinitions":{"totalCount":0,"data":[]}},{"id":"b1","apiDefinitions":` + api + `}]}}}}`
		d := newScripted(t, func(string, int, map[string]any) string { return answer })
		ref, err := d.registry(t, 0).refOf(t.Context(), ocsync.Registered{ID: "a1"})
		require.NoError(t, err)
		assert.Equal(t, Ref{BundleID: "b1", APIID: "api1"}, ref)
	})
	t.Run("a missing application is not found", func(t *testing.T) {
		d := newScripted(t, func(string, int, map[string]any) string { return `{"data":{"application":null}}` })
		_, err := d.registry(t, 0).refOf(t.Context(), ocsync.Registered{ID: "a1"})
		assert.ErrorIs(t, err, remote.ErrNotFound)
	})
}
