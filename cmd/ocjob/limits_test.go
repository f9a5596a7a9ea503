package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	ocjob "github.com/kyma-incubator/open-connectors-job"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// The service tests run every few milliseconds: they lower the floor of
// -interval, which TestIntervalFloor checks at its real value.
func init() { minInterval = time.Millisecond }

func TestIntervalFloor(t *testing.T) {
	minInterval = ocjob.MinInterval
	defer func() { minInterval = time.Millisecond }()
	for _, in := range []string{"10ms", "1s", "9s"} {
		r := runOcjob(t, nil, "-config", "/nonexistent.json", "-interval", in)
		assert.Equal(t, ocsync.ExitUsage, r.code, in)
		assert.Contains(t, r.stderr, "invalid -interval "+in+": want at least 10s (or 0 to run once)")
	}
	r := runOcjob(t, nil, "-config", "/nonexistent.json", "-interval", "10s")
	assert.Equal(t, ocsync.ExitFailed, r.code, "the interval passes, the configuration does not")
}
