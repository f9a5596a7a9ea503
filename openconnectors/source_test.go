package openconnectors

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
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
			var fe *remote.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "ApplicationPrefix", fe.Field)
		})
	}
}

func TestOwnerValidation(t *testing.T) {
	tests := []struct {
		owner string
		ok    bool
	}{
		{"", true},
		{"a", true},
		{"shard-1.crm_EU", true},
		{"9lives", true},
		{strings.Repeat("o", MaxOwnerLen), true},
		{strings.Repeat("o", MaxOwnerLen+1), false},
		{"-shard", false},
		{"_shard", false},
		{".shard", false},
		{"sh ard", false},
		{"shard/1", false},
		{"shärd", false},
		{"shard\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.owner, func(t *testing.T) {
			err := SourceOptions{ApplicationPrefix: "oc", Owner: tt.owner}.Validate()
			if tt.ok {
				require.NoError(t, err)
				return
			}
			var fe *remote.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "Owner", fe.Field)
			assert.Contains(t, fe.Problem, "1 to 63 letters, digits")
		})
	}
	err := SourceOptions{ApplicationPrefix: "Bad", Owner: "-bad"}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ApplicationPrefix: ")
	assert.Contains(t, err.Error(), "Owner: ")
}

func TestNewSourceValidatesUpFront(t *testing.T) {
	f := newFixture(t, nil, octest.WithInstances(instances(1)...))
	src, err := NewSource(f.c, SourceOptions{ApplicationPrefix: "Bad"})
	require.Error(t, err)
	assert.Nil(t, src)
	var fe *remote.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "ApplicationPrefix", fe.Field)
	_, err = NewSource(nil, SourceOptions{ApplicationPrefix: "oc"})
	require.Error(t, err)
	assert.Zero(t, f.srv.Requests(), "nothing is listed")
}

func TestScope(t *testing.T) {
	f := newFixture(t, nil)
	src := newSource(t, f.c, SourceOptions{ApplicationPrefix: "oc", Owner: "shard-1"})
	var scoped ocsync.Scoped = src
	assert.Equal(t, ocsync.Scope{Context: f.srv.URL[len("http://"):], Owner: "shard-1"}, scoped.Scope())
	assert.Equal(t, ocsync.Scope{Context: f.c.Context()}, newSource(t, f.c, SourceOptions{ApplicationPrefix: "oc"}).Scope())
}

func newSource(t *testing.T, c *Client, opts SourceOptions) *Source {
	t.Helper()
	src, err := NewSource(c, opts)
	require.NoError(t, err)
	return src
}

func TestApplications(t *testing.T) {
	const user, org = "u+s/er=", "o+r/g=="
	f := newFixture(t, func(c *Config) { c.UserSecret, c.OrganizationSecret = user, org }, octest.WithSecrets(user, org))
	f.srv.Put(
		octest.Instance{ID: 4711, Name: "crm-prod", Token: "Ab3+xYz/0k9=", Element: octest.Element{ID: 23, Key: "sfdc", Name: "Salesforce Sales Cloud"},
			UpdatedDate: 1700000000000},
		octest.Instance{ID: 4712, Name: "Tickets für Köln – 日本", Token: "Qw9/Zt1+Lm=", Element: octest.Element{ID: 2113, Key: "zendesk", Name: "Zendesk"},
			Invalid: true},
		octest.Instance{ID: 4713, Name: "off", Token: "tok-t", Element: octest.Element{ID: 1, Key: "k", Name: "E"}, Disabled: true},
	)
	f.srv.PutRaw(4714, nil, []byte(`{"id":4714,"element":{"id":77}}`))
	src := newSource(t, f.c, SourceOptions{ApplicationPrefix: "oc"})
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
		Credential: redact.Secret("User u+s/er=, Organization o+r/g==, Element Ab3+xYz/0k9="),
	}, apps[0])
	assert.Equal(t, "User u+s/er=, Organization o+r/g==, Element Ab3+xYz/0k9=", apps[0].Credential.Reveal())

	assert.Equal(t, "SAP Open Connectors Zendesk: Tickets für Köln – 日本", apps[1].Description)
	assert.Equal(t, "Zendesk: Tickets für Köln – 日本", apps[1].API, "the API name as sent")
	assert.Equal(t, ocsync.StatusFailed, apps[1].Status, "invalid")
	assert.Empty(t, apps[1].Revision)
	assert.Empty(t, apps[1].Unusable)
	assert.Equal(t, ocsync.StatusFailed, apps[2].Status, "disabled")
	assert.Empty(t, apps[2].Unusable, "disabled is the platform's word, not unusable")

	assert.Equal(t, ocsync.Application{Name: "oc-4714", Key: "4714", Unusable: "instance 4714: name is missing or empty"}, apps[3],
		"an incomplete instance keeps its name and key only")

	assert.Equal(t, f.srv.URL[len("http://"):], src.Context())
}

func TestUnusableInstances(t *testing.T) {
	const secretToken = "Ab3+xYz/0k9="
	good := Instance{ID: 5, Name: "crm", Token: secretToken, Element: Element{Key: "sfdc", Name: "Salesforce"}, Valid: true}
	tests := []struct {
		name   string
		mutate func(*Instance)
		want   string
	}{
		{"usable", func(*Instance) {}, ""},
		{"disabled and invalid are usable", func(in *Instance) { in.Disabled, in.Valid = true, false }, ""},
		{"no name", func(in *Instance) { in.Name = "" }, "name is missing or empty"},
		{"blank name", func(in *Instance) { in.Name = " \t " }, "name is missing or empty"},
		{"no token", func(in *Instance) { in.Token = "" }, "token is missing or empty"},
		{"no element key", func(in *Instance) { in.Element.Key = "" }, "element.key is missing or empty"},
		{"token with a comma", func(in *Instance) { in.Token = secretToken + ",User-x" }, "token contains a comma"},
		{"token with a space", func(in *Instance) { in.Token = secretToken + " x" }, "token contains white space"},
		{"token with a line break", func(in *Instance) { in.Token = secretToken + "\r\nX-Injected: 1" }, "token contains a control character"},
		{"element key with a comma", func(in *Instance) { in.Element.Key = "sf,dc" }, "element.key contains a comma"},
		{"token too short to scrub", func(in *Instance) { in.Token = "t9z" }, "token is shorter than 4 characters"},
	}
	f := newFixture(t, nil)
	src := newSource(t, f.c, SourceOptions{ApplicationPrefix: "oc"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.mutate(&in)
			reason := in.Unusable()
			assert.True(t, strings.HasPrefix(reason, tt.want), "%q does not start with %q", reason, tt.want)
			assert.Equal(t, tt.want == "", reason == "")
			app := src.Application(in)
			assert.Equal(t, "oc-5", app.Name)
			assert.Equal(t, "5", app.Key)
			if tt.want == "" {
				assert.Empty(t, app.Unusable)
				assert.NotEmpty(t, app.Bundle)
				return
			}
			assert.Equal(t, "instance 5: "+reason, app.Unusable)
			assert.NotContains(t, app.Unusable, secretToken, "the reason never names the token")
			assert.Equal(t, ocsync.Attributes{}, app.Attributes)
			assert.Empty(t, app.Credential)
		})
	}
}

func TestSpec(t *testing.T) {
	f := newFixture(t, nil, octest.WithInstances(instances(2)...))
	doc := octest.SwaggerDocument("special", 5000)
	f.srv.SetSpec(2, doc)
	f.srv.SetSpec(1, []byte("nope"))
	src := newSource(t, f.c, SourceOptions{ApplicationPrefix: "oc"})
	apps, err := src.Applications(t.Context())
	require.NoError(t, err)
	require.Len(t, apps, 2)
	assert.Zero(t, f.srv.Count(octest.EndpointDocs), "specs are loaded lazily")

	spec, err := src.Spec(t.Context(), apps[1])
	require.NoError(t, err)
	assert.Equal(t, ocsync.Spec{Type: "OPEN_API", Format: "JSON", Data: doc}, spec)

	_, err = src.Spec(t.Context(), apps[0])
	require.ErrorIs(t, err, remote.ErrInvalidSpec)
	assert.Contains(t, err.Error(), "instance 1")

	_, err = src.Spec(t.Context(), ocsync.Application{Name: "x", Key: "abc"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key "abc" is not an instance id`)

	f.srv.Remove(2)
	_, err = src.Spec(t.Context(), apps[1])
	require.ErrorIs(t, err, remote.ErrNotFound)
}

func TestListingErrorsPassThrough(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxRetries = -1 }, octest.WithInstances(instances(1)...))
	f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 503})
	apps, err := newSource(t, f.c, SourceOptions{ApplicationPrefix: "oc"}).Applications(t.Context())
	require.ErrorIs(t, err, remote.ErrRetryable)
	assert.Nil(t, apps)
	var apiErr *APIError
	assert.True(t, errors.As(err, &apiErr))
}

func TestEngineReportsListingFailures(t *testing.T) {
	// A listing that fails half way through is a listing failure for the
	// engine: no plan, nothing deleted.
	f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithInstances(instances(5)...))
	f.srv.AddFault(octest.EndpointInstances, octest.Fault{Times: 1})
	f.srv.AddFault(octest.EndpointInstances, octest.Fault{Body: []byte(`[{"id":3,"name":"x","token":"tttt","element":{"key":"k"}},"broken"]`), Times: 1})
	reg := ocsynctest.NewRegistry()
	engine := &ocsync.Engine{Source: newSource(t, f.c, SourceOptions{ApplicationPrefix: "oc"}), Registry: reg}
	plan, err := engine.Plan(t.Context())
	require.ErrorIs(t, err, ocsync.ErrListFailed)
	assert.Nil(t, plan)
	assert.Contains(t, err.Error(), "page 2")
	assert.Contains(t, err.Error(), "item 1")
}

// TestLongNamesAreHandedWhole: the Source hands the values as sent; the
// Director's limits are compass's (TestLongValuesAreCutForTheDirector).
func TestLongNamesAreHandedWhole(t *testing.T) {
	f := newFixture(t, nil)
	name := strings.Repeat("ü", 3000)
	key := strings.Repeat("k", 150)
	f.srv.Put(octest.Instance{ID: 1, Name: name, Token: "tok-t", Element: octest.Element{Key: key, Name: "E"}})
	apps, err := newSource(t, f.c, SourceOptions{ApplicationPrefix: "oc"}).Applications(t.Context())
	require.NoError(t, err)
	require.Len(t, apps, 1)
	assert.Equal(t, "SAP Open Connectors E: "+name, apps[0].Description, "the description as sent")
	assert.Equal(t, key, apps[0].Bundle, "the bundle name as sent")
	assert.Equal(t, "E: "+name, apps[0].API, "the API name as sent")
}
