package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

func noEnv(string) string { return "" }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// minimal is a valid document with only the required keys.
func minimal() map[string]any {
	return map[string]any{
		"compass": map[string]any{
			"directorURL":       "https://director.example.org/graphql",
			"tenantId":          "tenant-1",
			"tokenUrl":          "https://auth.example.org/oauth2/token",
			"clientID":          "client-id",
			"clientSecret":      "client-secret-value",
			"applicationPrefix": "oc",
		},
		"openConnectors": map[string]any{
			"hostname":           "api.example.org",
			"organizationSecret": "org-secret-value",
			"userSecret":         "user-secret-value",
		},
	}
}

func parseDoc(t *testing.T, doc map[string]any, env func(string) string) (*config.Config, error) {
	t.Helper()
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	return config.Parse(strings.NewReader(string(data)), env)
}

func section(doc map[string]any, name string) map[string]any {
	s, ok := doc[name].(map[string]any)
	if !ok {
		s = map[string]any{}
		doc[name] = s
	}
	return s
}

func TestLoadOriginalExample(t *testing.T) {
	cfg, err := config.Load(context.Background(), filepath.Join("testdata", "original.json"), noEnv)
	require.NoError(t, err)

	assert.Equal(t, config.LevelTrace, cfg.LogLevel)
	assert.Equal(t, config.FormatAuto, cfg.LogFormat)
	assert.Equal(t, compass.Config{
		DirectorURL:  "https://compass-gateway-auth-oauth.mycompass.org/director/graphql",
		Tenant:       "3e64ebae-38b5-46a0-b1ed-9ccee153a0ae",
		TokenURL:     "https://oauth2.mycompass.org/oauth2/token",
		ClientID:     "clientid",
		ClientSecret: redact.Secret("clientsecret"),
		Timeout:      6 * time.Second,
		PageSize:     config.DefaultPageSize,
	}, cfg.Compass)
	assert.Equal(t, openconnectors.SourceOptions{ApplicationPrefix: "app-prefix"}, cfg.Source)
	assert.Equal(t, openconnectors.Config{
		Host:               "api.openconnectors.ext.hanatrial.ondemand.com",
		OrganizationSecret: redact.Secret("orgsecret"),
		UserSecret:         redact.Secret("usersecret"),
		Timeout:            6 * time.Second,
		PageSize:           config.DefaultPageSize,
		MaxSpecBytes:       config.DefaultMaxSpecBytes,
	}, cfg.OpenConnectors)
	assert.Equal(t, config.Sync{
		Policy:              ocsync.PolicySync,
		Concurrency:         config.DefaultConcurrency,
		MaxDeletePercent:    config.DefaultMaxDeletePercent,
		SpecRefreshInterval: config.DefaultSpecRefreshInterval,
		RunTimeout:          config.DefaultRunTimeout,
	}, cfg.Sync)
	assert.Empty(t, cfg.Metrics.PushgatewayURL)
}

func TestLoadPrettyPrinted(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "original.json"))
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(raw, &doc))
	pretty, err := json.MarshalIndent(doc, "", "    ")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, pretty, 0o600))

	want, err := config.Load(context.Background(), filepath.Join("testdata", "original.json"), noEnv)
	require.NoError(t, err)
	got, err := config.Load(context.Background(), path, noEnv)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestNewKeys(t *testing.T) {
	doc := minimal()
	doc["logLevel"] = "warn"
	doc["logFormat"] = "JSON"
	c := section(doc, "compass")
	c["integrationSystemID"] = "3e64ebae-38b5-46a0-b1ed-9ccee153a0ae"
	c["pageSize"] = 50
	c["timeoutMills"] = 0
	o := section(doc, "openConnectors")
	o["hostname"] = "https://API.example.org:8443"
	o["pageSize"] = 7
	o["maxSpecBytes"] = 1024
	o["tags"] = []string{"sync", "prod"}
	o["timeoutMills"] = 1500
	doc["sync"] = map[string]any{
		"owner":               "shard-a",
		"policy":              "upsert-only",
		"concurrency":         3,
		"maxDeletePercent":    100,
		"specRefreshInterval": "90m",
		"runTimeout":          "45m",
	}
	doc["metrics"] = map[string]any{"pushgatewayURL": "http://pushgateway.monitoring:9091/"}

	cfg, err := parseDoc(t, doc, noEnv)
	require.NoError(t, err)
	assert.Equal(t, slog.LevelWarn, cfg.LogLevel)
	assert.Equal(t, config.FormatJSON, cfg.LogFormat)
	assert.Equal(t, "3e64ebae-38b5-46a0-b1ed-9ccee153a0ae", cfg.Compass.IntegrationSystemID)
	assert.Equal(t, 50, cfg.Compass.PageSize)
	assert.Equal(t, config.DefaultTimeout, cfg.Compass.Timeout)
	assert.Equal(t, "https://API.example.org:8443", cfg.OpenConnectors.Host)
	assert.Equal(t, "API.example.org:8443", registryScope(t, cfg).Context)
	assert.Equal(t, 7, cfg.OpenConnectors.PageSize)
	assert.Equal(t, int64(1024), cfg.OpenConnectors.MaxSpecBytes)
	assert.Equal(t, []string{"sync", "prod"}, cfg.OpenConnectors.Tags)
	assert.Equal(t, 1500*time.Millisecond, cfg.OpenConnectors.Timeout)
	assert.Equal(t, "shard-a", cfg.Source.Owner)
	assert.Equal(t, config.Sync{
		Policy:              ocsync.PolicyUpsertOnly,
		Concurrency:         3,
		MaxDeletePercent:    100,
		SpecRefreshInterval: 90 * time.Minute,
		RunTimeout:          45 * time.Minute,
	}, cfg.Sync)
	assert.Equal(t, "http://pushgateway.monitoring:9091", cfg.Metrics.PushgatewayURL)
}

func TestLogLevels(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
	}{
		{"", slog.LevelInfo},
		{"Trace", config.LevelTrace},
		{"TRACE", config.LevelTrace},
		{"debug", slog.LevelDebug},
		{"Info", slog.LevelInfo},
		{"Warn", slog.LevelWarn},
		{"ERROR", slog.LevelError},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			doc := minimal()
			doc["logLevel"] = tt.in
			cfg, err := parseDoc(t, doc, noEnv)
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.LogLevel)
		})
	}
	assert.Less(t, config.LevelTrace, slog.LevelDebug)
}

func TestHostnameForms(t *testing.T) {
	tests := []struct {
		in, base, host string
	}{
		{"api.example.org", "https://api.example.org", "api.example.org"},
		{"api.example.org:8443", "https://api.example.org:8443", "api.example.org:8443"},
		{"https://api.example.org", "https://api.example.org", "api.example.org"},
		{"https://api.example.org:443/", "https://api.example.org:443", "api.example.org:443"},
		{"https://Api.Example.org/elements/api-v2", "https://Api.Example.org", "Api.Example.org"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1:8080"},
		{"http://localhost:1234", "http://localhost:1234", "localhost:1234"},
		{"http://[::1]:1234", "http://[::1]:1234", "[::1]:1234"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			doc := minimal()
			section(doc, "openConnectors")["hostname"] = tt.in
			cfg, err := parseDoc(t, doc, noEnv)
			require.NoError(t, err)
			assert.Equal(t, tt.in, cfg.OpenConnectors.Host, "kept as configured")
			assert.Equal(t, tt.in, cfg.OpenConnectors.Host)
			base, context, err := openconnectors.ParseHost(cfg.OpenConnectors.Host)
			require.NoError(t, err)
			assert.Equal(t, tt.base+openconnectors.BasePath, base)
			assert.Equal(t, tt.host, context)
			assert.Equal(t, tt.host, registryScope(t, cfg).Context, "the registry's scope is the host as written")
		})
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	env := envOf(map[string]string{
		config.EnvCompassClientID:                  "env-id",
		config.EnvCompassClientSecret:              "env-client-secret",
		config.EnvOpenConnectorsOrganizationSecret: "env-org-secret",
		config.EnvOpenConnectorsUserSecret:         "env-user-secret",
	})
	t.Run("env wins over the file", func(t *testing.T) {
		cfg, err := parseDoc(t, minimal(), env)
		require.NoError(t, err)
		assert.Equal(t, "env-id", cfg.Compass.ClientID)
		assert.Equal(t, "env-client-secret", cfg.Compass.ClientSecret.Reveal())
		assert.Equal(t, "env-org-secret", cfg.OpenConnectors.OrganizationSecret.Reveal())
		assert.Equal(t, "env-user-secret", cfg.OpenConnectors.UserSecret.Reveal())
	})
	t.Run("env supplies missing secrets", func(t *testing.T) {
		doc := minimal()
		delete(section(doc, "compass"), "clientID")
		delete(section(doc, "compass"), "clientSecret")
		delete(section(doc, "openConnectors"), "organizationSecret")
		delete(section(doc, "openConnectors"), "userSecret")
		cfg, err := parseDoc(t, doc, env)
		require.NoError(t, err)
		assert.Equal(t, "env-user-secret", cfg.OpenConnectors.UserSecret.Reveal())
	})
	t.Run("empty env keeps the file", func(t *testing.T) {
		cfg, err := parseDoc(t, minimal(), envOf(map[string]string{config.EnvCompassClientSecret: ""}))
		require.NoError(t, err)
		assert.Equal(t, "client-secret-value", cfg.Compass.ClientSecret.Reveal())
	})
}

// problemsOf returns "key: problem" for each joined *config.Error.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, config.ErrInvalid)
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []string
	for _, e := range errs {
		var ce *config.Error
		require.True(t, errors.As(e, &ce), "not a *config.Error: %v", e)
		out = append(out, ce.Key+": "+ce.Problem)
	}
	return out
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(doc map[string]any)
		key    string
		substr string
	}{
		{"unknown top-level key", func(d map[string]any) { d["logLevl"] = "x" }, "logLevl", "unknown key"},
		{"unknown nested key", func(d map[string]any) { section(d, "compass")["tenant"] = "x" }, "compass.tenant", "unknown key"},
		{"unknown section", func(d map[string]any) { d["extra"] = map[string]any{} }, "extra", "unknown key"},
		{"wrong type number", func(d map[string]any) { section(d, "compass")["pageSize"] = "big" }, "compass.pageSize", "wrong type: want an integer"},
		{"wrong type fraction", func(d map[string]any) { section(d, "sync")["concurrency"] = 1.5 }, "sync.concurrency", "wrong type"},
		{"wrong type section", func(d map[string]any) { d["sync"] = "fast" }, "sync", "wrong type: want an object"},
		{"wrong type tags", func(d map[string]any) { section(d, "openConnectors")["tags"] = "a,b" }, "openConnectors.tags", "want an array of strings"},
		{"missing tenant", func(d map[string]any) { delete(section(d, "compass"), "tenantId") }, "compass.tenantId", "missing value"},
		{"missing secret", func(d map[string]any) { delete(section(d, "openConnectors"), "userSecret") }, "openConnectors.userSecret", "OCJOB_OPENCONNECTORS_USER_SECRET"},
		{"missing hostname", func(d map[string]any) { delete(section(d, "openConnectors"), "hostname") }, "openConnectors.hostname", "missing value"},
		{"missing director", func(d map[string]any) { delete(section(d, "compass"), "directorURL") }, "compass.directorURL", "missing value"},
		{"invalid prefix upper", func(d map[string]any) { section(d, "compass")["applicationPrefix"] = "App" }, "compass.applicationPrefix", "invalid prefix"},
		{"invalid prefix trailing hyphen", func(d map[string]any) { section(d, "compass")["applicationPrefix"] = "app-" }, "compass.applicationPrefix", "invalid prefix"},
		{"invalid prefix double hyphen", func(d map[string]any) { section(d, "compass")["applicationPrefix"] = "a--b" }, "compass.applicationPrefix", "invalid prefix"},
		{"invalid prefix digit", func(d map[string]any) { section(d, "compass")["applicationPrefix"] = "1app" }, "compass.applicationPrefix", "invalid prefix"},
		{"invalid prefix long", func(d map[string]any) {
			section(d, "compass")["applicationPrefix"] = strings.Repeat("a", config.MaxPrefixLength+1)
		}, "compass.applicationPrefix", "invalid prefix"},
		{"bad URL scheme", func(d map[string]any) { section(d, "compass")["tokenUrl"] = "ftp://auth.example.org" }, "compass.tokenUrl", "bad URL"},
		{"bad URL plain http", func(d map[string]any) { section(d, "compass")["directorURL"] = "http://director.example.org/graphql" }, "compass.directorURL", "loopback"},
		{"bad URL credentials", func(d map[string]any) {
			section(d, "compass")["directorURL"] = "https://user:pw@director.example.org/graphql"
		}, "compass.directorURL", "credentials"},
		{"bad hostname path", func(d map[string]any) { section(d, "openConnectors")["hostname"] = "https://api.example.org/elements" }, "openConnectors.hostname", "unexpected path"},
		{"bad hostname http", func(d map[string]any) { section(d, "openConnectors")["hostname"] = "http://api.example.org" }, "openConnectors.hostname", "loopback"},
		{"bad hostname chars", func(d map[string]any) { section(d, "openConnectors")["hostname"] = "api example.org" }, "openConnectors.hostname", "bad URL"},
		{"bad pushgateway", func(d map[string]any) { section(d, "metrics")["pushgatewayURL"] = "pushgateway:9091" }, "metrics.pushgatewayURL", "bad URL"},
		{"bad duration", func(d map[string]any) { section(d, "sync")["specRefreshInterval"] = "1 day" }, "sync.specRefreshInterval", "bad duration"},
		{"negative duration", func(d map[string]any) { section(d, "sync")["specRefreshInterval"] = "-1h" }, "sync.specRefreshInterval", "out of range"},
		{"page size zero", func(d map[string]any) { section(d, "compass")["pageSize"] = 0 }, "compass.pageSize", "value out of range"},
		{"page size too big", func(d map[string]any) { section(d, "openConnectors")["pageSize"] = 201 }, "openConnectors.pageSize", "value out of range"},
		{"max delete percent", func(d map[string]any) { section(d, "sync")["maxDeletePercent"] = 101 }, "sync.maxDeletePercent", "value out of range"},
		{"concurrency zero", func(d map[string]any) { section(d, "sync")["concurrency"] = 0 }, "sync.concurrency", "value out of range"},
		{"max spec bytes", func(d map[string]any) { section(d, "openConnectors")["maxSpecBytes"] = -1 }, "openConnectors.maxSpecBytes", "value out of range"},
		{"negative timeout", func(d map[string]any) { section(d, "compass")["timeoutMills"] = -5 }, "compass.timeoutMills", "value out of range"},
		{"policy", func(d map[string]any) { section(d, "sync")["policy"] = "delete-all" }, "sync.policy", "upsert-only"},
		{"owner", func(d map[string]any) { section(d, "sync")["owner"] = "a b" }, "sync.owner", "letters"},
		{"log level", func(d map[string]any) { d["logLevel"] = "Verbose" }, "logLevel", "Trace"},
		{"log format", func(d map[string]any) { d["logFormat"] = "xml" }, "logFormat", "json"},
		{"integration system", func(d map[string]any) { section(d, "compass")["integrationSystemID"] = "abc" }, "compass.integrationSystemID", "UUID"},
		{"empty tag", func(d map[string]any) { section(d, "openConnectors")["tags"] = []string{"a", " "} }, "openConnectors.tags[1]", "missing value"},
		{"duplicate key", func(d map[string]any) { section(d, "compass")["clientId"] = "other" }, "compass.clientID", "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := minimal()
			tt.edit(doc)
			cfg, err := parseDoc(t, doc, noEnv)
			assert.Nil(t, cfg)
			got := problemsOf(t, err)
			require.Len(t, got, 1, "problems: %q", got)
			assert.True(t, strings.HasPrefix(got[0], tt.key+": "), "want key %s, got %q", tt.key, got[0])
			assert.Contains(t, got[0], tt.substr)
			assert.Contains(t, err.Error(), tt.key)
		})
	}
}

func TestCaseInsensitiveKeys(t *testing.T) {
	doc := minimal()
	c := section(doc, "compass")
	c["tenantID"] = c["tenantId"]
	delete(c, "tenantId")
	cfg, err := parseDoc(t, doc, noEnv)
	require.NoError(t, err)
	assert.Equal(t, "tenant-1", cfg.Compass.Tenant)
}

func TestAllProblemsAtOnce(t *testing.T) {
	doc := minimal()
	section(doc, "compass")["pageSize"] = 500
	section(doc, "compass")["bogus"] = true
	section(doc, "sync")["specRefreshInterval"] = "soon"
	delete(section(doc, "openConnectors"), "organizationSecret")
	_, err := parseDoc(t, doc, noEnv)
	got := problemsOf(t, err)
	require.Len(t, got, 4, "%q", got)
	assert.Equal(t, "compass.bogus: unknown key", got[0])
	assert.Contains(t, got[1], "compass.pageSize")
	assert.Contains(t, got[2], "openConnectors.organizationSecret")
	assert.Contains(t, got[3], "sync.specRefreshInterval")

	// A value of the wrong type stops the check before values are judged,
	// so that it is not reported a second time as missing.
	section(doc, "compass")["tenantId"] = 42
	_, err = parseDoc(t, doc, noEnv)
	got = problemsOf(t, err)
	assert.Equal(t, []string{"compass.bogus: unknown key", "compass.tenantId: wrong type: want a string"}, got)
}

func TestErrorsNeverShowSecrets(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"secret as number", `{"compass":{"clientSecret":987654321012}}`},
		{"secret as array", `{"openConnectors":{"userSecret":["987654321012"]}}`},
		{"secret as object", `{"openConnectors":{"organizationSecret":{"v":"987654321012"}}}`},
		{"secret in unknown key", `{"compass":{"clientSecrett":"987654321012"}}`},
		{"secret in a string where a number goes", `{"compass":{"pageSize":"987654321012"}}`},
		{"secret in a bad URL", `{"compass":{"tokenUrl":"https://u:987654321012@x.org"}}`},
		{"secret in a bad duration", `{"sync":{"specRefreshInterval":"987654321012"}}`},
		{"syntax error at a secret", `{"compass":{"clientSecret":987654321012x}}`},
		{"unquoted secret", `{"compass":{"clientSecret":987654321012`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tt.doc), noEnv)
			require.ErrorIs(t, err, config.ErrInvalid)
			assert.NotContains(t, err.Error(), "987654321012")
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), "987654321012")
		})
	}
}

func TestDocumentErrors(t *testing.T) {
	tests := []struct {
		name, doc, substr string
	}{
		{"empty", ``, "empty"},
		{"not an object", `[1,2]`, "want an object"},
		{"syntax", "{\n  \"logLevel\": Trace\n}", "line 2"},
		{"trailing data", `{} {}`, "after the JSON document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tt.doc), noEnv)
			require.ErrorIs(t, err, config.ErrInvalid)
			assert.Contains(t, err.Error(), tt.substr)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(context.Background(), filepath.Join(t.TempDir(), "nope.json"), noEnv)
	require.ErrorIs(t, err, config.ErrInvalid)
	assert.Contains(t, err.Error(), "nope.json")
}

func TestSecretsDoNotPrint(t *testing.T) {
	cfg, err := config.Load(context.Background(), filepath.Join("testdata", "original.json"), noEnv)
	require.NoError(t, err)
	out := fmt.Sprintf("%v %+v %#v", cfg, *cfg, *cfg)
	// The sections hold the libraries' configurations (with functions that
	// JSON cannot encode): their secrets are redact.Secret values.
	js, err := json.Marshal([]any{cfg.Compass.ClientSecret, cfg.OpenConnectors.OrganizationSecret, cfg.OpenConnectors.UserSecret, cfg.Source, cfg.Sync})
	require.NoError(t, err)
	for _, secret := range []string{"clientsecret", "orgsecret", "usersecret"} {
		assert.NotContains(t, out, secret)
		assert.NotContains(t, string(js), secret)
	}
}

// registryScope is the scope of the registry the configuration builds.
func registryScope(t *testing.T, cfg *config.Config) ocsync.Scope {
	t.Helper()
	ctl, err := config.NewController(cfg, config.Options{})
	require.NoError(t, err)
	scoped, ok := ctl.Engine.Registry.(ocsync.Scoped)
	require.True(t, ok)
	return scoped.Scope()
}
