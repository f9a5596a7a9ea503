package remote_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
		{"999999", remote.MaxRetryWait, true},
		{"99999999999999999999999", 0, false},
		{at.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{at.Add(time.Hour).Format(http.TimeFormat), remote.MaxRetryWait, true},
		{at.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := remote.ParseRetryAfter(tt.in, at)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestRetryWaitIsCapped(t *testing.T) {
	huge := func(int, time.Duration) time.Duration { return time.Hour }
	assert.Equal(t, remote.MaxRetryWait, remote.RetryWait(huge, 1, 0))
	assert.Equal(t, 7*time.Second, remote.RetryWait(nil, 1, 7*time.Second))
	for attempt := 1; attempt < 20; attempt++ {
		d := remote.RetryWait(nil, attempt, 0)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.LessOrEqual(t, d, remote.DefaultRetryWaitMax)
	}
}

// FuzzParseRetryAfter: any header value gives a wait within [0,
// MaxRetryWait], and an unreadable one is reported as such.
func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{"0", "3", "-1", "120", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT",
		"Tue, 01 Dec 2026 10:00:30 GMT", " 7 ", "1.5", "", "soon", "\x00"} {
		f.Add(seed)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		wait, ok := remote.ParseRetryAfter(v, at)
		if wait < 0 || wait > remote.MaxRetryWait {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", v, wait, remote.MaxRetryWait)
		}
		if !ok && wait != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v but not ok", v, wait)
		}
	})
}
