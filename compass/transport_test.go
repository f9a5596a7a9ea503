package compass

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// legacyPattern matches what the Director's package-to-bundle shim rewrites.
var legacyPattern = regexp.MustCompile(`(?i)package`)

func TestEscapeLegacyStrings(t *testing.T) {
	values := []string{
		"plain text without the word",
		"parameter packageID and addPackage",
		"yaml:\n packages: [a, b]\nmode: PACKAGE",
		"UPDATEPACKAGE deletePackage packageInstanceAuth",
		"control \x1ackage and \\ackage and quote\" package",
		"ünïcode package ☕",
		"ackage at start, ends with p-ackage",
	}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			doc, err := json.Marshal(map[string]any{"query": "mutation { x }", "variables": map[string]any{"v": v, "packageKey": v}})
			require.NoError(t, err)
			out := EscapeLegacyStrings(doc)
			assert.False(t, legacyPattern.Match(out), "escaped body still holds a legacy string: %s", out)
			var back map[string]any
			require.NoError(t, json.Unmarshal(out, &back), "escaped body is not valid JSON: %s", out)
			var want map[string]any
			require.NoError(t, json.Unmarshal(doc, &want))
			assert.Equal(t, want, back)
		})
	}
}

func TestEscapeLegacyStringsUnchanged(t *testing.T) {
	doc := []byte(`{"query":"query { applications { data { id } } }","variables":{"a":"\u001a b"}}`)
	assert.Equal(t, string(doc), string(EscapeLegacyStrings(doc)))
}

func TestReadBody(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	for _, length := range []int64{-1, 0, 10, int64(len(body)), int64(len(body)) + 7} {
		t.Run(fmt.Sprint(length), func(t *testing.T) {
			got, err := readBody(iotest.OneByteReader(strings.NewReader(body)), length)
			require.NoError(t, err)
			assert.Equal(t, body, string(got))
		})
	}
	_, err := readBody(iotest.ErrReader(errors.New("broken")), 10)
	assert.EqualError(t, err, "broken")
}
