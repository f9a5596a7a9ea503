package ocsync_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// FuzzParseRetryAfter: any header value gives a wait within [0,
// MaxRetryWait], and an unreadable one is reported as such.
func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{"0", "3", "-1", "120", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT",
		"Tue, 01 Dec 2026 10:00:30 GMT", " 7 ", "1.5", "", "soon", "\x00"} {
		f.Add(seed)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		wait, ok := ocsync.ParseRetryAfter(v, at)
		if wait < 0 || wait > ocsync.MaxRetryWait {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", v, wait, ocsync.MaxRetryWait)
		}
		if !ok && wait != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v but not ok", v, wait)
		}
	})
}

// FuzzScrubber: whatever surrounds a registered secret, Scrub and Quote never
// let it through, and Quote stays within its bound.
func FuzzScrubber(f *testing.F) {
	f.Add("Ab3+xYz/0k9=", "error: ", " (end)")
	f.Add("s3cr3t\"\\<>&é", `{"message":"`, `"}`)
	f.Add("tok,en with space", "Authorization: User ", "\n")
	f.Fuzz(func(t *testing.T, secret, before, after string) {
		if len(secret) < ocsync.MinScrubLength {
			return
		}
		s := ocsync.NewScrubber(secret)
		text := before + secret + after
		// No stretch between two markers holds the secret (a secret may be
		// part of the marker itself).
		leaks := func(out string) bool {
			for _, piece := range strings.Split(out, ocsync.Scrubbed) {
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
		if len(q) > ocsync.MaxQuotedBytes+len("…") {
			t.Fatalf("Quote returned %d bytes", len(q))
		}
		if leaks(q) && !strings.ContainsFunc(secret, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }) {
			t.Fatalf("Quote left the secret in %q", q)
		}
	})
}
