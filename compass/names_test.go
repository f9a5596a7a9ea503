package compass

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"test-application", "mp-test-application"},
		{"tEsT-ApPlIcAtIoN", "mp-test-application"},
		{"test.application", "mp-test-application"},
		{"test%.-&application", "mp-test-application"},
		{"!@#$%test-application", "mp-test-application"},
		{"test-application&--*^-%", "mp-test-application"},
		{"---tEsT@ApPlIcAtIoN.!$", "mp-test-application"},
		{"My App", "mp-my-app"},
		{"my_app", "mp-my-app"},
		{"mp-already", "mp-already"},
		{"mp-Not.Normal", "mp-mp-not-normal"},
		{"oc-Ünïcode-1", "mp-oc-n-code-1"},
		{"", "mp"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, NormalizeName(tt.in))
		})
	}
}

func TestAsciiName(t *testing.T) {
	long := strings.Repeat("x", 150)
	tests := []struct {
		name, in, fallback, want string
	}{
		{"printable kept", "HubSpot: Sales CRM", "", "HubSpot: Sales CRM"},
		{"non-ASCII replaced", "Café ☕", "", "Caf_ _"},
		{"control replaced", "a\tb", "", "a_b"},
		{"trimmed", "  name  ", "", "name"},
		{"cut to 100", long, "", long[:100]},
		{"empty uses fallback", "", "fällback", "f_llback"},
		{"blank uses fallback", "   ", "fb", "fb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := asciiName(tt.in, tt.fallback)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), 100)
		})
	}
}

func TestTruncateRunes(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"äöüß", 2, "äö"},
		{"exact", 5, "exact"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := truncateRunes(tt.in, tt.n)
			assert.Equal(t, tt.want, got)
			assert.True(t, utf8.ValidString(got))
		})
	}
}

func TestCheckApplication(t *testing.T) {
	ok := ocsync.Application{Name: "oc-1", Attributes: ocsync.Attributes{TargetURL: "https://h.example.com/elements/api-v2"}}
	tests := []struct {
		name   string
		mutate func(*ocsync.Application)
		valid  bool
	}{
		{"valid", func(*ocsync.Application) {}, true},
		{"empty name", func(a *ocsync.Application) { a.Name = "" }, false},
		{"long name", func(a *ocsync.Application) { a.Name = strings.Repeat("n", 101) }, false},
		{"relative URL", func(a *ocsync.Application) { a.TargetURL = "/elements/api-v2" }, false},
		{"ftp URL", func(a *ocsync.Application) { a.TargetURL = "ftp://h/x" }, false},
		{"long URL", func(a *ocsync.Application) { a.TargetURL = "https://h/" + strings.Repeat("p", 250) }, false},
		{"unknown status", func(a *ocsync.Application) { a.Status = "BROKEN" }, false},
		{"other known status", func(a *ocsync.Application) { a.Status = "INITIAL" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := ok
			tt.mutate(&app)
			err := checkApplication(app)
			if tt.valid {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ocsync.ErrInvalidInput)
			}
		})
	}
}

func TestCheckSpec(t *testing.T) {
	tests := []struct {
		name       string
		spec       ocsync.Spec
		typ, forma string
	}{
		{"defaults", ocsync.Spec{Data: []byte(`{}`)}, "OPEN_API", "JSON"},
		{"yaml", ocsync.Spec{Type: "open_api", Format: "yaml", Data: []byte("a: 1")}, "OPEN_API", "YAML"},
		{"odata xml", ocsync.Spec{Type: "ODATA", Format: "XML", Data: []byte("<x/>")}, "ODATA", "XML"},
		{"openapi xml", ocsync.Spec{Type: "OPEN_API", Format: "XML", Data: []byte("<x/>")}, "", ""},
		{"empty", ocsync.Spec{}, "", ""},
		{"not UTF-8", ocsync.Spec{Data: []byte{'{', 0xff, '}'}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, format, err := checkSpec(tt.spec)
			if tt.typ == "" {
				assert.ErrorIs(t, err, ocsync.ErrInvalidSpec)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.typ, typ)
			assert.Equal(t, tt.forma, format)
		})
	}
}

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
	assert.JSONEq(t, `{"Authorization":["User a, Organization b, Element <c>&"]}`, encodeHeaders("User a, Organization b, Element <c>&"))
}
