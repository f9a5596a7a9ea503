package remote_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

func TestRequestOutcome(t *testing.T) {
	for status, want := range map[int]string{
		0: remote.OutcomeError, 99: remote.OutcomeError, 200: "2xx", 204: "2xx", 302: "3xx",
		404: "4xx", 429: "4xx", 503: "5xx", 599: "5xx", 600: remote.OutcomeError,
	} {
		assert.Equal(t, want, remote.Request{Status: status}.Outcome(), status)
	}
}
