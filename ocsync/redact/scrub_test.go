package redact_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/stretchr/testify/assert"
)

func TestScrubberRemovesEveryEncodedForm(t *testing.T) {
	const token = "Ab3+xYz/0k9=<&>é"
	s := redact.NewScrubber()
	s.AddCredential("User u-secret-1, Organization o-secret-2, Element " + token)
	forms := map[string]string{
		"raw":          token,
		"query":        url.QueryEscape(token),
		"path":         url.PathEscape(token),
		"base64":       base64.StdEncoding.EncodeToString([]byte(token)),
		"base64url":    base64.RawURLEncoding.EncodeToString([]byte(token)),
		"json":         `Ab3+xYz/0k9=\u003c\u0026\u003eé`,
		"json-ascii":   `Ab3+xYz/0k9=\u003c\u0026\u003e\u00e9`,
		"user alone":   "u-secret-1",
		"organization": "o-secret-2",
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			out := s.Scrub("the server said: " + form + " (end)")
			assert.NotContains(t, out, form)
			assert.Contains(t, out, redact.Placeholder)
		})
	}
	assert.Equal(t, "nothing secret", s.Scrub("nothing secret"))
}

func TestScrubberQuoteBoundsAndCleans(t *testing.T) {
	s := redact.NewScrubber("hunter2-secret")
	long := strings.Repeat("é", redact.MaxQuotedBytes) + "hunter2-secret"
	q := s.Quote("line1\nline2\x00" + long)
	assert.LessOrEqual(t, len(q), redact.MaxQuotedBytes+len("…"))
	assert.NotContains(t, q, "\n")
	assert.NotContains(t, q, "\x00")
	assert.True(t, strings.HasSuffix(q, "…"))
	assert.NotContains(t, s.Quote("x hunter2-secret y"), "hunter2")
	var nilScrubber *redact.Scrubber
	assert.Equal(t, "a b", nilScrubber.Quote("a\nb"))
}

func TestScrubErrorKeepsTheChain(t *testing.T) {
	s := redact.NewScrubber("top-secret-value")
	err := fmt.Errorf("GET /docs: body %q: %w", "top-secret-value", remote.ErrRetryable)
	clean := s.ScrubError(err)
	assert.NotContains(t, clean.Error(), "top-secret-value")
	assert.ErrorIs(t, clean, remote.ErrRetryable)
	plain := errors.New("fine")
	assert.Same(t, plain, s.ScrubError(plain))
	assert.NoError(t, s.ScrubError(nil))
}

func TestShortSecretsAreNotScrubbed(t *testing.T) {
	s := redact.NewScrubber("abc")
	assert.Equal(t, "abc abc", s.Scrub("abc abc"))
}

func TestScrubberFindsEveryJSONEscapeMix(t *testing.T) {
	const token = "Ab3+xYz/0k9=\"é😀"
	s := redact.NewScrubber(token)
	for _, form := range []string{
		`Ab3+xYz\/0k9=\"é😀`,
		`Ab3\u002BxYz/0k9=\"\u00e9\ud83d\ude00`,
		`\u0041b3\u002bxYz\/0k9\u003d\u0022\u00E9😀`,
	} {
		body := `{"message":"refused: ` + form + `","pad":"x"}`
		out := s.Scrub(body)
		assert.NotContains(t, out, form)
		assert.Equal(t, `{"message":"refused: `+redact.Placeholder+`","pad":"x"}`, out, form)
	}
	// Escapes that do not form a secret stay as they are.
	assert.Equal(t, `a\u00e9b \/ \u12`, s.Scrub(`a\u00e9b \/ \u12`))
}

func TestScrubberIsNotSlowedBySecretsThatShareAnAffix(t *testing.T) {
	s := redact.NewScrubber()
	shared := strings.Repeat("S", 16)
	for i := range 2000 {
		s.Add(fmt.Sprintf("%06d%s", i, shared), fmt.Sprintf("%s%06d", shared, i))
	}
	text := strings.Repeat(shared, 100) + "001999" + shared + " and " + shared + "000042"
	out := s.Scrub(text)
	assert.NotContains(t, out, "001999"+shared)
	assert.NotContains(t, out, shared+"000042")
}

func TestScrubberLooksThroughJSONQuotedInJSON(t *testing.T) {
	quote := func(v string) string { b, _ := json.Marshal(v); return string(b[1 : len(b)-1]) }
	for _, secret := range []string{"&abcd", "a&bcd", `x"yz1`, "äbcd1", "Ab3+xYz/0k9="} {
		s := redact.NewScrubber(secret)
		once, twice := quote(secret), quote(quote(secret))
		inner, _ := json.Marshal(map[string]string{"token": secret})
		outer, _ := json.Marshal(map[string]string{"body": string(inner)})
		third, _ := json.Marshal(map[string]string{"log": string(outer)})
		for _, text := range []string{string(inner), string(outer), string(third)} {
			out := s.Scrub(text)
			assert.Contains(t, out, redact.Placeholder, "%s in %s", secret, text)
			for _, form := range []string{secret, once, twice, quote(twice)} {
				assert.NotContains(t, out, form, "%s in %s", secret, text)
			}
		}
	}
}
