package config_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

func TestPushgatewayCredentials(t *testing.T) {
	const password, token = "push-s3cr3t-password", "push-s3cr3t-token"
	t.Run("basic auth from the file, the CA bundle", func(t *testing.T) {
		caPath, _ := writeCA(t, t.TempDir())
		doc := minimal()
		section(doc, "metrics")["pushgatewayURL"] = "https://pushgateway.example.org/"
		section(doc, "metrics")["pushgatewayUsername"] = "ocjob"
		section(doc, "metrics")["pushgatewayPassword"] = password
		section(doc, "metrics")["caFile"] = caPath
		cfg, err := parseDoc(t, doc, noEnv)
		require.NoError(t, err)
		p := cfg.Metrics.Pushgateway
		assert.Equal(t, "https://pushgateway.example.org", p.URL)
		assert.Equal(t, p.URL, cfg.Metrics.PushgatewayURL)
		assert.Equal(t, "ocjob", p.Username)
		assert.Equal(t, redact.Secret(password), p.Password)
		assert.NotNil(t, p.RootCAs)
		s := config.NewScrubber(cfg)
		basic := base64.StdEncoding.EncodeToString([]byte("ocjob:" + password))
		assert.Equal(t, "pw [redacted] header [redacted]", s.Scrub("pw "+password+" header "+basic))
	})
	t.Run("bearer token from the environment", func(t *testing.T) {
		doc := minimal()
		section(doc, "metrics")["pushgatewayURL"] = "http://127.0.0.1:9091"
		section(doc, "metrics")["pushgatewayBearerToken"] = "from-the-file-token"
		cfg, err := parseDoc(t, doc, envOf(map[string]string{config.EnvPushgatewayBearerToken: token}))
		require.NoError(t, err)
		assert.Equal(t, redact.Secret(token), cfg.Metrics.Pushgateway.BearerToken, "the environment wins")
		assert.Equal(t, "[redacted]", config.NewScrubber(cfg).Scrub(token))
	})
	t.Run("from files, a trailing newline removed", func(t *testing.T) {
		dir := t.TempDir()
		pwFile, tokenFile := filepath.Join(dir, "password"), filepath.Join(dir, "token")
		require.NoError(t, os.WriteFile(pwFile, []byte(password+"\n"), 0o600))
		require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
		doc := minimal()
		section(doc, "metrics")["pushgatewayURL"] = "https://pushgateway.example.org"
		section(doc, "metrics")["pushgatewayUsername"] = "ocjob"
		section(doc, "metrics")["pushgatewayPasswordFile"] = pwFile
		cfg, err := parseDoc(t, doc, noEnv)
		require.NoError(t, err)
		assert.Equal(t, redact.Secret(password), cfg.Metrics.Pushgateway.Password)

		doc = minimal()
		section(doc, "metrics")["pushgatewayURL"] = "https://pushgateway.example.org"
		cfg, err = parseDoc(t, doc, envOf(map[string]string{config.EnvPushgatewayBearerToken + "_FILE": tokenFile}))
		require.NoError(t, err)
		assert.Equal(t, redact.Secret(token), cfg.Metrics.Pushgateway.BearerToken)
		assert.Equal(t, "[redacted]", config.NewScrubber(cfg).Scrub(token))
	})
	t.Run("a rotated file is read once", func(t *testing.T) {
		pwFile := filepath.Join(t.TempDir(), "password")
		require.NoError(t, os.WriteFile(pwFile, []byte(password), 0o600))
		doc := minimal()
		section(doc, "metrics")["pushgatewayURL"] = "https://pushgateway.example.org"
		section(doc, "metrics")["pushgatewayUsername"] = "ocjob"
		section(doc, "metrics")["pushgatewayPasswordFile"] = pwFile
		cfg, err := parseDoc(t, doc, noEnv)
		require.NoError(t, err)
		ctl, err := config.NewController(cfg, config.Options{})
		require.NoError(t, err)
		require.NotNil(t, ctl.Prepare)
		first := ctl.Engine
		require.NoError(t, os.WriteFile(pwFile, []byte(password+"-rotated"), 0o600))
		require.NoError(t, ctl.Prepare(t.Context()))
		rebuilt := ctl.Engine
		assert.NotSame(t, first, rebuilt, "a changed secret makes new clients")
		require.NoError(t, ctl.Prepare(t.Context()))
		assert.Same(t, rebuilt, ctl.Engine, "the rotated value is the current one: nothing changed since")
	})
	tests := []struct {
		name    string
		metrics map[string]any
		env     map[string]string
		want    []string
	}{
		{"plain http with credentials", map[string]any{"pushgatewayURL": "http://pushgateway.monitoring:9091", "pushgatewayBearerToken": token},
			nil, []string{"metrics.pushgatewayURL: plain http would send the credentials in clear"}},
		{"password without user", map[string]any{"pushgatewayURL": "https://pg.example.org"},
			map[string]string{config.EnvPushgatewayPassword: password}, []string{"metrics.pushgatewayUsername: is required with Password"}},
		{"both kinds", map[string]any{"pushgatewayURL": "https://pg.example.org", "pushgatewayUsername": "u", "pushgatewayPassword": password,
			"pushgatewayBearerToken": token}, nil, []string{"metrics.pushgatewayBearerToken: cannot be combined"}},
		{"credentials without a URL", map[string]any{"pushgatewayBearerToken": token}, nil, []string{"metrics.pushgatewayURL: "}},
		{"a token with a newline", map[string]any{"pushgatewayURL": "https://pg.example.org", "pushgatewayBearerToken": token + "\n"},
			nil, []string{"metrics.pushgatewayBearerToken: contains a control character"}},
		{"missing CA file", map[string]any{"pushgatewayURL": "https://pg.example.org", "caFile": "/nonexistent/ca.pem"},
			nil, []string{"metrics.caFile: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := minimal()
			doc["metrics"] = tt.metrics
			_, err := parseDoc(t, doc, envOf(tt.env))
			got := problemsOf(t, err)
			require.Len(t, got, len(tt.want), "%q", got)
			for i, w := range tt.want {
				assert.Contains(t, got[i], w)
			}
			assert.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}
