package openconnectors

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHost(t *testing.T) {
	tests := []struct {
		host        string
		wantBase    string
		wantContext string
		wantErr     string
	}{
		{host: "api.openconnectors.ext.hanatrial.ondemand.com",
			wantBase:    "https://api.openconnectors.ext.hanatrial.ondemand.com/elements/api-v2",
			wantContext: "api.openconnectors.ext.hanatrial.ondemand.com"},
		{host: " api.example.com ", wantBase: "https://api.example.com/elements/api-v2", wantContext: "api.example.com"},
		{host: "api.example.com:8443", wantBase: "https://api.example.com:8443/elements/api-v2", wantContext: "api.example.com:8443"},
		{host: "https://api.example.com", wantBase: "https://api.example.com/elements/api-v2", wantContext: "api.example.com"},
		{host: "https://api.example.com/", wantBase: "https://api.example.com/elements/api-v2", wantContext: "api.example.com"},
		{host: "https://api.example.com:9443/elements/api-v2/", wantBase: "https://api.example.com:9443/elements/api-v2", wantContext: "api.example.com:9443"},
		{host: "http://127.0.0.1:8080", wantBase: "http://127.0.0.1:8080/elements/api-v2", wantContext: "127.0.0.1:8080"},
		{host: "http://127.9.9.9", wantBase: "http://127.9.9.9/elements/api-v2", wantContext: "127.9.9.9"},
		{host: "http://localhost:1", wantBase: "http://localhost:1/elements/api-v2", wantContext: "localhost:1"},
		{host: "http://[::1]:80", wantBase: "http://[::1]:80/elements/api-v2", wantContext: "[::1]:80"},
		{host: "", wantErr: "Host: is required"},
		{host: "http://api.example.com", wantErr: "plain http:// is accepted for loopback addresses only"},
		{host: "http://10.0.0.1", wantErr: "plain http:// is accepted for loopback addresses only"},
		{host: "ftp://api.example.com", wantErr: "want an https:// URL"},
		{host: "api.example.com/elements", wantErr: "must not contain a path"},
		{host: "https://api.example.com/other", wantErr: "unexpected path"},
		{host: "https://user:pw@api.example.com", wantErr: "credentials in the URL are not accepted"},
		{host: "https://api.example.com?x=1", wantErr: "a query is not accepted"},
		{host: "https://api.example.com#f", wantErr: "a fragment is not accepted"},
		{host: "api.example.com@evil", wantErr: "must not contain a path, query or user"},
		{host: "api.exa mple.com", wantErr: "white space"},
		{host: "https://", wantErr: "no host"},
		{host: "api.example.com:99999", wantErr: "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			base, label, perr := ParseHost(tt.host)
			c, err := NewClient(Config{Host: tt.host, UserSecret: "user", OrganizationSecret: "org1"})
			if tt.wantErr != "" {
				require.Error(t, err)
				require.Error(t, perr)
				assert.Contains(t, err.Error(), tt.wantErr)
				var fe *remote.FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, "Host", fe.Field)
				require.ErrorAs(t, perr, &fe)
				assert.Equal(t, "Host", fe.Field)
				if strings.TrimSpace(tt.host) != "" {
					assert.NotContains(t, err.Error(), strings.TrimSpace(tt.host), "the value is never quoted")
				}
				return
			}
			require.NoError(t, err)
			require.NoError(t, perr)
			assert.Equal(t, tt.wantBase, c.BaseURL())
			assert.Equal(t, tt.wantContext, c.Context())
			assert.Equal(t, tt.wantBase, base, "ParseHost is the one parser")
			assert.Equal(t, tt.wantContext, label)
		})
	}
}

func TestConfigValidation(t *testing.T) {
	base := Config{Host: "api.example.com", UserSecret: "user-s3cret", OrganizationSecret: "org-s3cret"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string // each "Field: problem"
	}{
		{"valid", func(*Config) {}, nil},
		{"no user secret", func(c *Config) { c.UserSecret = "" }, []string{"UserSecret: is required"}},
		{"no organization secret", func(c *Config) { c.OrganizationSecret = "" }, []string{"OrganizationSecret: is required"}},
		{"secret with a line break", func(c *Config) { c.UserSecret = "user-s3cret\r\nX: y" }, []string{"UserSecret: contains a control character"}},
		{"secret with a comma", func(c *Config) { c.OrganizationSecret = "org-s3cret,Element-x" }, []string{"OrganizationSecret: contains a comma"}},
		{"secret with a space", func(c *Config) { c.OrganizationSecret = "org-s3cret Element" }, []string{"OrganizationSecret: contains white space"}},
		{"empty tag", func(c *Config) { c.Tags = []string{"a", "b", ""} }, []string{"Tags[2]: is empty"}},
		{"page size too big", func(c *Config) { c.PageSize = 201 }, []string{"PageSize: 201 is out of range 1..200"}},
		{"negative page size", func(c *Config) { c.PageSize = -1 }, []string{"PageSize: -1 is out of range"}},
		{"negative spec limit", func(c *Config) { c.MaxSpecBytes = -1 }, []string{"MaxSpecBytes: -1 is negative"}},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, []string{"Timeout: -1s is negative"}},
		{"negative spec timeout", func(c *Config) { c.SpecTimeout = -time.Second }, []string{"SpecTimeout: -1s is negative"}},
		{"too many retries", func(c *Config) { c.MaxRetries = MaxRetriesLimit + 1 }, []string{"MaxRetries: 11 is larger than 10"}},
		{"root CAs with a transport of its own", func(c *Config) {
			c.RootCAs = x509.NewCertPool()
			c.HTTPClient = &http.Client{Transport: http.DefaultTransport}
		}, []string{"RootCAs: cannot be combined"}},
		{"every problem at once", func(c *Config) {
			c.Host = ""
			c.UserSecret = ""
			c.OrganizationSecret = "a,b"
			c.PageSize = 500
			c.Timeout = -1
		}, []string{"Host: is required", "UserSecret: is required", "OrganizationSecret: contains a comma", "PageSize: 500", "Timeout: -1ns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			verr := cfg.Validate()
			_, err := NewClient(cfg)
			if tt.wantErr == nil {
				require.NoError(t, verr)
				require.NoError(t, err)
				return
			}
			require.Error(t, verr)
			require.Error(t, err)
			var fields []string
			for _, e := range verr.(interface{ Unwrap() []error }).Unwrap() {
				var fe *remote.FieldError
				require.ErrorAs(t, e, &fe)
				fields = append(fields, fe.Error())
			}
			require.Len(t, fields, len(tt.wantErr))
			for i, want := range tt.wantErr {
				assert.Contains(t, fields[i], want)
				assert.Contains(t, err.Error(), want, "NewClient reports what Validate reports")
			}
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	hc := &http.Client{}
	c, err := NewClient(Config{Host: "api.example.com", UserSecret: "user", OrganizationSecret: "org1", HTTPClient: hc, MaxRetries: -1})
	require.NoError(t, err)
	assert.Equal(t, DefaultPageSize, c.cfg.PageSize)
	assert.Equal(t, int64(DefaultMaxSpecBytes), c.cfg.MaxSpecBytes)
	assert.Equal(t, DefaultTimeout, c.cfg.Timeout)
	assert.Equal(t, DefaultSpecTimeout, c.cfg.SpecTimeout)
	assert.Equal(t, 0, c.cfg.MaxRetries)
	assert.Nil(t, hc.Transport, "the caller's client is not modified")
	assert.Nil(t, hc.CheckRedirect, "the caller's client is not modified")

	c, err = NewClient(Config{Host: "api.example.com", UserSecret: "user", OrganizationSecret: "org1"})
	require.NoError(t, err)
	assert.Equal(t, remote.DefaultMaxRetries, c.cfg.MaxRetries)
	assert.NotNil(t, c.cfg.Backoff)
	assert.NotNil(t, c.cfg.Logger)
	assert.NotNil(t, c.cfg.Scrubber, "a private scrubber")
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	cfg := Config{Host: "h", UserSecret: redact.Secret("very-secret-user"), OrganizationSecret: redact.Secret("very-secret-org")}
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		assert.NotContains(t, s, "very-secret")
	}
}
