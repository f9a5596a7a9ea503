package redact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// FuzzScrubber: whatever surrounds a registered secret, Scrub and Quote never
// let it through, and Quote stays within its bound.
func FuzzScrubber(f *testing.F) {
	f.Add("Ab3+xYz/0k9=", "error: ", " (end)")
	f.Add("s3cr3t\"\\<>&é", `{"message":"`, `"}`)
	f.Add("tok,en with space", "Authorization: User ", "\n")
	f.Fuzz(func(t *testing.T, secret, before, after string) {
		if len(secret) < redact.MinLength {
			return
		}
		s := redact.NewScrubber(secret)
		text := before + secret + after
		// No stretch between two markers holds the secret (a secret may be
		// part of the marker itself).
		leaks := func(out string) bool {
			for _, piece := range strings.Split(out, redact.Placeholder) {
				if strings.Contains(piece, secret) {
					return true
				}
			}
			return false
		}
		if out := s.Scrub(text); leaks(out) {
			t.Fatalf("Scrub left the secret in %q", out)
		}
		q := s.Quote(text)
		if len(q) > redact.MaxQuotedBytes+len("…") {
			t.Fatalf("Quote returned %d bytes", len(q))
		}
		if leaks(q) && !strings.ContainsFunc(secret, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }) {
			t.Fatalf("Quote left the secret in %q", q)
		}
	})
}
