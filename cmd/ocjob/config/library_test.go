package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

// fieldErrorOf finds the *remote.FieldError in the chain of the problem
// named key.
func fieldErrorOf(t *testing.T, err error, key string) *remote.FieldError {
	t.Helper()
	j, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "a joined error")
	for _, e := range j.Unwrap() {
		var ce *config.Error
		require.ErrorAs(t, e, &ce)
		if ce.Key != key {
			continue
		}
		var fe *remote.FieldError
		require.ErrorAs(t, e, &fe, "%s keeps the library's error in its chain", key)
		return fe
	}
	t.Fatalf("no problem for %s in %v", key, err)
	return nil
}

func TestLibraryErrorsByKey(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(doc map[string]any)
		key   string
		field string
	}{
		{"user secret", func(d map[string]any) { section(d, "openConnectors")["userSecret"] = "a b" }, "openConnectors.userSecret", "UserSecret"},
		{"organization secret", func(d map[string]any) { section(d, "openConnectors")["organizationSecret"] = "a,b" }, "openConnectors.organizationSecret", "OrganizationSecret"},
		{"host", func(d map[string]any) { section(d, "openConnectors")["hostname"] = "https://api.example.org/x" }, "openConnectors.hostname", "Host"},
		{"empty tag", func(d map[string]any) { section(d, "openConnectors")["tags"] = []string{"a", "b", ""} }, "openConnectors.tags[2]", "Tags[2]"},
		{"prefix", func(d map[string]any) { section(d, "compass")["applicationPrefix"] = "a--b" }, "compass.applicationPrefix", "ApplicationPrefix"},
		{"owner", func(d map[string]any) { section(d, "sync")["owner"] = "-a" }, "sync.owner", "Owner"},
		{"director URL", func(d map[string]any) { section(d, "compass")["directorURL"] = "http://director.example.org" }, "compass.directorURL", "DirectorURL"},
		{"token URL", func(d map[string]any) { section(d, "compass")["tokenUrl"] = "https://auth.example.org/?a=b" }, "compass.tokenUrl", "TokenURL"},
		{"tenant", func(d map[string]any) { section(d, "compass")["tenantId"] = "a\tb" }, "compass.tenantId", "Tenant"},
		{"client id", func(d map[string]any) { section(d, "compass")["clientID"] = "a b" }, "compass.clientID", "ClientID"},
		{"client secret", func(d map[string]any) { section(d, "compass")["clientSecret"] = "a,b" }, "compass.clientSecret", "ClientSecret"},
		{"short client secret", func(d map[string]any) { section(d, "compass")["clientSecret"] = "s3c" }, "compass.clientSecret", "ClientSecret"},
		{"short user secret", func(d map[string]any) { section(d, "openConnectors")["userSecret"] = "u1" }, "openConnectors.userSecret", "UserSecret"},
		{"integration system", func(d map[string]any) { section(d, "compass")["integrationSystemID"] = "x" }, "compass.integrationSystemID", "IntegrationSystemID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := minimal()
			tt.edit(doc)
			_, err := parseDoc(t, doc, noEnv)
			got := problemsOf(t, err)
			require.Len(t, got, 1, "one problem, reported once: %q", got)
			fe := fieldErrorOf(t, err, tt.key)
			assert.Equal(t, tt.field, fe.Field)
			assert.True(t, strings.HasPrefix(got[0], tt.key+": "), "%q", got[0])
			assert.Contains(t, got[0], fe.Problem, "the library's problem is the message")
			assert.NotContains(t, err.Error(), tt.field+":", "the Go field name is not shown")
		})
	}
}

// The values handed to the libraries are the ones the file configures, and
// the libraries accept them.
func TestLibraryValues(t *testing.T) {
	dir := t.TempDir()
	caPath, _ := writeCA(t, dir)
	doc := minimal()
	c := section(doc, "compass")
	c["integrationSystemID"] = "3e64ebae-38b5-46a0-b1ed-9ccee153a0ae"
	c["pageSize"] = 50
	c["timeoutMills"] = 1500
	c["caFile"] = caPath
	o := section(doc, "openConnectors")
	o["hostname"] = "https://API.example.org:8443/elements/api-v2"
	o["tags"] = []string{"x", "y"}
	o["pageSize"] = 7
	o["maxSpecBytes"] = 1024
	o["caFile"] = caPath
	section(doc, "sync")["owner"] = "shard-a"
	cfg, err := parseDoc(t, doc, noEnv)
	require.NoError(t, err)

	oc := cfg.OpenConnectors
	require.NoError(t, oc.Validate())
	assert.Equal(t, openconnectors.Config{
		Host:               "https://API.example.org:8443/elements/api-v2",
		UserSecret:         "user-secret-value",
		OrganizationSecret: "org-secret-value",
		Tags:               []string{"x", "y"},
		PageSize:           7,
		MaxSpecBytes:       1024,
		Timeout:            config.DefaultTimeout,
		RootCAs:            cfg.OpenConnectors.RootCAs,
	}, oc)
	assert.NotNil(t, oc.RootCAs)

	so := cfg.Source
	require.NoError(t, so.Validate())
	assert.Equal(t, openconnectors.SourceOptions{ApplicationPrefix: "oc", Owner: "shard-a"}, so)

	require.NoError(t, cfg.Library().Validate())
	cc := cfg.Compass
	assert.Equal(t, compass.Config{
		DirectorURL:         "https://director.example.org/graphql",
		TokenURL:            "https://auth.example.org/oauth2/token",
		ClientID:            "client-id",
		ClientSecret:        "client-secret-value",
		Tenant:              "tenant-1",
		IntegrationSystemID: "3e64ebae-38b5-46a0-b1ed-9ccee153a0ae",
		PageSize:            50,
		Timeout:             1500 * time.Millisecond,
		RootCAs:             cfg.Compass.RootCAs,
	}, cc)
	assert.NotNil(t, cc.RootCAs)
	assert.Equal(t, ocsync.Scope{Context: "API.example.org:8443", Owner: "shard-a"}, registryScope(t, cfg),
		"the scope is derived from the source")
}

// Problems of the values are reported in the order of the keys in the
// document's schema, whichever check found them.
func TestProblemsInKeyOrder(t *testing.T) {
	doc := minimal()
	section(doc, "sync")["owner"] = "-"
	section(doc, "openConnectors")["userSecret"] = "a b"
	section(doc, "compass")["pageSize"] = 0
	section(doc, "compass")["directorURL"] = "ftp://x"
	doc["logLevel"] = "loud"
	_, err := parseDoc(t, doc, noEnv)
	got := problemsOf(t, err)
	keys := make([]string, len(got))
	for i, p := range got {
		keys[i], _, _ = strings.Cut(p, ":")
	}
	assert.Equal(t, []string{"logLevel", "compass.directorURL", "compass.pageSize", "openConnectors.userSecret", "sync.owner"}, keys)
	assert.False(t, errors.Is(err, ocsync.ErrPlanInvalid))
}

// A secret too short for the scrubber to hide is a configuration error
// naming the key, never the value.
func TestShortSecretsRefused(t *testing.T) {
	for _, tt := range []struct{ section, name, value, key string }{
		{"compass", "clientSecret", "s3c", "compass.clientSecret"},
		{"openConnectors", "userSecret", "u1", "openConnectors.userSecret"},
		{"openConnectors", "organizationSecret", "o-2", "openConnectors.organizationSecret"},
	} {
		t.Run(tt.key, func(t *testing.T) {
			doc := minimal()
			section(doc, tt.section)[tt.name] = tt.value
			_, err := parseDoc(t, doc, noEnv)
			got := problemsOf(t, err)
			require.Len(t, got, 1, "%q", got)
			assert.True(t, strings.HasPrefix(got[0], tt.key+": is shorter than 4 characters"), "%q", got[0])
			assert.NotContains(t, err.Error(), tt.value)
		})
	}
}

func TestExplainNamesKeys(t *testing.T) {
	for _, tt := range []struct {
		fix  *remote.ConfigError
		want string
	}{
		{&remote.ConfigError{Config: "compass", Fields: []string{"ClientID", "ClientSecret", "TokenURL"}},
			"check compass.clientID, compass.clientSecret and compass.tokenUrl"},
		{&remote.ConfigError{Config: "compass", Fields: []string{"DirectorURL"}}, "check compass.directorURL"},
		{&remote.ConfigError{Config: "openconnectors", Fields: []string{"UserSecret", "OrganizationSecret"}},
			"check openConnectors.userSecret and openConnectors.organizationSecret"},
		{&remote.ConfigError{Config: "openconnectors", Fields: []string{"Host"}}, "check openConnectors.hostname"},
	} {
		err := errors.Join(fmt.Errorf("list source: refused; %w", tt.fix), errors.New("another"))
		got := config.Explain(err)
		require.Len(t, got, 2)
		assert.Equal(t, "list source: refused; "+tt.want, got[0].Error())
		assert.ErrorIs(t, got[0], tt.fix)
		assert.Equal(t, "another", got[1].Error())
		assert.Equal(t, []string{tt.want}, config.Hints(err))
	}
}
