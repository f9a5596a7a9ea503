package compass

import (
	"encoding/json"
	"testing"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
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
