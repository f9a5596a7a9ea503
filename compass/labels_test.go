package compass

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeIdentity(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		want      Identity
		ok, canon bool
	}{
		{"canonical", `{"connectorInstanceContext":"h","connectorInstanceID":"1"}`, Identity{"h", "1", ""}, true, true},
		{"with owner", `{"connectorInstanceContext":"h","connectorInstanceID":"1","owner":"o"}`, Identity{"h", "1", "o"}, true, true},
		{"numeric id", `{"connectorInstanceContext":"h","connectorInstanceID":7}`, Identity{"h", "7", ""}, true, false},
		{"extra key", `{"connectorInstanceContext":"h","connectorInstanceID":"1","x":1}`, Identity{"h", "1", ""}, true, false},
		{"no id", `{"connectorInstanceContext":"h"}`, Identity{"h", "", ""}, true, false},
		{"empty owner", `{"connectorInstanceContext":"h","connectorInstanceID":"1","owner":""}`, Identity{"h", "1", ""}, true, false},
		{"no context", `{"connectorInstanceID":"1"}`, Identity{}, false, false},
		{"string", `"h"`, Identity{}, false, false},
		{"absent", ``, Identity{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, canon := decodeIdentity(json.RawMessage(tt.raw))
			assert.Equal(t, tt.want, id)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.canon, canon)
		})
	}
}

func TestDecodeState(t *testing.T) {
	st := ocsync.State{Fields: map[string]string{"description": "abc"}, SpecSHA256: "ff"}
	obj, err := json.Marshal(st)
	require.NoError(t, err)
	str, err := json.Marshal(string(obj))
	require.NoError(t, err)
	tests := []struct {
		name string
		raw  string
		want *ocsync.State
	}{
		{"object", string(obj), &st},
		{"stringified", string(str), &st},
		{"absent", "", nil},
		{"null", "null", nil},
		{"garbage", `[1,2]`, nil},
		{"no fields", `{"specSHA256":"ff"}`, nil},
		{"pending", `{"fields":{"description":"abc"},"pending":true}`, &ocsync.State{Fields: map[string]string{"description": "abc"}, Pending: true}},
		{"pending without fields", `{"specSHA256":"ff","pending":true}`, &ocsync.State{SpecSHA256: "ff", Pending: true}},
		{"not an object", `42`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, decodeState(json.RawMessage(tt.raw)))
		})
	}
}

func TestIdentityFilter(t *testing.T) {
	assert.JSONEq(t, `{"connectorInstanceContext":"h:1"}`, identityFilter("h:1", "", ""))
	assert.JSONEq(t, `{"connectorInstanceContext":"h","owner":"o"}`, identityFilter("h", "o", ""))
	assert.JSONEq(t, `{"connectorInstanceContext":"h","connectorInstanceID":"9","owner":"o"}`, identityFilter("h", "o", "9"))
	assert.Equal(t, `"mp-x"`, jsonString("mp-x"))
}

// TestLabelKeysAreConfigured: a Registry with its own label keys writes
// and finds its applications under them; one with the default keys finds
// the applications registered so far (open_connectors) and not the others.
func TestLabelKeysAreConfigured(t *testing.T) {
	srv := newServer(t)
	ctx := t.Context()
	spec := testSpec(`{"openapi":"3.0.0"}`)

	def := newRegistry(t, testConfig(srv))
	old := desired("1")
	require.NoError(t, def.Create(ctx, old, spec, stateOf(old, spec)))

	cfg := testConfig(srv)
	cfg.Labels = Labels{Identity: "file_sync", State: "file_sync_state"}
	own := newRegistry(t, cfg)
	app := desired("2")
	require.NoError(t, own.Create(ctx, app, spec, stateOf(app, spec)))

	stored, ok := srv.Application(compasstest.DefaultTenant, app.Name)
	require.True(t, ok)
	assert.Contains(t, stored.Labels, "file_sync")
	assert.Contains(t, stored.Labels, "file_sync_state")
	assert.NotContains(t, stored.Labels, IdentityLabel)
	stored, ok = srv.Application(compasstest.DefaultTenant, old.Name)
	require.True(t, ok)
	assert.Contains(t, stored.Labels, "open_connectors", "today's key is the default")
	assert.Contains(t, stored.Labels, "open_connectors_state")

	for _, tt := range []struct {
		name string
		reg  *Registry
		want string
	}{{"default keys", def, old.Name}, {"own keys", own, app.Name}} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.reg.Applications(ctx)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, tt.want, got[0].Name)
			assert.True(t, got[0].Owned)
			require.NotNil(t, got[0].State, "the state label is read under its key")
		})
	}
}

func TestLabelKeysAreValidated(t *testing.T) {
	tests := []struct {
		name   string
		labels Labels
		fields []string
	}{
		{"defaults", Labels{}, nil},
		{"own", Labels{Identity: "a_1", State: "B_2"}, nil},
		{"dash", Labels{Identity: "file-sync"}, []string{"Labels.Identity"}},
		{"dot", Labels{State: "file.sync"}, []string{"Labels.State"}},
		{"too long", Labels{Identity: strings.Repeat("k", MaxLabelKeyLength+1)}, []string{"Labels.Identity"}},
		{"reserved", Labels{Identity: "scenarios", State: "name"}, []string{"Labels.Identity", "Labels.State"}},
		{"same", Labels{Identity: "x", State: "x"}, []string{"Labels.State"}},
		{"same as a default", Labels{Identity: StateLabel}, []string{"Labels.State"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fields []string
			for _, err := range tt.labels.validate() {
				var fe *remote.FieldError
				require.ErrorAs(t, err, &fe)
				fields = append(fields, fe.Field)
			}
			assert.Equal(t, tt.fields, fields)
			cfg := testConfig(newServer(t))
			cfg.Labels = tt.labels
			if tt.fields == nil {
				assert.NoError(t, cfg.Validate())
			} else {
				assert.Error(t, cfg.Validate())
			}
		})
	}
}
