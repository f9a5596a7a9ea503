package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

const (
	testClientSecret = "embed-client-SECRET-51c2"
	testCredential   = "Bearer embed-api-SECRET-8d0e"
)

// folder copies testdata into a fresh folder, which the test may change.
func folder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o600))
	}
	return dir
}

type director struct {
	*compasstest.Server
	env map[string]string
}

func newDirector(t *testing.T) *director {
	t.Helper()
	s := compasstest.NewServer(compasstest.WithClients(compasstest.Client{ID: "embed", Secret: testClientSecret}))
	t.Cleanup(s.Close)
	return &director{Server: s, env: map[string]string{
		"COMPASS_DIRECTOR_URL":  s.GraphQLURL(),
		"COMPASS_TOKEN_URL":     s.TokenURL(),
		"COMPASS_CLIENT_ID":     "embed",
		"COMPASS_CLIENT_SECRET": testClientSecret,
		"COMPASS_TENANT":        compasstest.DefaultTenant,
		"API_CREDENTIAL":        testCredential,
	}}
}

// run runs the program with the director's environment.
func (d *director) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, func(k string) string { return d.env[k] }, &stdout, &stderr)
	out := stdout.String() + stderr.String()
	assert.NotContains(t, out, testClientSecret)
	assert.NotContains(t, out, testCredential)
	return code, out
}

// mutations counts the Director's calls other than listings and tokens.
func (d *director) mutations() int {
	n := 0
	for op, c := range d.Counts() {
		if op != "applications" && op != compasstest.TokenOperation {
			n += c
		}
	}
	return n
}

func TestSyncFolder(t *testing.T) {
	d := newDirector(t)
	dir := folder(t)
	files, err := os.ReadDir(dir)
	require.NoError(t, err)

	// First run: one application per file.
	code, out := d.run(t, "-dir", dir)
	require.Equal(t, 0, code, out)
	apps := d.Applications(compasstest.DefaultTenant)
	require.Len(t, apps, len(files))
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		require.NoError(t, err)
		name := appName("files", f.Name())
		app, ok := d.Application(compasstest.DefaultTenant, name)
		require.True(t, ok, name)
		assert.Contains(t, out, "create    "+name+" ("+f.Name()+"): applied")
		assert.Equal(t, map[string]any{"connectorInstanceContext": "files:" + dir, "connectorInstanceID": f.Name()},
			app.Labels[compass.IdentityLabel], "ownership is scoped by the folder")
		require.Len(t, app.Bundles, 1)
		assert.Equal(t, map[string][]string{"Authorization": {testCredential}}, app.Bundles[0].AuthHeaders)
		require.Len(t, app.Bundles[0].APIs, 1)
		api := app.Bundles[0].APIs[0]
		assert.Equal(t, string(data), api.Spec, "stored byte for byte")
		assert.Equal(t, formats[filepath.Ext(f.Name())], api.SpecFormat)
		title, target, ok := describe(data)
		require.True(t, ok)
		assert.Equal(t, printable(title), api.Name, "the Director's API names are printable ASCII")
		assert.Equal(t, target, api.TargetURL)
	}

	// Second run: nothing to do.
	d.ResetCounts()
	code, out = d.run(t, "-dir", dir)
	require.Equal(t, 0, code, out)
	assert.Zero(t, d.mutations())
	assert.Contains(t, out, "0 created, 0 updated, 0 deleted, "+strconv.Itoa(len(files))+" unchanged")

	// A removed file deletes its application; an edited one is updated.
	require.NoError(t, os.Remove(filepath.Join(dir, "orders.json")))
	edited := filepath.Join(dir, "billing.yaml")
	data, err := os.ReadFile(edited)
	require.NoError(t, err)
	data = []byte(strings.Replace(string(data), `version: "2.0"`, `version: "2.1"`, 1))
	require.NoError(t, os.WriteFile(edited, data, 0o600))
	code, out = d.run(t, "-dir", dir)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "delete    files-orders (orders.json): applied")
	assert.Contains(t, out, "update    files-billing (billing.yaml): applied")
	_, ok := d.Application(compasstest.DefaultTenant, "files-orders")
	assert.False(t, ok)
	billing, ok := d.Application(compasstest.DefaultTenant, "files-billing")
	require.True(t, ok)
	assert.Equal(t, string(data), billing.Bundles[0].APIs[0].Spec)
	assert.Len(t, d.Applications(compasstest.DefaultTenant), len(files)-1)

	// Another folder into the same tenant does not touch these applications.
	other := t.TempDir()
	code, out = d.run(t, "-dir", other)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "0 deleted")
	assert.Len(t, d.Applications(compasstest.DefaultTenant), len(files)-1)
}

func TestDryRunAndSkipped(t *testing.T) {
	d := newDirector(t)
	dir := folder(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.yaml"), []byte("just: notes\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("# not read\n"), 0o600))

	code, out := d.run(t, "-dir", dir, "-dry-run")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "create    files-orders (orders.json): planned")
	assert.Contains(t, out, "Dry run, nothing applied. Plan: 3 created")
	assert.Contains(t, out, "skipped   files-notes (notes.yaml): none; source is disabled or invalid")
	assert.NotContains(t, out, "README")
	assert.Zero(t, d.mutations())
	assert.Empty(t, d.Applications(compasstest.DefaultTenant))
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{name: "bad prefix", args: []string{"-prefix", "Files_"}, code: 2, want: "-prefix"},
		{name: "prefix starting with a digit", args: []string{"-prefix", "1files"}, code: 2, want: "-prefix"},
		{name: "argument", args: []string{"extra"}, code: 2, want: `unexpected argument "extra"`},
		{name: "unknown flag", args: []string{"-fast"}, code: 2, want: "flag provided but not defined"},
		{name: "no director", env: map[string]string{"COMPASS_DIRECTOR_URL": ""}, code: 2, want: "DirectorURL"},
		{name: "wrong secret", env: map[string]string{"COMPASS_CLIENT_SECRET": "wrong"}, code: 1, want: "invalid_client"},
		{name: "missing folder", args: []string{"-dir", "does-not-exist"}, code: 1, want: "does-not-exist"},
		{name: "help", args: []string{"-h"}, code: 0, want: "-client-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDirector(t)
			for k, v := range tt.env {
				d.env[k] = v
			}
			args := append([]string{"-dir", folder(t)}, tt.args...)
			code, out := d.run(t, args...)
			assert.Equal(t, tt.code, code, out)
			assert.Contains(t, out, tt.want)
			assert.Zero(t, d.mutations())
		})
	}
}

func TestAppName(t *testing.T) {
	tests := []struct{ file, want string }{
		{"orders.json", "files-orders"},
		{"Legacy_Inventory.V2.yaml", "files-legacy-inventory-v2"},
		{"--odd  name--.yml", "files-odd-name"},
		{"Zürich.json", "files-z-rich"},
		{"東京.json", "files-file-"},
		{strings.Repeat("a", 120) + ".json", "files-" + strings.Repeat("a", 94)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := appName("files", tt.file)
			assert.True(t, strings.HasPrefix(got, tt.want), got)
			assert.LessOrEqual(t, len(got), 100)
			assert.Equal(t, compass.NormalizeName(got), "mp-"+got, "a name in normal form")
		})
	}
	assert.NotEqual(t, appName("files", "東京.json"), appName("files", "大阪.json"))
}

// printable replaces what is not printable ASCII by "_", as the compass
// Registry does for API names.
func printable(s string) string {
	// The Registry's own rule for API names (titles here always hold a letter).
	return compass.ASCIIName(s, "")
}
