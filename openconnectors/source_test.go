package openconnectors

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

func TestPrefixValidation(t *testing.T) {
	tests := []struct {
		prefix  string
		wantErr string
	}{
		{"app-prefix", ""},
		{"oc", ""},
		{"a1-b2-c3", ""},
		{strings.Repeat("a", MaxPrefixLen), ""},
		{"", "is required"},
		{strings.Repeat("a", MaxPrefixLen+1), "longer than 80 characters"},
		{"1app", "must start with a lower-case letter"},
		{"-app", "must start with a lower-case letter"},
		{"App", "must start with a lower-case letter"},
		{"app-", "must not end with a dash"},
		{"a--b", "must not contain consecutive dashes"},
		{"aPP", "may only hold lower-case letters, digits and dashes"},
		{"a_b", "may only hold"},
		{"a.b", "may only hold"},
		{"aé", "may only hold"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			err := SourceOptions{ApplicationPrefix: tt.prefix}.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Contains(t, err.Error(), "ApplicationPrefix")
		})
	}
}

func TestInvalidPrefixFailsTheListing(t *testing.T) {
	f := newFixture(t, nil, octest.WithInstances(instances(1)...))
	_, err := NewSource(f.c, SourceOptions{ApplicationPrefix: "Bad"}).Applications(t.Context())
	require.ErrorIs(t, err, ocsync.ErrFatal)
	assert.Zero(t, f.srv.Requests(), "nothing is listed with a bad prefix")
}

func TestApplications(t *testing.T) {
	const user, org = "u+s/er=", "o+r/g=="
	f := newFixture(t, func(c *Config) { c.UserSecret, c.OrganizationSecret = user, org }, octest.WithSecrets(user, org))
	f.srv.Put(
		octest.Instance{ID: 4711, Name: "crm-prod", Token: "Ab3+xYz/0k9=", Element: octest.Element{ID: 23, Key: "sfdc", Name: "Salesforce Sales Cloud"},
			UpdatedDate: 1700000000000},
		octest.Instance{ID: 4712, Name: "Tickets für Köln – 日本", Token: "Qw9/Zt1+Lm=", Element: octest.Element{ID: 2113, Key: "zendesk", Name: "Zendesk"},
			Invalid: true},
		octest.Instance{ID: 4713, Name: "off", Token: "t", Element: octest.Element{ID: 1, Key: "k", Name: "E"}, Disabled: true},
	)
	f.srv.PutRaw(4714, nil, []byte(`{"id":4714,"element":{"id":77}}`))
	src := NewSource(f.c, SourceOptions{ApplicationPrefix: "oc"})
	apps, err := src.Applications(t.Context())
	require.NoError(t, err)
	require.Len(t, apps, 4)

	target := f.srv.URL + "/elements/api-v2"
	assert.Equal(t, ocsync.Application{
		Name: "oc-4711",
		Key:  "4711",
		Attributes: ocsync.Attributes{
			Description:  "SAP Open Connectors Salesforce Sales Cloud: crm-prod",
			ProviderName: "SAP Open Connectors",
			Status:       ocsync.StatusConnected,
			Bundle:       "sfdc",
			API:          "Salesforce Sales Cloud: crm-prod",
			TargetURL:    target,
			Revision:     "1700000000000",
		},
		Credential: ocsync.Secret("User u+s/er=, Organization o+r/g==, Element Ab3+xYz/0k9="),
	}, apps[0])
	assert.Equal(t, "User u+s/er=, Organization o+r/g==, Element Ab3+xYz/0k9=", apps[0].Credential.Reveal())

	assert.Equal(t, "SAP Open Connectors Zendesk: Tickets für Köln – 日本", apps[1].Description)
	assert.Equal(t, "Zendesk: Tickets fur Koln - _", apps[1].API)
	assert.Equal(t, ocsync.StatusFailed, apps[1].Status, "invalid")
	assert.Empty(t, apps[1].Revision)
	assert.Equal(t, ocsync.StatusFailed, apps[2].Status, "disabled")

	assert.Equal(t, "oc-4714", apps[3].Name)
	assert.Equal(t, ocsync.StatusFailed, apps[3].Status, "incomplete")
	assert.Equal(t, "element-77", apps[3].Bundle)
	assert.Equal(t, "instance 4714", apps[3].API)

	assert.Equal(t, f.srv.URL[len("http://"):], src.Context())
}

func TestSpec(t *testing.T) {
	f := newFixture(t, nil, octest.WithInstances(instances(2)...))
	doc := octest.SwaggerDocument("special", 5000)
	f.srv.SetSpec(2, doc)
	f.srv.SetSpec(1, []byte("nope"))
	src := NewSource(f.c, SourceOptions{ApplicationPrefix: "oc"})
	apps, err := src.Applications(t.Context())
	require.NoError(t, err)
	require.Len(t, apps, 2)
	assert.Zero(t, f.srv.Count(octest.EndpointDocs), "specs are loaded lazily")

	spec, err := src.Spec(t.Context(), apps[1])
	require.NoError(t, err)
	assert.Equal(t, ocsync.Spec{Type: "OPEN_API", Format: "JSON", Data: doc}, spec)

	_, err = src.Spec(t.Context(), apps[0])
	require.ErrorIs(t, err, ocsync.ErrInvalidSpec)
	assert.Contains(t, err.Error(), "instance 1")

	_, err = src.Spec(t.Context(), ocsync.Application{Name: "x", Key: "abc"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key "abc" is not an instance id`)

	f.srv.Remove(2)
	_, err = src.Spec(t.Context(), apps[1])
	require.ErrorIs(t, err, ocsync.ErrNotFound)
}

func TestListingErrorsPassThrough(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxRetries = -1 }, octest.WithInstances(instances(1)...))
	f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 503})
	apps, err := NewSource(f.c, SourceOptions{ApplicationPrefix: "oc"}).Applications(t.Context())
	require.ErrorIs(t, err, ocsync.ErrRetryable)
	assert.Nil(t, apps)
	var apiErr *APIError
	assert.True(t, errors.As(err, &apiErr))
}

func TestPrintableASCII(t *testing.T) {
	tests := []struct {
		in, fallback, want string
	}{
		{"Salesforce: crm", "f", "Salesforce: crm"},
		{"Crème brûlée", "f", "Creme brulee"},
		{"Straße Ærø Łódź", "f", "Strasse AEro Lodz"},
		{"日本語", "fallback", "fallback"},
		{"A 日本 B", "f", "A _ B"},
		{"a\tb\n\nc", "f", "a b c"},
		{"  padded  ", "f", "padded"},
		{"ﬁle ＡＢＣ", "f", "file ABC"},
		{"“quoted” – dash…", "f", `"quoted" - dash...`},
		{"", "", "_"},
		{"\x00\x01", "日本", "_"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := PrintableASCII(tt.in, 100, tt.fallback)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, PrintableASCII(tt.in, 100, tt.fallback), "deterministic")
		})
	}
	t.Run("limits", func(t *testing.T) {
		long := strings.Repeat("ä", 300)
		got := PrintableASCII(long, 100, "f")
		assert.Equal(t, strings.Repeat("a", 100), got)
		got = PrintableASCII(strings.Repeat("x ", 60), 100, "f")
		assert.LessOrEqual(t, len(got), 100)
		assert.False(t, strings.HasSuffix(got, " "))
		for _, r := range got {
			assert.True(t, r >= 0x20 && r <= 0x7e)
		}
	})
}

func TestLongNamesAreCut(t *testing.T) {
	f := newFixture(t, nil)
	name := strings.Repeat("ü", 3000)
	f.srv.Put(octest.Instance{ID: 1, Name: name, Token: "t", Element: octest.Element{Key: strings.Repeat("k", 150), Name: "E"}})
	apps, err := NewSource(f.c, SourceOptions{ApplicationPrefix: "oc"}).Applications(t.Context())
	require.NoError(t, err)
	require.Len(t, apps, 1)
	assert.Equal(t, 2000, utf8.RuneCountInString(apps[0].Description))
	assert.True(t, strings.HasPrefix(apps[0].Description, "SAP Open Connectors E: üü"))
	assert.Len(t, apps[0].Bundle, 100)
	assert.Len(t, apps[0].API, 100)
}
