package redact_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// BenchmarkScrubber registers the secrets of 10 000 instances and scrubs
// one log line per iteration, with a token in it; adding one more credential
// per iteration shows that Add does not rebuild anything.
func BenchmarkScrubber(b *testing.B) {
	s := redact.NewScrubber()
	for i := range 10_000 {
		s.AddCredential(fmt.Sprintf("User u-secret, Organization o-secret, Element tok-%06d+/=", i))
	}
	line := "change failed: compass: updateBundle: InvalidData: Invalid data BundleUpdateInput [defaultInstanceAuth=" +
		"User u-secret, Organization o-secret, Element tok-004711+/=] (HTTP 200) while applying oc-4711 at " + time.Now().String()
	i := 0
	for b.Loop() {
		i++
		s.AddCredential(fmt.Sprintf("User u-secret, Organization o-secret, Element new-%06d+/=", i))
		if out := s.Scrub(line); len(out) == len(line) {
			b.Fatal("nothing scrubbed")
		}
	}
}

// BenchmarkScrubberHostileText scrubs 64 KiB of text that matches the shared
// part of 20 000 registered secrets everywhere: the work is bounded by the
// text's length times the number of distinct secret lengths, not by how many
// secrets share a prefix or suffix.
func BenchmarkScrubberHostileText(b *testing.B) {
	s := redact.NewScrubber()
	shared := strings.Repeat("S", 16)
	for i := range 20_000 {
		s.Add(fmt.Sprintf("%06d%s", i, shared))
	}
	text := strings.Repeat(shared, 64<<10/16)
	for b.Loop() {
		_ = s.Quote(text)
	}
}
