package ocsync

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// WriteText writes the report for a person: a table of every change that is
// not "unchanged" (action, application, instance, result, what changes or
// why), the deletion guard's verdict when it tripped, was forced or was
// lifted by an approval, the digest of the plan's deletions (in a dry run,
// or when they were withheld) with the -approve flag that applies exactly
// them, and the one-line summary. Scrub the report first (Report.Scrub)
// when its errors may quote a remote.
func (rep *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := 0
	for i := range rep.Plan.Changes {
		c := &rep.Plan.Changes[i]
		if c.Kind == KindUnchanged {
			continue
		}
		if rows == 0 {
			fmt.Fprintln(tw, "ACTION\tAPPLICATION\tINSTANCE\tRESULT\tDETAILS")
		}
		rows++
		var r Result
		if i < len(rep.Results) {
			r = rep.Results[i]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Kind, c.Name, dash(c.Key), dash(string(r.Outcome)), details(c, &r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rows == 0 {
		if _, err := fmt.Fprintln(w, "No changes."); err != nil {
			return err
		}
	}
	if err := writeGuard(w, rep); err != nil {
		return err
	}
	if rep.DryRun {
		_, err := fmt.Fprintf(w, "Dry run, nothing applied. Plan: %s.\n", planLine(rep.Summary))
		return err
	}
	_, err := fmt.Fprintf(w, "Summary: %s.\n", rep.Summary)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// details says what a change does, or why it failed or is left alone.
func details(c *Change, r *Result) string {
	var parts []string
	if c.Kind == KindUpdate {
		for _, f := range c.Fields {
			parts = append(parts, fieldChange(c, f))
		}
	}
	if c.Kind == KindUpdate && r.SpecReplaced {
		parts = append(parts, "spec replaced")
	}
	if c.Reason != "" {
		parts = append(parts, c.Reason)
	}
	if r.Error != "" && (c.Reason == "" || !strings.Contains(r.Error, c.Reason)) {
		// The item error starts with "<kind> <name>: ", which the
		// columns already show.
		msg := strings.TrimPrefix(r.Error, fmt.Sprintf("%s %s: ", c.Kind, c.Name))
		parts = append(parts, oneLine(msg))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

// maxShownValue bounds an attribute value shown in a report, in runes.
const maxShownValue = 60

// fieldChange says how an update changes one field: an attribute's old
// and new value, quoted; the credential and the document by a short hash
// of what is stored, never in clear.
func fieldChange(c *Change, field string) string {
	switch field {
	case FieldCredential:
		if old, ok := c.current.storedHash(FieldCredential); ok && c.desired != nil {
			return fmt.Sprintf("credential %s → %s (hashes)", old[:8], c.desired.Fingerprint()[FieldCredential][:8])
		}
		return "changes credential"
	case FieldSpec:
		if c.current != nil && c.current.State != nil && len(c.current.State.SpecSHA256) >= 8 {
			st := c.current.State
			return fmt.Sprintf("document sha256 %s fetched %s is due: load it, replace it if it changed",
				st.SpecSHA256[:8], st.SpecFetchedAt.UTC().Format(time.DateOnly))
		}
		return "document is due: load it, replace it if it changed"
	case FieldStructure:
		return "structure: restore the missing bundle or API definition"
	}
	if c.Old == nil || c.New == nil {
		return "changes " + field // a plan that went through JSON without them
	}
	oldV, ok := c.Old.value(field)
	newV, _ := c.New.value(field)
	if !ok {
		return "changes " + field
	}
	if h, stored := c.current.storedHash(field); stored && oldV == "" && h != fieldHash(field, "") {
		// The registry's listing does not show this field (the state
		// holds its hash only): its old value is not known.
		return fmt.Sprintf("%s → %s", field, shown(newV))
	}
	return fmt.Sprintf("%s %s → %s", field, shown(oldV), shown(newV))
}

// shown quotes an attribute value for a one-line report, cut to
// maxShownValue runes.
func shown(v string) string {
	if r := []rune(v); len(r) > maxShownValue {
		v = string(r[:maxShownValue]) + "…"
	}
	return strconv.Quote(v)
}

// storedHash is the hash the registered application's state holds for
// field, if any; false for a nil application.
func (r *Registered) storedHash(field string) (string, bool) {
	if r == nil {
		return "", false
	}
	h, ok := r.State.fieldHash(field)
	return h, ok && len(h) >= 8
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// planLine is the summary of a dry run, in the future tense.
func planLine(s Summary) string {
	unusable := ""
	if s.Unusable > 0 {
		unusable = fmt.Sprintf(", %d unusable", s.Unusable)
	}
	return fmt.Sprintf("%d to create, %d to update, %d to delete, %d unchanged, %d skipped%s, %d conflicts, %d to withhold",
		s.Created, s.Updated, s.Deleted, s.Unchanged, s.Skipped, unusable, s.Conflicts, s.Withheld)
}

// writeGuard writes the deletion guard's verdict and the deletions digest.
func writeGuard(w io.Writer, rep *Report) error {
	g, digest := rep.Plan.Guard, rep.Plan.DeletionsDigest
	if g.Tripped || g.Forced || g.Approved {
		verdict := "withheld"
		switch {
		case g.Refused != "":
			verdict = "withheld: the approved digest " + g.Refused + " does not match this plan's deletions"
		case g.Forced:
			verdict = "applied (forced)"
		case g.Approved:
			verdict = "applied (approved " + digest + ")"
		}
		if _, err := fmt.Fprintf(w, "Deletion guard: %d of %d owned applications to delete, limit %d%%: deletions %s.\n",
			g.Deletes, g.Owned, g.MaxPercent, verdict); err != nil {
			return err
		}
		if g.SourceEmpty {
			if _, err := fmt.Fprintln(w, "The source listed no application: check its selection (tags) and credentials before approving."); err != nil {
				return err
			}
		}
	}
	if digest != "" && (rep.DryRun || g.Tripped) {
		if _, err := fmt.Fprintf(w, "Deletions digest: %s  (approve with -approve %s)\n", digest, digest); err != nil {
			return err
		}
	}
	return nil
}

// Scrub returns a copy of rep whose free texts (the reasons and
// old and new attributes of the plan's changes, the results' errors) have
// passed through scrubber; rep itself is not changed. nil stays nil.
func (rep *Report) Scrub(scrubber *redact.Scrubber) *Report {
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

func scrubAttributes(a *Attributes, s *redact.Scrubber) *Attributes {
	if a == nil {
		return nil
	}
	c := *a
	for _, f := range []*string{&c.Description, &c.ProviderName, &c.Bundle, &c.API, &c.TargetURL, &c.Revision} {
		*f = s.Scrub(*f)
	}
	return &c
}
