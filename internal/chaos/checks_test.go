package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// directorLabels are the labels the Director adds to every application.
var directorLabels = []string{"name", "managed", "integrationSystemID"}

// diffApp compares an owned application with what the platform says for
// in, allowing only the changes made behind the job's back that the job
// cannot see (m). It returns the differences.
func (w *world) diffApp(app compasstest.Application, in *instance, m *marks) []string {
	var d []string
	check := func(field, got, want string) {
		if got != want {
			d = append(d, fmt.Sprintf("%s: got %q, want %q", field, got, want))
		}
	}
	check("name", app.Name, in.appName())
	// A description edited by hand is read back and written again.
	check("description", app.Description, in.description())
	check("providerName", app.ProviderName, "SAP Open Connectors")
	check("status", app.Status, in.status())
	check("integrationSystemID", app.IntegrationSystemID, compasstest.DefaultIntegrationSystemID)
	// The Director sets baseURL from the first API definition added to an
	// existing application (a bundle the job adds again): either is right.
	if app.BaseURL != "" {
		check("baseURL", app.BaseURL, w.plat.srv.URL)
	}
	if len(app.Formations) > 0 {
		d = append(d, fmt.Sprintf("formations: %v", app.Formations))
	}

	wantIdentity := map[string]any{"connectorInstanceContext": w.dir.context, "connectorInstanceID": fmt.Sprint(in.ID), "owner": owner}
	if !reflect.DeepEqual(app.Labels["open_connectors"], wantIdentity) {
		d = append(d, fmt.Sprintf("identity label: got %v, want %v", app.Labels["open_connectors"], wantIdentity))
	}
	state, ok := app.Labels["open_connectors_state"].(map[string]any)
	switch {
	case !ok:
		d = append(d, fmt.Sprintf("state label: got %v", app.Labels["open_connectors_state"]))
	case state["pending"] == true:
		d = append(d, "state label is still pending")
	}
	for key := range app.Labels {
		if key != "open_connectors" && key != "open_connectors_state" && !slices.Contains(directorLabels, key) {
			d = append(d, "unexpected label "+key)
		}
	}

	if len(app.Bundles) == 0 && m.bundleGone[app.ID] {
		return d
	}
	if len(app.Bundles) != 1 {
		return append(d, fmt.Sprintf("%d bundles, want 1", len(app.Bundles)))
	}
	b := app.Bundles[0]
	check("bundle name", b.Name, in.Element.Key)
	if want := map[string][]string{"Authorization": {in.credential()}}; !reflect.DeepEqual(b.AuthHeaders, want) {
		// Never quote the header: it holds the token.
		d = append(d, "bundle Authorization header differs from the instance's credential")
	}
	if len(b.APIs) != 1 {
		return append(d, fmt.Sprintf("%d API definitions, want 1", len(b.APIs)))
	}
	api := b.APIs[0]
	check("API name", api.Name, in.apiName())
	check("target URL", api.TargetURL, w.plat.srv.URL+basePath)
	check("spec type", api.SpecType, "OPEN_API")
	check("spec format", api.SpecFormat, "JSON")
	if api.Spec != string(in.doc) {
		d = append(d, fmt.Sprintf("spec (%d bytes) is not the served document (%d bytes), byte for byte; an earlier one: %v",
			len(api.Spec), len(in.doc), in.servedDoc([]byte(api.Spec))))
	}
	return d
}

// itemErrors returns every *ocsync.ItemError in err's tree.
func itemErrors(err error) []*ocsync.ItemError {
	var out []*ocsync.ItemError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if ie, ok := err.(*ocsync.ItemError); ok {
			out = append(out, ie)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// outcomes are the outcomes each kind of change may end in.
var outcomes = map[ocsync.ChangeKind][]ocsync.Outcome{
	ocsync.KindCreate:    {ocsync.OutcomeApplied, ocsync.OutcomeFailed, ocsync.OutcomeConflict, ocsync.OutcomeNotStarted},
	ocsync.KindUpdate:    {ocsync.OutcomeApplied, ocsync.OutcomeFailed, ocsync.OutcomeNotStarted},
	ocsync.KindDelete:    {ocsync.OutcomeApplied, ocsync.OutcomeFailed, ocsync.OutcomeNotStarted, ocsync.OutcomeWithheld},
	ocsync.KindUnchanged: {ocsync.OutcomeNone},
	ocsync.KindSkipped:   {ocsync.OutcomeNone, ocsync.OutcomeUnusable},
	ocsync.KindConflict:  {ocsync.OutcomeConflict},
}

// checkReport checks that a report agrees with itself, with its plan and
// with the error Apply returned. cancelled says whether the run's context
// was cancelled.
func checkReport(plan *ocsync.Plan, rep *ocsync.Report, err error, cancelled bool) []string {
	if rep == nil {
		return []string{fmt.Sprintf("no report; error %v", err)}
	}
	var d []string
	if len(rep.Results) != len(plan.Changes) {
		return []string{fmt.Sprintf("%d results for %d changes", len(rep.Results), len(plan.Changes))}
	}
	var want ocsync.Summary
	failing := map[string]ocsync.ChangeKind{}
	for i, r := range rep.Results {
		c := plan.Changes[i]
		if r.Name != c.Name || r.Kind != c.Kind {
			d = append(d, fmt.Sprintf("result %d is %s %s, the change %s %s", i, r.Kind, r.Name, c.Kind, c.Name))
		}
		if !slices.Contains(outcomes[c.Kind], r.Outcome) || (r.Outcome == ocsync.OutcomeWithheld) != c.Withheld {
			d = append(d, fmt.Sprintf("%s %s ended %s", c.Kind, c.Name, r.Outcome))
		}
		if (r.Outcome == ocsync.OutcomeUnusable) != c.Unusable {
			d = append(d, fmt.Sprintf("%s %s: unusable %v, outcome %s", c.Kind, c.Name, c.Unusable, r.Outcome))
		}
		switch r.Outcome {
		case ocsync.OutcomeFailed:
			want.Failed++
		case ocsync.OutcomeConflict:
			want.Conflicts++
		case ocsync.OutcomeWithheld:
			want.Withheld++
		case ocsync.OutcomeNotStarted:
			want.NotStarted++
		case ocsync.OutcomeUnusable:
			want.Unusable++
		default:
			switch c.Kind {
			case ocsync.KindCreate:
				want.Created++
			case ocsync.KindUpdate:
				want.Updated++
			case ocsync.KindDelete:
				want.Deleted++
			case ocsync.KindUnchanged:
				want.Unchanged++
			case ocsync.KindSkipped:
				want.Skipped++
			}
		}
		switch r.Outcome {
		case ocsync.OutcomeFailed, ocsync.OutcomeConflict, ocsync.OutcomeUnusable:
			failing[r.Name] = r.Kind
			if r.Err() == nil || r.Error == "" {
				d = append(d, fmt.Sprintf("%s %s ended %s without an error", c.Kind, c.Name, r.Outcome))
			}
		case ocsync.OutcomeApplied, ocsync.OutcomeNone:
			if r.Err() != nil || r.Error != "" {
				d = append(d, fmt.Sprintf("%s %s ended %s with error %q", c.Kind, c.Name, r.Outcome, r.Error))
			}
		}
	}
	got := rep.Summary
	got.SpecFetches = 0
	if got != want {
		d = append(d, fmt.Sprintf("summary %+v, the results count %+v", got, want))
	}

	items := map[string]ocsync.ChangeKind{}
	for _, ie := range itemErrors(err) {
		if _, twice := items[ie.Name]; twice {
			d = append(d, "two item errors for "+ie.Name)
		}
		items[ie.Name] = ie.Kind
		r := resultOf(rep, ie.Name)
		switch {
		case r == nil:
			d = append(d, "item error for "+ie.Name+", which has no result")
		case r.Outcome == ocsync.OutcomeConflict && !errors.Is(ie, ocsync.ErrConflict):
			d = append(d, "conflict of "+ie.Name+" does not wrap ErrConflict")
		case r.Outcome == ocsync.OutcomeUnusable && !errors.Is(ie, ocsync.ErrUnusable):
			d = append(d, "unusable "+ie.Name+" does not wrap ErrUnusable")
		}
	}
	if !maps.Equal(items, failing) {
		d = append(d, fmt.Sprintf("item errors %v, failing results %v", items, failing))
	}
	if errors.Is(err, ocsync.ErrItemFailed) != (len(failing) > 0) {
		d = append(d, fmt.Sprintf("ErrItemFailed is %v with %d failing results", errors.Is(err, ocsync.ErrItemFailed), len(failing)))
	}
	if errors.Is(err, ocsync.ErrGuardTripped) != plan.Guard.Tripped {
		d = append(d, fmt.Sprintf("ErrGuardTripped is %v, the guard tripped %v", errors.Is(err, ocsync.ErrGuardTripped), plan.Guard.Tripped))
	}
	if want.NotStarted > 0 && !errors.Is(err, context.Canceled) && !errors.Is(err, ocsync.ErrFatal) && !errors.Is(err, ocsync.ErrDeadline) {
		d = append(d, fmt.Sprintf("%d changes not started without a cancellation, a fatal error or the deadline", want.NotStarted))
	}
	if want.NotStarted > 0 && !cancelled && !errors.Is(err, ocsync.ErrFatal) {
		d = append(d, fmt.Sprintf("%d changes not started in a run that was not cancelled and had no fatal error", want.NotStarted))
	}
	quiet := want.Failed+want.Conflicts+want.Unusable+want.Withheld+want.NotStarted == 0
	switch {
	case err == nil && !quiet:
		d = append(d, fmt.Sprintf("no error, summary %+v", rep.Summary))
	case err != nil && quiet && !(cancelled && errors.Is(err, context.Canceled)):
		d = append(d, fmt.Sprintf("error %q with a clean summary %+v", err, rep.Summary))
	}
	if !slices.IsSortedFunc(plan.Changes, func(a, b ocsync.Change) int { return strings.Compare(a.Name, b.Name) }) {
		d = append(d, "plan not sorted by name")
	}
	return d
}

func resultOf(rep *ocsync.Report, name string) *ocsync.Result {
	for i := range rep.Results {
		if rep.Results[i].Name == name {
			return &rep.Results[i]
		}
	}
	return nil
}

// checkPlan checks the plan against the platform and the Director as they
// were when it was made: every selected instance has exactly one change of
// the kind the rules give it, and no change concerns anything else.
func (w *world) checkPlan(plan *ocsync.Plan, owned map[int64]compasstest.Application) []string {
	var d []string
	byName := map[string][]ocsync.Change{}
	for _, c := range plan.Changes {
		byName[c.Name] = append(byName[c.Name], c)
	}
	for _, id := range w.plat.ids() {
		in := w.plat.instances[id]
		if !in.selected() {
			continue
		}
		cs := byName[in.appName()]
		if len(cs) != 1 {
			d = append(d, fmt.Sprintf("instance %d has %d changes", id, len(cs)))
			continue
		}
		c := cs[0]
		_, has := owned[id]
		var want []ocsync.ChangeKind
		switch {
		case in.unusable():
			want = []ocsync.ChangeKind{ocsync.KindSkipped}
			if !c.Unusable {
				d = append(d, fmt.Sprintf("instance %d has an empty token but its change is not unusable", id))
			}
		case slices.Contains(clashing, id):
			want = []ocsync.ChangeKind{ocsync.KindConflict}
		case has:
			want = []ocsync.ChangeKind{ocsync.KindUpdate, ocsync.KindUnchanged}
		case in.failed():
			want = []ocsync.ChangeKind{ocsync.KindSkipped}
		default:
			want = []ocsync.ChangeKind{ocsync.KindCreate}
		}
		if !slices.Contains(want, c.Kind) {
			d = append(d, fmt.Sprintf("instance %d: change %s, want one of %v", id, c.Kind, want))
		}
		delete(byName, in.appName())
	}
	for name, cs := range byName {
		for _, c := range cs {
			if c.Kind != ocsync.KindDelete {
				d = append(d, fmt.Sprintf("%s %s for no selected instance", c.Kind, name))
			}
		}
	}
	return d
}

// leaks returns the secrets that appear in any of texts.
func leaks(secrets []string, texts ...string) []string {
	var found []string
	for _, s := range secrets {
		if len(s) < redact.MinLength {
			continue
		}
		for _, t := range texts {
			if strings.Contains(t, s) {
				found = append(found, fmt.Sprintf("a secret of %d bytes", len(s)))
				break
			}
		}
	}
	return found
}

// reportText is everything a run shows of its report and its error.
func reportText(rep *ocsync.Report, err error) []string {
	var texts []string
	if err != nil {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
	}
	if rep != nil {
		b, _ := json.Marshal(rep)
		texts = append(texts, string(b), fmt.Sprintf("%+v", *rep), rep.Summary.String())
	}
	return texts
}
