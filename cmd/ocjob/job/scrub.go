package job

import (
	"slices"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// NewScrubber returns the Scrubber of a run of cfg, knowing the secrets of
// the configuration: the platform secrets and the Authorization value made
// of them, and the OAuth2 client secret with the Basic credentials sent to
// the token endpoint. The clients add what they learn on the way (instance
// tokens, access tokens) when it is shared with them (Options.Scrubber).
func NewScrubber(cfg *config.Config) *redact.Scrubber {
	s := redact.NewScrubber()
	if cfg == nil {
		return s
	}
	cfg.OpenConnectorsConfig().RegisterSecrets(s)
	cfg.CompassConfig().RegisterSecrets(s)
	return s
}

// ScrubReport returns a copy of rep whose free texts (the reasons and
// old and new attributes of the plan's changes, the results' errors) have
// passed through scrubber; rep itself is not changed. nil stays nil.
func ScrubReport(rep *ocsync.Report, scrubber *redact.Scrubber) *ocsync.Report {
	if rep == nil || scrubber == nil {
		return rep
	}
	out := *rep
	out.Results = slices.Clone(rep.Results)
	for i := range out.Results {
		out.Results[i].Error = scrubber.Scrub(out.Results[i].Error)
	}
	if rep.Plan != nil {
		plan := *rep.Plan
		plan.Changes = slices.Clone(rep.Plan.Changes)
		for i := range plan.Changes {
			c := &plan.Changes[i]
			c.Reason = scrubber.Scrub(c.Reason)
			c.Old = scrubAttributes(c.Old, scrubber)
			c.New = scrubAttributes(c.New, scrubber)
		}
		out.Plan = &plan
	}
	return &out
}

func scrubAttributes(a *ocsync.Attributes, s *redact.Scrubber) *ocsync.Attributes {
	if a == nil {
		return nil
	}
	c := *a
	for _, f := range []*string{&c.Description, &c.ProviderName, &c.Bundle, &c.API, &c.TargetURL, &c.Revision} {
		*f = s.Scrub(*f)
	}
	return &c
}
