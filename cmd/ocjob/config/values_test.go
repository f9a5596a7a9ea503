package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
)

// badTokens are values that cannot travel as one header token, with the
// problem reported for each. Every value holds "s3cr3t", which must never
// reach an error.
var badTokens = []struct {
	name, value, problem string
}{
	{"space", "s3cr3t value", "contains white space"},
	{"tab", "s3cr3t\tvalue", "contains a control character"},
	{"newline", "s3cr3t\r\nX-Injected: 1", "contains a control character"},
	{"comma", "s3cr3t,Element=other", "contains a comma"},
	{"no-break space", "s3cr3t\u00a0value", "contains white space"},
	{"trailing space", "s3cr3t ", "contains white space"},
}

func TestSecretsMustBeHeaderTokens(t *testing.T) {
	keys := []struct {
		section, key, env string
	}{
		{"compass", "clientID", config.EnvCompassClientID},
		{"compass", "clientSecret", config.EnvCompassClientSecret},
		{"openConnectors", "organizationSecret", config.EnvOpenConnectorsOrganizationSecret},
		{"openConnectors", "userSecret", config.EnvOpenConnectorsUserSecret},
		{"compass", "tenantId", ""},
	}
	for _, k := range keys {
		path := k.section + "." + k.key
		for _, bad := range badTokens {
			t.Run(path+"/file/"+bad.name, func(t *testing.T) {
				doc := minimal()
				section(doc, k.section)[k.key] = bad.value
				_, err := parseDoc(t, doc, noEnv)
				assertOneProblem(t, err, path+": "+bad.problem)
			})
			if k.env == "" {
				continue
			}
			t.Run(path+"/env/"+bad.name, func(t *testing.T) {
				_, err := parseDoc(t, minimal(), envOf(map[string]string{k.env: bad.value}))
				assertOneProblem(t, err, path+": "+bad.problem)
			})
		}
	}
}

// assertOneProblem checks that err is one problem starting with want (the
// library may say more) and shows no secret.
func assertOneProblem(t *testing.T, err error, want string) {
	t.Helper()
	got := problemsOf(t, err)
	require.Len(t, got, 1, "%q", got)
	assert.True(t, strings.HasPrefix(got[0], want), "want %q, got %q", want, got[0])
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func TestURLsWithSecretsAreRefused(t *testing.T) {
	tests := []struct {
		section, key, value, substr string
	}{
		{"compass", "directorURL", "https://director.example.org/graphql?token=s3cr3t", "query"},
		{"compass", "directorURL", "https://director.example.org/graphql#s3cr3t", "fragment"},
		{"compass", "tokenUrl", "https://id:s3cr3t@auth.example.org/oauth2/token", "credentials"},
		{"compass", "tokenUrl", "https://auth.example.org/oauth2/token?client_secret=s3cr3t", "query"},
		{"openConnectors", "hostname", "https://api.example.org?user=s3cr3t", "query"},
		{"openConnectors", "hostname", "https://u:s3cr3t@api.example.org", "credentials"},
		{"openConnectors", "hostname", "u:s3cr3t@api.example.org", "user information"},
		{"metrics", "pushgatewayURL", "http://pushgateway:9091?auth=s3cr3t", "query"},
		{"metrics", "pushgatewayURL", "https://u:s3cr3t@pushgateway:9091", "credentials"},
		{"metrics", "pushgatewayURL", "http://pushgateway:9091/#s3cr3t", "fragment"},
		{"metrics", "pushgatewayURL", "http://push gateway:9091", "bad URL"},
		{"metrics", "pushgatewayURL", "ftp://pushgateway:9091", "bad URL"},
	}
	for _, tt := range tests {
		path := tt.section + "." + tt.key
		t.Run(path+"/"+tt.substr, func(t *testing.T) {
			doc := minimal()
			section(doc, tt.section)[tt.key] = tt.value
			_, err := parseDoc(t, doc, noEnv)
			got := problemsOf(t, err)
			require.Len(t, got, 1, "%q", got)
			assert.True(t, strings.HasPrefix(got[0], path+": "), "%q", got[0])
			assert.Contains(t, got[0], tt.substr)
			assert.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

func TestPushgatewayPlainHTTPToAnyHost(t *testing.T) {
	for in, want := range map[string]string{
		"http://pushgateway.monitoring.svc:9091":       "http://pushgateway.monitoring.svc:9091",
		"http://pushgateway.monitoring.svc:9091/":      "http://pushgateway.monitoring.svc:9091",
		"https://push.example.org/prefix/":             "https://push.example.org/prefix",
		"HTTP://Pushgateway.Monitoring:9091/base/path": "http://Pushgateway.Monitoring:9091/base/path",
	} {
		t.Run(in, func(t *testing.T) {
			doc := minimal()
			section(doc, "metrics")["pushgatewayURL"] = in
			cfg, err := parseDoc(t, doc, noEnv)
			require.NoError(t, err)
			assert.Equal(t, want, cfg.Metrics.PushgatewayURL)
		})
	}
}

func TestRunTimeout(t *testing.T) {
	assert.Equal(t, 20*time.Minute, config.DefaultRunTimeout)
	assert.Equal(t, 24*time.Hour, config.MaxRunTimeout)

	cfg, err := parseDoc(t, minimal(), noEnv)
	require.NoError(t, err)
	assert.Equal(t, config.DefaultRunTimeout, cfg.Sync.RunTimeout)

	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "1h30m": 90 * time.Minute, "24h": 24 * time.Hour} {
		doc := minimal()
		section(doc, "sync")["runTimeout"] = in
		cfg, err := parseDoc(t, doc, noEnv)
		require.NoError(t, err, in)
		assert.Equal(t, want, cfg.Sync.RunTimeout, in)
	}

	for in, substr := range map[string]string{
		"0s":      "value out of range",
		"-5m":     "value out of range",
		"24h0m1s": "value out of range",
		"20":      "bad duration",
		"soon":    "bad duration",
	} {
		doc := minimal()
		section(doc, "sync")["runTimeout"] = in
		_, err := parseDoc(t, doc, noEnv)
		got := problemsOf(t, err)
		require.Len(t, got, 1, in)
		assert.True(t, strings.HasPrefix(got[0], "sync.runTimeout: "+substr), "%s: %q", in, got[0])
	}

	doc := minimal()
	section(doc, "sync")["runTimeout"] = 60
	_, err = parseDoc(t, doc, noEnv)
	assert.Equal(t, []string{"sync.runTimeout: wrong type: want a string"}, problemsOf(t, err))
}

// writeCA writes a self-signed CA certificate as PEM and returns its path
// and the certificate.
func writeCA(t *testing.T, dir string) (string, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ocjob test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	path := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path, cert
}

func TestCAFiles(t *testing.T) {
	dir := t.TempDir()
	caPath, ca := writeCA(t, dir)
	trusts := func(pool *x509.CertPool) bool {
		_, err := ca.Verify(x509.VerifyOptions{Roots: pool})
		return err == nil
	}

	t.Run("absent: the system pool", func(t *testing.T) {
		cfg, err := parseDoc(t, minimal(), noEnv)
		require.NoError(t, err)
		assert.Nil(t, cfg.Compass.RootCAs)
		assert.Nil(t, cfg.OpenConnectors.RootCAs)
	})
	t.Run("each section its own bundle", func(t *testing.T) {
		doc := minimal()
		section(doc, "compass")["caFile"] = caPath
		cfg, err := parseDoc(t, doc, noEnv)
		require.NoError(t, err)
		require.NotNil(t, cfg.Compass.RootCAs)
		assert.True(t, trusts(cfg.Compass.RootCAs))
		assert.Nil(t, cfg.OpenConnectors.RootCAs)

		doc = minimal()
		section(doc, "openConnectors")["caFile"] = caPath
		cfg, err = parseDoc(t, doc, noEnv)
		require.NoError(t, err)
		require.NotNil(t, cfg.OpenConnectors.RootCAs)
		assert.True(t, trusts(cfg.OpenConnectors.RootCAs))
		assert.Nil(t, cfg.Compass.RootCAs)
	})

	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600))
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name, path, substr string
	}{
		{"missing", missing, "no such file"},
		{"not PEM", notPEM, "no PEM certificate"},
		{"a directory", dir, "not a regular file"},
	}
	for _, sec := range []string{"compass", "openConnectors"} {
		for _, tt := range tests {
			t.Run(sec+"/"+tt.name, func(t *testing.T) {
				doc := minimal()
				section(doc, sec)["caFile"] = tt.path
				_, err := parseDoc(t, doc, noEnv)
				got := problemsOf(t, err)
				require.Len(t, got, 1, "%q", got)
				assert.True(t, strings.HasPrefix(got[0], sec+".caFile: "), "%q", got[0])
				assert.Contains(t, got[0], tt.substr)
				assert.Contains(t, got[0], tt.path)
			})
		}
	}
}
