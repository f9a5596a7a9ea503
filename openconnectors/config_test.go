package openconnectors

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
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
		{host: "", wantErr: "Host is required"},
		{host: "http://api.example.com", wantErr: "plain http is only allowed for loopback hosts"},
		{host: "http://10.0.0.1", wantErr: "plain http is only allowed for loopback hosts"},
		{host: "ftp://api.example.com", wantErr: `unsupported scheme "ftp"`},
		{host: "api.example.com/elements", wantErr: "must not contain a path"},
		{host: "https://api.example.com/other", wantErr: `unexpected path "/other"`},
		{host: "https://user:pw@api.example.com", wantErr: "must not carry a user"},
		{host: "https://api.example.com?x=1", wantErr: "must not carry a user, query or fragment"},
		{host: "https://", wantErr: "no host name"},
		{host: "api.example.com:99999", wantErr: "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			c, err := NewClient(Config{Host: tt.host, UserSecret: "u", OrganizationSecret: "o"})
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), "Host")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantBase, c.BaseURL())
			assert.Equal(t, tt.wantContext, c.Context())
		})
	}
}

func TestConfigValidation(t *testing.T) {
	base := Config{Host: "api.example.com", UserSecret: "user-s3cret", OrganizationSecret: "org-s3cret"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no user secret", func(c *Config) { c.UserSecret = "" }, "UserSecret is required"},
		{"no organization secret", func(c *Config) { c.OrganizationSecret = "" }, "OrganizationSecret is required"},
		{"secret with a line break", func(c *Config) { c.UserSecret = "user-s3cret\r\nX: y" }, "UserSecret contains a control character"},
		{"secret with a comma", func(c *Config) { c.OrganizationSecret = "org-s3cret, Element x" }, "OrganizationSecret contains a comma"},
		{"empty tag", func(c *Config) { c.Tags = []string{"a", ""} }, "Tags[1] is empty"},
		{"page size too big", func(c *Config) { c.PageSize = 201 }, "PageSize 201 is out of range 1..200"},
		{"negative page size", func(c *Config) { c.PageSize = -1 }, "PageSize -1 is out of range"},
		{"negative spec limit", func(c *Config) { c.MaxSpecBytes = -1 }, "MaxSpecBytes -1 is negative"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Timeout -1s is negative"},
		{"negative spec timeout", func(c *Config) { c.SpecTimeout = -time.Second }, "SpecTimeout -1s is negative"},
		{"base above max", func(c *Config) { c.BackoffBase = time.Minute; c.BackoffMax = time.Second }, "BackoffBase 1m0s is larger than BackoffMax 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			_, err := NewClient(cfg)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	hc := &http.Client{}
	c, err := NewClient(Config{Host: "api.example.com", UserSecret: "u", OrganizationSecret: "o", HTTPClient: hc, MaxRetries: -1})
	require.NoError(t, err)
	assert.Equal(t, DefaultPageSize, c.cfg.PageSize)
	assert.Equal(t, int64(DefaultMaxSpecBytes), c.cfg.MaxSpecBytes)
	assert.Equal(t, DefaultTimeout, c.cfg.Timeout)
	assert.Equal(t, DefaultSpecTimeout, c.cfg.SpecTimeout)
	assert.Equal(t, DefaultBackoffBase, c.cfg.BackoffBase)
	assert.Equal(t, DefaultBackoffMax, c.cfg.BackoffMax)
	assert.Equal(t, 0, c.cfg.MaxRetries)
	assert.Nil(t, hc.Transport, "the caller's client is not modified")

	c, err = NewClient(Config{Host: "api.example.com", UserSecret: "u", OrganizationSecret: "o"})
	require.NoError(t, err)
	assert.Equal(t, DefaultMaxRetries, c.cfg.MaxRetries)
	assert.NotNil(t, c.cfg.Backoff)
	assert.NotNil(t, c.cfg.Logger)
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	cfg := Config{Host: "h", UserSecret: ocsync.Secret("very-secret-user"), OrganizationSecret: ocsync.Secret("very-secret-org")}
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		assert.NotContains(t, s, "very-secret")
	}
}
