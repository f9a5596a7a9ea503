package ocsync_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

func TestScrubberRemovesEveryEncodedForm(t *testing.T) {
	const token = "Ab3+xYz/0k9=<&>é"
	s := ocsync.NewScrubber()
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
			assert.Contains(t, out, ocsync.Scrubbed)
		})
	}
	assert.Equal(t, "nothing secret", s.Scrub("nothing secret"))
}

func TestScrubberQuoteBoundsAndCleans(t *testing.T) {
	s := ocsync.NewScrubber("hunter2-secret")
	long := strings.Repeat("é", ocsync.MaxQuotedBytes) + "hunter2-secret"
	q := s.Quote("line1\nline2\x00" + long)
	assert.LessOrEqual(t, len(q), ocsync.MaxQuotedBytes+len("…"))
	assert.NotContains(t, q, "\n")
	assert.NotContains(t, q, "\x00")
	assert.True(t, strings.HasSuffix(q, "…"))
	assert.NotContains(t, s.Quote("x hunter2-secret y"), "hunter2")
	var nilScrubber *ocsync.Scrubber
	assert.Equal(t, "a b", nilScrubber.Quote("a\nb"))
}

func TestScrubErrorKeepsTheChain(t *testing.T) {
	s := ocsync.NewScrubber("top-secret-value")
	err := fmt.Errorf("GET /docs: body %q: %w", "top-secret-value", ocsync.ErrRetryable)
	clean := s.ScrubError(err)
	assert.NotContains(t, clean.Error(), "top-secret-value")
	assert.ErrorIs(t, clean, ocsync.ErrRetryable)
	plain := errors.New("fine")
	assert.Same(t, plain, s.ScrubError(plain))
	assert.NoError(t, s.ScrubError(nil))
}

func TestShortSecretsAreNotScrubbed(t *testing.T) {
	s := ocsync.NewScrubber("abc")
	assert.Equal(t, "abc abc", s.Scrub("abc abc"))
}

func TestParseRetryAfter(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"999999", ocsync.MaxRetryWait, true},
		{"99999999999999999999999", 0, false},
		{at.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{at.Add(time.Hour).Format(http.TimeFormat), ocsync.MaxRetryWait, true},
		{at.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := ocsync.ParseRetryAfter(tt.in, at)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestRetryWaitIsCapped(t *testing.T) {
	huge := func(int, time.Duration) time.Duration { return time.Hour }
	assert.Equal(t, ocsync.MaxRetryWait, ocsync.RetryWait(huge, 1, 0))
	assert.Equal(t, 7*time.Second, ocsync.RetryWait(nil, 1, 7*time.Second))
	for attempt := 1; attempt < 20; attempt++ {
		d := ocsync.RetryWait(nil, attempt, 0)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.LessOrEqual(t, d, ocsync.DefaultRetryWaitMax)
	}
}

func TestScrubberFindsEveryJSONEscapeMix(t *testing.T) {
	const token = "Ab3+xYz/0k9=\"é😀"
	s := ocsync.NewScrubber(token)
	for _, form := range []string{
		`Ab3+xYz\/0k9=\"é😀`,
		`Ab3\u002BxYz/0k9=\"\u00e9\ud83d\ude00`,
		`\u0041b3\u002bxYz\/0k9\u003d\u0022\u00E9😀`,
	} {
		body := `{"message":"refused: ` + form + `","pad":"x"}`
		out := s.Scrub(body)
		assert.NotContains(t, out, form)
		assert.Equal(t, `{"message":"refused: `+ocsync.Scrubbed+`","pad":"x"}`, out, form)
	}
	// Escapes that do not form a secret stay as they are.
	assert.Equal(t, `a\u00e9b \/ \u12`, s.Scrub(`a\u00e9b \/ \u12`))
}

func TestScrubberIsNotSlowedBySecretsThatShareAnAffix(t *testing.T) {
	s := ocsync.NewScrubber()
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
		s := ocsync.NewScrubber(secret)
		once, twice := quote(secret), quote(quote(secret))
		inner, _ := json.Marshal(map[string]string{"token": secret})
		outer, _ := json.Marshal(map[string]string{"body": string(inner)})
		third, _ := json.Marshal(map[string]string{"log": string(outer)})
		for _, text := range []string{string(inner), string(outer), string(third)} {
			out := s.Scrub(text)
			assert.Contains(t, out, ocsync.Scrubbed, "%s in %s", secret, text)
			for _, form := range []string{secret, once, twice, quote(twice)} {
				assert.NotContains(t, out, form, "%s in %s", secret, text)
			}
		}
	}
}
