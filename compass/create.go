package compass

import (
	"context"
	"errors"
	"fmt"

	"github.com/kyma-incubator/open-connectors-job/compass/internal/director"
	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Create registers app in one registerApplication call: identity and state
// labels, one bundle with the Authorization header, one API definition with
// the spec. A name taken by another application is an error wrapping
// ocsync.ErrConflict. When the outcome of an attempt is unknown (a network
// error, a server error or a malformed answer), the application is looked
// up before anything is sent again, so it is never registered twice; after
// a timeout of its own the request is not sent again in the same run, since
// the Director may still be processing it (the next run finds it, or
// creates it then).
func (r *Registry) Create(ctx context.Context, app ocsync.Application, spec ocsync.Spec, state ocsync.State) error {
	if app.Unusable != "" {
		return &ocsync.UnusableError{Name: app.Name, Reason: app.Unusable}
	}
	in, err := registerInput(r.cfg.Labels, r.cfg.Scope, r.cfg.IntegrationSystemID, app, spec, state)
	if err != nil {
		return err
	}
	r.registerCredential(app)
	o := callOptions{timeout: r.cfg.SpecTimeout, policy: retryConfirmed,
		confirm: func(ctx context.Context) (bool, error) { return r.lookup(ctx, app) }}
	err = r.call(ctx, "registerApplication", o, func(ctx context.Context) error {
		resp, err := director.RegisterApplication(ctx, r.client, in)
		if err != nil {
			return err
		}
		if resp.RegisterApplication == nil || ptr.Value(resp.RegisterApplication.Id) == "" {
			return malformed("registerApplication", "the answer holds no application id")
		}
		return nil
	})
	if errors.Is(err, ocsync.ErrConflict) {
		if h := r.holderOfName(ctx, app.Name); h != "" {
			err = fmt.Errorf("%w: the name is taken by %s", err, h)
		}
	}
	return err
}

// holderOfName says who holds the name a register was refused for, when
// it is another sync of the same host (see holder): one look-up by name,
// paid only for a refused register. It is a hint for the report, so a
// failed look-up leaves it empty and the refusal stands as it is.
func (r *Registry) holderOfName(ctx context.Context, name string) string {
	found, err := r.takenBatch(ctx, []string{NormalizeName(name)})
	if err != nil {
		return ""
	}
	for _, f := range found {
		if f.Holder != "" {
			return f.Holder
		}
	}
	return ""
}

// lookup reports whether an owned application named app.Name exists, by
// the identity label (or, without a key, by the Director's name label).
func (r *Registry) lookup(ctx context.Context, app ocsync.Application) (bool, error) {
	filter := director.LabelFilter{Key: r.cfg.Labels.Identity, Query: ptr.To(identityFilter(r.cfg.Scope.Context, r.cfg.Scope.Owner, app.Key))}
	if app.Key == "" {
		filter = director.LabelFilter{Key: "name", Query: ptr.To(jsonString(NormalizeName(app.Name)))}
	}
	items, err := r.list(ctx, []director.LabelFilter{filter})
	if err != nil {
		return false, err
	}
	for _, it := range items {
		if _, owned, _ := r.ownerOf(it.Labels); owned && *it.Name == app.Name {
			return true, nil
		}
	}
	return false, nil
}

// Delete unregisters the owned application cur. An application that is
// already gone is not an error. The Director refuses to unregister an
// application that is part of a formation; that refusal is returned as an
// *Error named InvalidOperation.
func (r *Registry) Delete(ctx context.Context, cur ocsync.Registered) error {
	if !cur.Owned {
		return fmt.Errorf("compass: application %s is not owned by this job: %w", cur.Name, ocsync.ErrConflict)
	}
	err := r.mutate(ctx, "unregisterApplication", r.cfg.Timeout, retryIdempotent, func(ctx context.Context) (*string, error) {
		resp, err := director.UnregisterApplication(ctx, r.client, cur.ID)
		if err != nil || resp.UnregisterApplication == nil {
			return nil, err
		}
		return resp.UnregisterApplication.Id, nil
	})
	if errors.Is(err, remote.ErrNotFound) {
		return nil
	}
	return err
}
