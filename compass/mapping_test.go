package compass

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthorizationHeaders(t *testing.T) {
	assert.JSONEq(t, `{"Authorization":["User a, Organization b, Element <c>&"]}`, authorizationHeaders("User a, Organization b, Element <c>&"))
	assert.Equal(t, `{"Authorization":["User a, Organization b, Element <c>&"]}`, authorizationHeaders("User a, Organization b, Element <c>&"), "no HTML escaping")
}

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
		{"mp-x", "mp-x"},
		{"x", "mp-x"},
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

func TestASCIIName(t *testing.T) {
	tests := []struct {
		in, fallback, want string
	}{
		{"Salesforce: crm", "f", "Salesforce: crm"},
		{"HubSpot: Sales CRM", "", "HubSpot: Sales CRM"},
		{"Crème brûlée", "f", "Creme brulee"},
		{"Straße Ærø Łódź", "f", "Strasse AEro Lodz"},
		{"日本語", "fallback", "fallback"},
		{"A 日本 B", "f", "A _ B"},
		{"Café ☕", "f", "Cafe _"},
		{"a\tb\n\nc", "f", "a b c"},
		{"  padded  ", "f", "padded"},
		{"ﬁle ＡＢＣ", "f", "file ABC"},
		{"“quoted” – dash…", "f", `"quoted" - dash...`},
		{"", "fällback", "fallback"},
		{"   ", "fb", "fb"},
		{"", "", "_"},
		{"\x00\x01", "日本", "_"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ASCIIName(tt.in, tt.fallback)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, ASCIIName(tt.in, tt.fallback), "deterministic")
		})
	}
	t.Run("limits", func(t *testing.T) {
		assert.Equal(t, strings.Repeat("a", 100), ASCIIName(strings.Repeat("ä", 300), "f"))
		assert.Equal(t, strings.Repeat("x", 100), ASCIIName(strings.Repeat("x", 150), "f"))
		got := ASCIIName(strings.Repeat("x ", 60), "f")
		assert.LessOrEqual(t, len(got), 100)
		assert.False(t, strings.HasSuffix(got, " "))
		for _, r := range got {
			assert.True(t, r >= 0x20 && r <= 0x7e)
		}
	})
	t.Run("bundle and API fall back to the application name", func(t *testing.T) {
		app := ocsync.Application{Name: "oc-7", Attributes: ocsync.Attributes{Bundle: "日本", API: "☕"}}
		assert.Equal(t, "oc-7", bundleName(app))
		assert.Equal(t, "oc-7", apiName(app))
	})
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
				assert.ErrorIs(t, err, remote.ErrInvalidInput)
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
				assert.ErrorIs(t, err, remote.ErrInvalidSpec)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.typ, typ)
			assert.Equal(t, tt.forma, format)
		})
	}
}

// TestLongValuesAreCutForTheDirector: a source hands values as they are;
// the Registry cuts the description (and the provider name) to the
// Director's limits where it maps them, and refuses a name over its limit.
func TestLongValuesAreCutForTheDirector(t *testing.T) {
	srv := newServer(t)
	reg := newRegistry(t, testConfig(srv))
	app := desired("1")
	app.Description = "SAP Open Connectors E: " + strings.Repeat("ü", 3000)
	app.ProviderName = strings.Repeat("p", 300)
	spec := testSpec(`{"openapi":"3.0.0"}`)
	require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
	stored, ok := srv.Application(compasstest.DefaultTenant, app.Name)
	require.True(t, ok)
	assert.Equal(t, 2000, utf8.RuneCountInString(stored.Description))
	assert.True(t, strings.HasPrefix(stored.Description, "SAP Open Connectors E: üü"))
	assert.Equal(t, maxProvider, utf8.RuneCountInString(stored.ProviderName))

	long := desired("2")
	long.Name = strings.Repeat("n", maxAppName+1)
	err := reg.Create(t.Context(), long, spec, stateOf(long, spec))
	require.ErrorIs(t, err, remote.ErrInvalidInput)
	assert.Contains(t, err.Error(), "1..100 characters")
}
