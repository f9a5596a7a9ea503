package compass

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass/internal/director"
	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Update brings the owned application cur to app. It reads the ids of the
// application's bundle and API definition (one application query), records
// u.PendingState first when there is one, then writes only what the changed
// fields need (an application without state gets everything):
// updateApplication for description, provider name and status; updateBundle
// for the bundle name and the credential; updateAPIDefinition for the API
// name, the target URL and the spec (sent only when u.Spec is set; otherwise
// the Director keeps the stored one). The identity label is rewritten when
// it is not in the current form, and u.State is written last, so an update
// interrupted anywhere is redone on the next run.
//
// A bundle or API definition deleted in the Director is added again with the
// spec: u.Spec, or the document u.LoadSpec loads. Before that the state is
// recorded without the spec, so an interruption leaves no claim on a
// document the Director lacks. When the document cannot be loaded, the
// other fields are written and the error wraps ErrIncomplete.
func (r *Registry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	if !cur.Owned {
		return fmt.Errorf("compass: application %s is not owned by this job: %w", cur.Name, ocsync.ErrConflict)
	}
	if app.Unusable != "" {
		return &ocsync.UnusableError{Name: app.Name, Reason: app.Unusable}
	}
	if err := checkApplication(app); err != nil {
		return err
	}
	ref, err := r.refOf(ctx, cur)
	if err != nil {
		return err
	}
	r.registerCredential(app)
	pending := u.PendingState(cur.State)
	if pending != nil {
		if err := r.setLabel(ctx, cur.ID, r.cfg.Labels.State, *pending); err != nil {
			return err
		}
	}
	// spec is what a missing part is added with; final the state recorded
	// last (that of a document loaded here, when one is).
	spec, final := u.Spec, u.State
	var missing string
	var loadErr error
	restore := func(part string) bool {
		if spec != nil {
			return true
		}
		if st := specless(cur.State, pending); st != nil {
			if err := r.setLabel(ctx, cur.ID, r.cfg.Labels.State, *st); err != nil {
				loadErr = err
				return false
			}
		}
		if u.LoadSpec == nil {
			missing, loadErr = part, errors.New("no document was given")
			return false
		}
		s, st, err := u.LoadSpec(ctx)
		if err != nil {
			missing, loadErr = part, err
			return false
		}
		spec, final = &s, st
		return true
	}
	all := cur.State == nil
	changed := func(fields ...string) bool {
		return all || slices.ContainsFunc(fields, func(f string) bool { return slices.Contains(u.Fields, f) })
	}
	needApp := changed(ocsync.FieldDescription, ocsync.FieldProviderName, ocsync.FieldStatus)
	needBundle := changed(ocsync.FieldBundle, ocsync.FieldCredential)
	needAPI := changed(ocsync.FieldAPI, ocsync.FieldTargetURL) || spec != nil

	if needApp {
		in := updateInput(r.cfg.IntegrationSystemID, app)
		if err := r.mutate(ctx, "updateApplication", r.cfg.Timeout, retryIdempotent, func(ctx context.Context) (*string, error) {
			resp, err := director.UpdateApplication(ctx, r.client, cur.ID, in)
			if err != nil || resp.UpdateApplication == nil {
				return nil, err
			}
			return resp.UpdateApplication.Id, nil
		}); err != nil {
			return err
		}
	}

	switch {
	case ref.BundleID == "":
		if !restore("bundle") {
			break
		}
		in, err := bundleCreateInput(app, spec)
		if err != nil {
			return err
		}
		if err := r.mutate(ctx, "addBundle", r.cfg.SpecTimeout, noRetry, func(ctx context.Context) (*string, error) {
			resp, err := director.AddBundle(ctx, r.client, cur.ID, in)
			if err != nil || resp.AddBundle == nil {
				return nil, err
			}
			return resp.AddBundle.Id, nil
		}); err != nil {
			return err
		}
	case ref.APIID == "":
		if needBundle {
			if err := r.updateBundle(ctx, ref.BundleID, app); err != nil {
				return err
			}
		}
		if !restore("API definition") {
			break
		}
		in, err := apiInput(app, spec)
		if err != nil {
			return err
		}
		if err := r.mutate(ctx, "addAPIDefinitionToBundle", r.cfg.SpecTimeout, noRetry, func(ctx context.Context) (*string, error) {
			resp, err := director.AddAPIDefinitionToBundle(ctx, r.client, ref.BundleID, in)
			if err != nil || resp.AddAPIDefinitionToBundle == nil {
				return nil, err
			}
			return resp.AddAPIDefinitionToBundle.Id, nil
		}); err != nil {
			return err
		}
	default:
		if needBundle {
			if err := r.updateBundle(ctx, ref.BundleID, app); err != nil {
				return err
			}
		}
		if needAPI {
			in, err := apiInput(app, spec)
			if err != nil {
				return err
			}
			timeout := r.cfg.Timeout
			if spec != nil {
				timeout = r.cfg.SpecTimeout
			}
			if err := r.mutate(ctx, "updateAPIDefinition", timeout, retryIdempotent, func(ctx context.Context) (*string, error) {
				resp, err := director.UpdateAPIDefinition(ctx, r.client, ref.APIID, in)
				if err != nil || resp.UpdateAPIDefinition == nil {
					return nil, err
				}
				return resp.UpdateAPIDefinition.Id, nil
			}); err != nil {
				return err
			}
		}
	}

	if !ref.IdentityCurrent || cur.Key != app.Key {
		if err := r.setLabel(ctx, cur.ID, r.cfg.Labels.Identity, identityOf(r.cfg.Scope, app)); err != nil {
			return err
		}
	}
	switch {
	case missing != "":
		return fmt.Errorf("compass: application %s has no %s and its document could not be loaded to add one; the next run sends it: %w",
			cur.Name, missing, errors.Join(ErrIncomplete, loadErr))
	case loadErr != nil:
		return loadErr
	}
	return r.setLabel(ctx, cur.ID, r.cfg.Labels.State, final)
}

// specless is the state written when an update could not add a missing
// bundle or API definition: the state that was safe to claim (the pending
// one, else the stored one) without the spec, marked pending, so that the
// next plan refreshes the spec and the next update carries it. nil when
// nothing is stored: no state already makes the next update send all.
func specless(stored, pending *ocsync.State) *ocsync.State {
	base := pending
	if base == nil {
		base = stored
	}
	if base == nil {
		return nil
	}
	st := *base
	st.SpecSHA256, st.SpecFetchedAt, st.Pending = "", time.Time{}, true
	return &st
}

// refOf returns the ids of cur's bundle and API definition, read with one
// application query unless cur.Ref already holds both. The answer is
// checked: a null or inconsistent page of bundles or API definitions is an
// error, never a missing bundle, so a malformed answer cannot make the
// update add a second bundle.
func (r *Registry) refOf(ctx context.Context, cur ocsync.Registered) (Ref, error) {
	var base Ref
	switch ref := cur.Ref.(type) {
	case Ref:
		base = ref
	case *Ref:
		if ref != nil {
			base = *ref
		}
	}
	if base.BundleID != "" && base.APIID != "" {
		return base, nil
	}
	var app *director.GetApplicationApplication
	err := r.call(ctx, "application", r.query(), func(ctx context.Context) error {
		resp, err := director.GetApplication(ctx, r.client, cur.ID)
		if err != nil {
			return err
		}
		app = resp.Application
		return nil
	})
	if err != nil {
		return Ref{}, err
	}
	if app == nil {
		return Ref{}, &Error{Operation: "application", Name: "NotFound", Message: "application " + cur.ID + " does not exist", kind: remote.ErrNotFound}
	}
	ref, err := refFrom(cur.ID, app)
	if err != nil {
		return Ref{}, err
	}
	ref.IdentityCurrent = base.IdentityCurrent
	return ref, nil
}

// refFrom picks the bundle and API definition of an application as read:
// the first bundle that has an API definition, else the first bundle (the
// Director does not keep bundle names unique).
func refFrom(id string, app *director.GetApplicationApplication) (Ref, error) {
	bad := func(what string) (Ref, error) {
		return Ref{}, malformed("application", "application "+id+": "+what)
	}
	if ptr.Value(app.Id) != id {
		return bad("the answer is another application")
	}
	bp := app.Bundles
	if bp == nil || bp.Data == nil || bp.TotalCount == nil {
		return bad("the bundles page is null or incomplete")
	}
	if len(bp.Data) == 0 && *bp.TotalCount > 0 {
		return bad("the bundles page is empty but counts bundles")
	}
	var ref Ref
	for i, b := range bp.Data {
		if b == nil || ptr.Value(b.Id) == "" {
			return bad(fmt.Sprintf("bundle %d has no id", i))
		}
		ap := b.ApiDefinitions
		if ap == nil || ap.Data == nil || ap.TotalCount == nil {
			return bad(fmt.Sprintf("the API definitions page of bundle %d is null or incomplete", i))
		}
		if len(ap.Data) == 0 && *ap.TotalCount > 0 {
			return bad(fmt.Sprintf("the API definitions page of bundle %d is empty but counts API definitions", i))
		}
		for j, a := range ap.Data {
			if a == nil || ptr.Value(a.Id) == "" {
				return bad(fmt.Sprintf("API definition %d of bundle %d has no id", j, i))
			}
		}
		if i == 0 {
			ref.BundleID = *b.Id
		}
		if len(ap.Data) > 0 {
			ref.BundleID, ref.APIID = *b.Id, *ap.Data[0].Id
			return ref, nil
		}
	}
	if *bp.TotalCount > len(bp.Data) {
		// The bundle with an API definition may be on a later page: never
		// add a second one on a guess.
		return bad(fmt.Sprintf("none of the first %d of %d bundles has an API definition", len(bp.Data), *bp.TotalCount))
	}
	return ref, nil
}

func (r *Registry) updateBundle(ctx context.Context, bundleID string, app ocsync.Application) error {
	in := bundleUpdateInput(app)
	return r.mutate(ctx, "updateBundle", r.cfg.Timeout, retryIdempotent, func(ctx context.Context) (*string, error) {
		resp, err := director.UpdateBundle(ctx, r.client, bundleID, in)
		if err != nil || resp.UpdateBundle == nil {
			return nil, err
		}
		return resp.UpdateBundle.Id, nil
	})
}

// ErrIncomplete is wrapped by the error of an update that found the
// application without its bundle or API definition and could not load the
// spec document to add one with (ocsync.Update.LoadSpec failed). The fields
// it could write are written, and the stored state no longer claims the
// spec, so the next run sends it.
var ErrIncomplete = errors.New("application lacks its bundle or API definition")
