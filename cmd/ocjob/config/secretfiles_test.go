package config_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

func secretFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestSecretsFromFiles(t *testing.T) {
	t.Run("key", func(t *testing.T) {
		doc := minimal()
		delete(section(doc, "compass"), "clientSecret")
		path := secretFile(t, "from-a-file-value\n")
		section(doc, "compass")["clientSecretFile"] = path
		cfg, err := parseDoc(t, doc, noEnv)
		require.NoError(t, err)
		assert.Equal(t, redact.Secret("from-a-file-value"), cfg.Compass.ClientSecret)
		assert.Equal(t, []config.SecretFile{{Key: "compass.clientSecret", From: "compass.clientSecretFile", Path: path}}, cfg.SecretFiles)
		assert.Equal(t, []string{path}, cfg.Trimmed)
	})
	t.Run("variable", func(t *testing.T) {
		path := secretFile(t, "from-a-file-value")
		cfg, err := parseDoc(t, minimal(), envOf(map[string]string{config.EnvOpenConnectorsUserSecret + "_FILE": path}))
		require.NoError(t, err)
		assert.Equal(t, redact.Secret("from-a-file-value"), cfg.OpenConnectors.UserSecret)
		assert.Empty(t, cfg.Trimmed)
		assert.Equal(t, "OCJOB_OPENCONNECTORS_USER_SECRET_FILE", cfg.SecretFiles[0].From)
	})
	t.Run("refused content names the key and the file, never the value", func(t *testing.T) {
		doc := minimal()
		delete(section(doc, "openConnectors"), "userSecret")
		path := secretFile(t, "s3cr3t value\n")
		section(doc, "openConnectors")["userSecretFile"] = path
		_, err := parseDoc(t, doc, noEnv)
		assertOneProblem(t, err, "openConnectors.userSecretFile: contains white space (read from "+path+")")
	})
	t.Run("named by a variable", func(t *testing.T) {
		path := secretFile(t, "s3cr3t,value")
		_, err := parseDoc(t, minimal(), envOf(map[string]string{config.EnvCompassClientSecret + "_FILE": path}))
		assertOneProblem(t, err, "compass.clientSecret: contains a comma (read from "+path+", named by OCJOB_COMPASS_CLIENT_SECRET_FILE)")
	})
	t.Run("missing file", func(t *testing.T) {
		doc := minimal()
		delete(section(doc, "openConnectors"), "userSecret")
		section(doc, "openConnectors")["userSecretFile"] = "/nonexistent/secret"
		_, err := parseDoc(t, doc, noEnv)
		assertOneProblem(t, err, "openConnectors.userSecretFile: cannot read /nonexistent/secret: no such file")
	})
	t.Run("both in the file", func(t *testing.T) {
		doc := minimal()
		section(doc, "openConnectors")["userSecretFile"] = secretFile(t, "s3cr3t-value")
		_, err := parseDoc(t, doc, noEnv)
		assertOneProblem(t, err, "openConnectors.userSecretFile: openConnectors.userSecret is set too: set one")
	})
	t.Run("both variables", func(t *testing.T) {
		_, err := parseDoc(t, minimal(), envOf(map[string]string{
			config.EnvCompassClientID: "s3cr3t-id", config.EnvCompassClientID + "_FILE": secretFile(t, "s3cr3t-id")}))
		assertOneProblem(t, err, "compass.clientID: both OCJOB_COMPASS_CLIENT_ID and OCJOB_COMPASS_CLIENT_ID_FILE are set")
	})
	t.Run("read again", func(t *testing.T) {
		doc := minimal()
		delete(section(doc, "compass"), "clientSecret")
		path := secretFile(t, "first-file-value")
		section(doc, "compass")["clientSecretFile"] = path
		cfg, err := parseDoc(t, doc, noEnv)
		require.NoError(t, err)
		changed, err := cfg.ReadSecrets(context.Background())
		require.NoError(t, err)
		assert.False(t, changed)
		require.NoError(t, os.WriteFile(path, []byte("second-file-value\n"), 0o600))
		changed, err = cfg.ReadSecrets(context.Background())
		require.NoError(t, err)
		assert.True(t, changed)
		assert.Equal(t, redact.Secret("second-file-value"), cfg.Compass.ClientSecret)
		require.NoError(t, os.WriteFile(path, []byte("s3cr3t\x00"), 0o600))
		_, err = cfg.ReadSecrets(context.Background())
		assertOneProblem(t, err, "compass.clientSecretFile: contains a control character (read from "+path+")")
	})
}

func TestSecretFromVariableNamesIt(t *testing.T) {
	_, err := parseDoc(t, minimal(), envOf(map[string]string{config.EnvOpenConnectorsUserSecret: "s3cr3t\tvalue"}))
	assertOneProblem(t, err, "openConnectors.userSecret: contains a control character (from OCJOB_OPENCONNECTORS_USER_SECRET)")

	cfg, err := parseDoc(t, minimal(), envOf(map[string]string{config.EnvOpenConnectorsUserSecret: "from-the-environment\n"}))
	require.NoError(t, err, "one trailing newline is removed")
	assert.Equal(t, redact.Secret("from-the-environment"), cfg.OpenConnectors.UserSecret)
	assert.Equal(t, []string{config.EnvOpenConnectorsUserSecret}, cfg.Trimmed)

	doc := minimal()
	section(doc, "openConnectors")["userSecret"] = "s3cr3t-value\n"
	_, err = parseDoc(t, doc, noEnv)
	assertOneProblem(t, err, "openConnectors.userSecret: contains a control character (a trailing newline)")
}

func TestTimeoutFloors(t *testing.T) {
	for _, sec := range []string{"compass", "openConnectors"} {
		doc := minimal()
		section(doc, sec)["timeoutMills"] = 1
		_, err := parseDoc(t, doc, noEnv)
		assertOneProblem(t, err, sec+".timeoutMills: value out of range: 1ms is not 0 (the default) or 100ms to 10m0s")
	}
	doc := minimal()
	section(doc, "openConnectors")["timeoutMills"] = 600001
	_, err := parseDoc(t, doc, noEnv)
	assertOneProblem(t, err, "openConnectors.timeoutMills: value out of range")
	doc = minimal()
	section(doc, "sync")["runTimeout"] = "500ms"
	_, err = parseDoc(t, doc, noEnv)
	assertOneProblem(t, err, "sync.runTimeout: value out of range: want a duration of 1s to 24h0m0s")
}
