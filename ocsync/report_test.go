package ocsync_test

import (
	"testing"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/stretchr/testify/assert"
)

func TestScrubReport(t *testing.T) {
	const logSecret = "log-SECRET-3e7a"
	plan := &ocsync.Plan{Changes: []ocsync.Change{{
		Kind: ocsync.KindUpdate, Name: "oc-1", Reason: "because " + logSecret,
		Old: &ocsync.Attributes{Description: "old " + logSecret}, New: &ocsync.Attributes{Description: "new"},
	}}}
	rep := &ocsync.Report{Plan: plan, Results: []ocsync.Result{{Kind: ocsync.KindUpdate, Name: "oc-1", Outcome: ocsync.OutcomeFailed, Error: "echo " + logSecret}}}
	clean := rep.Scrub(redact.NewScrubber(logSecret))
	assert.Equal(t, "echo [redacted]", clean.Results[0].Error)
	assert.Equal(t, "because [redacted]", clean.Plan.Changes[0].Reason)
	assert.Equal(t, "old [redacted]", clean.Plan.Changes[0].Old.Description)
	assert.Equal(t, "new", clean.Plan.Changes[0].New.Description)
	assert.Contains(t, rep.Results[0].Error, logSecret, "the report itself is left as it is")
	assert.Contains(t, rep.Plan.Changes[0].Old.Description, logSecret)
	assert.Nil(t, (*ocsync.Report)(nil).Scrub(redact.NewScrubber(logSecret)))
	assert.Same(t, rep, rep.Scrub(nil))
}
