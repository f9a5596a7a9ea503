package job_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job"
	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

func TestNewScrubber(t *testing.T) {
	cfg := &config.Config{
		Compass: config.Compass{ClientID: "client id", ClientSecret: "client-SECRET-&=1"},
		OpenConnectors: config.OpenConnectors{
			UserSecret: "user-SECRET-77", OrganizationSecret: "org-SECRET-88",
		},
	}
	s := job.NewScrubber(cfg)
	for _, secret := range []string{
		"client-SECRET-&=1", "user-SECRET-77", "org-SECRET-88",
		"User user-SECRET-77, Organization org-SECRET-88",
		base64.StdEncoding.EncodeToString([]byte("client id:client-SECRET-&=1")),
		base64.StdEncoding.EncodeToString([]byte("client+id:client-SECRET-%26%3D1")),
	} {
		assert.Equal(t, redact.Placeholder, s.Scrub(secret), secret)
	}
	assert.Equal(t, "client id", s.Scrub("client id"), "the client id is no secret")
	require.NotNil(t, job.NewScrubber(nil))
}

func TestScrubReport(t *testing.T) {
	const logSecret = "log-SECRET-3e7a"
	plan := &ocsync.Plan{Changes: []ocsync.Change{{
		Kind: ocsync.KindUpdate, Name: "oc-1", Reason: "because " + logSecret,
		Old: &ocsync.Attributes{Description: "old " + logSecret}, New: &ocsync.Attributes{Description: "new"},
	}}}
	rep := &ocsync.Report{Plan: plan, Results: []ocsync.Result{{Kind: ocsync.KindUpdate, Name: "oc-1", Outcome: ocsync.OutcomeFailed, Error: "echo " + logSecret}}}
	clean := job.ScrubReport(rep, redact.NewScrubber(logSecret))
	assert.Equal(t, "echo [redacted]", clean.Results[0].Error)
	assert.Equal(t, "because [redacted]", clean.Plan.Changes[0].Reason)
	assert.Equal(t, "old [redacted]", clean.Plan.Changes[0].Old.Description)
	assert.Equal(t, "new", clean.Plan.Changes[0].New.Description)
	assert.Contains(t, rep.Results[0].Error, logSecret, "the report itself is left as it is")
	assert.Contains(t, rep.Plan.Changes[0].Old.Description, logSecret)
	assert.Nil(t, job.ScrubReport(nil, redact.NewScrubber(logSecret)))
	assert.Same(t, rep, job.ScrubReport(rep, nil))
}
