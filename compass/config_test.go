package compass

import (
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

func validConfig() Config {
	return Config{
		DirectorURL: "https://compass.example.com/director/graphql", TokenURL: "https://oauth2.example.com/oauth2/token",
		ClientID: "id", ClientSecret: "secret", Tenant: "t", Scope: ocsync.Scope{Context: "h"},
		IntegrationSystemID: "6e6b3f1a-0c51-4b6e-9a3f-5a1f2c3d4e5f",
	}
}

// fieldsOf returns the Field of every *remote.FieldError joined in err.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var fields []string
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined), "a joined error: %v", err)
	for _, e := range joined.Unwrap() {
		var fe *remote.FieldError
		require.True(t, errors.As(e, &fe), "every problem is a *remote.FieldError: %v", e)
		fields = append(fields, fe.Field)
	}
	return fields
}

func TestConfigValidate(t *testing.T) {
	const canary = "c4n4ry-value"
	tests := []struct {
		name   string
		mutate func(*Config)
		field  string
	}{
		{"valid", func(*Config) {}, ""},
		{"loopback http", func(c *Config) { c.DirectorURL = "http://127.0.0.1:8080/graphql" }, ""},
		{"owner", func(c *Config) { c.Scope.Owner = "shard-1" }, ""},
		{"context with spaces inside", func(c *Config) { c.Scope.Context = "files:/my specs" }, ""},
		{"no director", func(c *Config) { c.DirectorURL = "" }, "DirectorURL"},
		{"plain http", func(c *Config) { c.DirectorURL = "http://compass.example.com/graphql" }, "DirectorURL"},
		{"query in URL", func(c *Config) { c.DirectorURL = "https://compass.example.com/graphql?token=" + canary }, "DirectorURL"},
		{"user info in URL", func(c *Config) { c.TokenURL = "https://u:" + canary + "@oauth2.example.com/token" }, "TokenURL"},
		{"relative token URL", func(c *Config) { c.TokenURL = "/token" }, "TokenURL"},
		{"no client id", func(c *Config) { c.ClientID = "" }, "ClientID"},
		{"client id with a comma", func(c *Config) { c.ClientID = canary + ",x" }, "ClientID"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "ClientSecret"},
		{"secret with a line break", func(c *Config) { c.ClientSecret = canary + "\n" }, "ClientSecret"},
		{"secret too short to scrub", func(c *Config) { c.ClientSecret = "s3c" }, "ClientSecret"},
		{"blank tenant", func(c *Config) { c.Tenant = " " }, "Tenant"},
		{"tenant with space", func(c *Config) { c.Tenant = canary + " x" }, "Tenant"},
		{"integration system not a UUID", func(c *Config) { c.IntegrationSystemID = canary }, "IntegrationSystemID"},
		{"no context", func(c *Config) { c.Scope.Context = "" }, "Scope.Context"},
		{"context with control character", func(c *Config) { c.Scope.Context = canary + "\x00" }, "Scope.Context"},
		{"context too long", func(c *Config) { c.Scope.Context = strings.Repeat("h", MaxScopeLength+1) }, "Scope.Context"},
		{"owner with trailing space", func(c *Config) { c.Scope.Owner = canary + " " }, "Scope.Owner"},
		{"page size too large", func(c *Config) { c.PageSize = 201 }, "PageSize"},
		{"negative page size", func(c *Config) { c.PageSize = -1 }, "PageSize"},
		{"negative timeout", func(c *Config) { c.Timeout = -1 }, "Timeout"},
		{"negative spec timeout", func(c *Config) { c.SpecTimeout = -1 }, "SpecTimeout"},
		{"too many retries", func(c *Config) { c.MaxRetries = remote.MaxRetriesLimit + 1 }, "MaxRetries"},
		{"root CAs with a transport", func(c *Config) {
			c.RootCAs = x509.NewCertPool()
			c.HTTPClient = &http.Client{Transport: http.DefaultTransport}
		}, "RootCAs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			_, nerr := NewRegistry(cfg)
			if tt.field == "" {
				assert.NoError(t, err)
				assert.NoError(t, nerr)
				return
			}
			require.Error(t, err)
			assert.Equal(t, []string{tt.field}, fieldsOf(t, err))
			assert.NotContains(t, err.Error(), canary, "no value is echoed")
			var fe *remote.FieldError
			assert.ErrorAs(t, nerr, &fe, "NewRegistry validates")
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		err := Config{PageSize: 300, Timeout: -1}.Validate()
		assert.ElementsMatch(t, []string{"DirectorURL", "TokenURL", "ClientID", "ClientSecret", "Tenant", "Scope.Context", "PageSize", "Timeout"}, fieldsOf(t, err))
	})
}

func TestRegistryScope(t *testing.T) {
	cfg := validConfig()
	cfg.Scope = ocsync.Scope{Context: "h", Owner: "o"}
	reg, err := NewRegistry(cfg)
	require.NoError(t, err)
	var scoped ocsync.Scoped = reg
	assert.Equal(t, ocsync.Scope{Context: "h", Owner: "o"}, scoped.Scope())
	var keyer ocsync.Names = reg
	assert.Equal(t, NormalizeName("My App"), keyer.NameKey("My App"))
}
