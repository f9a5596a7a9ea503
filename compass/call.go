package compass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass/internal/director"
	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// retryPolicy says which failures of one operation are tried again.
type retryPolicy int

const (
	// noRetry: the operation is sent once (it is not idempotent and its
	// effect cannot be looked up).
	noRetry retryPolicy = iota
	// retryIdempotent: retryable failures are tried again.
	retryIdempotent
	// retryConfirmed: retryable failures and malformed answers leave the
	// outcome uncertain; confirm is asked whether the operation took effect
	// before it is sent again, and once more before giving up.
	retryConfirmed
)

// callOptions are the options of one call.
type callOptions struct {
	timeout time.Duration
	policy  retryPolicy
	// confirm reports whether an earlier attempt took effect after all
	// (retryConfirmed only).
	confirm func(ctx context.Context) (bool, error)
}

// call runs one GraphQL operation under its own timeout per attempt and
// classifies its error. It is the one retry loop of the Registry, under the
// shared policy (r.policy: at most MaxRetries further attempts, its waits,
// its warning per retry). The loop is written here, not in a RoundTripper
// under genqlient (which has no retry mechanism of its own), because
// whether to send again depends on what only the operation sees: GraphQL
// errors and malformed answers inside an HTTP 200, whether the operation is
// idempotent (every request is a POST), and, for registerApplication, a
// look-up that must confirm an uncertain attempt took no effect.
func (r *Registry) call(ctx context.Context, op string, o callOptions, fn func(context.Context) error) error {
	uncertain := false
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, o.timeout)
		start := time.Now()
		err := classify(ctx, r.scrub, op, fn(rctx))
		cancel()
		r.logCall(ctx, op, attempt, time.Since(start), err)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		switch o.policy {
		case noRetry:
			return err
		case retryIdempotent:
			if !remote.Retryable(err) || !r.policy.Again(attempt) {
				return afterAttempts(err, attempt)
			}
		case retryConfirmed:
			again := remote.Retryable(err) || errors.Is(err, ErrMalformed)
			if !again && !(uncertain && errors.Is(err, ocsync.ErrConflict)) {
				return err // a definite refusal
			}
			if !again || !r.policy.Again(attempt) {
				// A clash with itself, or out of attempts with the outcome
				// uncertain: an earlier attempt may have taken effect.
				if done, cerr := o.confirm(ctx); cerr == nil && done {
					return nil
				}
				return afterAttempts(err, attempt)
			}
			uncertain = true
			done, cerr := o.confirm(ctx)
			if cerr != nil {
				return fmt.Errorf("%w (and the look-up that would tell whether it took effect failed: %v)", err, cerr)
			}
			if done {
				return nil
			}
			if stillRunning(err) {
				// Our side (or the gateway) gave up, but the Director may
				// still be working on it (its own timeout is longer), and
				// it checks name uniqueness in code, not in the database:
				// a second attempt now could register the application
				// twice. The next run lists it, or creates it then.
				return fmt.Errorf("%w; not sent again in this run, since the Director may still be processing it", err)
			}
		}
		var retryAfter time.Duration
		var ce *Error
		if errors.As(err, &ce) {
			retryAfter = ce.RetryAfter
		}
		wait := r.policy.Wait(attempt, retryAfter)
		r.policy.LogRetry(ctx, "compass: retrying", attempt, err.Error(), wait, slog.String("operation", op))
		if werr := r.policy.Pause(ctx, wait); werr != nil {
			return fmt.Errorf("compass: %s: %w (last failure: %v)", op, werr, err)
		}
		r.retries.Add(1)
	}
}

// stillRunning reports a failure after which the Director may still be
// processing the request: our own timeout, or the gateway's (504).
func stillRunning(err error) bool {
	var ce *Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ce) && ce.StatusCode == http.StatusGatewayTimeout
}

// Retries returns how many Director requests were retried so far (one per
// retry, after the first attempt).
func (r *Registry) Retries() int64 { return r.retries.Load() }

func (r *Registry) logCall(ctx context.Context, op string, attempt int, d time.Duration, err error) {
	attrs := []slog.Attr{slog.String("operation", op), slog.Int("attempt", attempt), slog.Duration("duration", d)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	r.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "director request", attrs...)
}

func (r *Registry) query() callOptions {
	return callOptions{timeout: r.cfg.Timeout, policy: retryIdempotent}
}

// Viewer returns the id and type of the caller as the Director sees it (for
// an integration system, its id and INTEGRATION_SYSTEM). It is a cheap
// check of the credentials, the scopes and the tenant.
func (r *Registry) Viewer(ctx context.Context) (id, typ string, err error) {
	err = r.call(ctx, "viewer", r.query(), func(ctx context.Context) error {
		resp, err := director.Viewer(ctx, r.client)
		if err != nil {
			return err
		}
		if resp.Viewer == nil || ptr.Value(resp.Viewer.Id) == "" {
			return malformed("viewer", "the answer holds no viewer id")
		}
		id, typ = *resp.Viewer.Id, string(resp.Viewer.Type)
		return nil
	})
	return id, typ, err
}

// mutate runs a mutation whose answer must hold the id of the object it
// wrote; a null answer or an empty id is an error wrapping ErrMalformed.
func (r *Registry) mutate(ctx context.Context, op string, timeout time.Duration, policy retryPolicy, fn func(context.Context) (*string, error)) error {
	return r.call(ctx, op, callOptions{timeout: timeout, policy: policy}, func(ctx context.Context) error {
		id, err := fn(ctx)
		if err != nil {
			return err
		}
		if ptr.Value(id) == "" {
			return malformed(op, "the answer holds no id")
		}
		return nil
	})
}

// setLabel writes one label; the answer must name the label written.
func (r *Registry) setLabel(ctx context.Context, appID, key string, value any) error {
	raw := json.RawMessage(mustJSON(value))
	return r.call(ctx, "setApplicationLabel", r.query(), func(ctx context.Context) error {
		resp, err := director.SetApplicationLabel(ctx, r.client, appID, key, raw)
		if err != nil {
			return err
		}
		if resp.SetApplicationLabel == nil || ptr.Value(resp.SetApplicationLabel.Key) != key {
			return malformed("setApplicationLabel", "the answer does not hold the label written")
		}
		return nil
	})
}
