package ocsync

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with errors.Is; the errors the engine and the
// clients return wrap them.
var (
	// ErrListFailed reports that listing the source or the registry failed.
	// Nothing was changed.
	ErrListFailed = errors.New("listing failed")
	// ErrGuardTripped reports that the mass-deletion guard withheld deletions.
	ErrGuardTripped = errors.New("deletion guard tripped")
	// ErrConflict reports a name clash with an application the job does not own.
	ErrConflict = errors.New("conflict with an application not owned by this job")
	// ErrItemFailed reports that one item of a plan could not be applied.
	ErrItemFailed = errors.New("item failed")
	// ErrNotFound reports that an object does not exist in the target.
	ErrNotFound = errors.New("not found")
	// ErrInvalidSpec reports a spec document that is not acceptable (not JSON,
	// not an OpenAPI document, too large).
	ErrInvalidSpec = errors.New("invalid spec")
	// ErrInvalidInput reports a request the target refused as invalid.
	ErrInvalidInput = errors.New("invalid input")
	// ErrRetryable marks a failure that may succeed when tried again (network
	// errors, rate limits, server errors).
	ErrRetryable = errors.New("retryable")
	// ErrFatal marks a failure that affects the whole run, such as rejected
	// credentials or an unknown tenant. Apply starts no new item after one.
	ErrFatal = errors.New("fatal")
)

// Retryable reports whether err is marked as retryable.
func Retryable(err error) bool { return errors.Is(err, ErrRetryable) }

// ListError reports a failed listing of one side.
type ListError struct {
	// Side is "source" or "registry".
	Side string
	// Err is the cause.
	Err error
}

// Error names the side and the cause.
func (e *ListError) Error() string { return fmt.Sprintf("list %s: %v", e.Side, e.Err) }

// Unwrap returns the cause.
func (e *ListError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrListFailed) true.
func (e *ListError) Is(target error) bool { return target == ErrListFailed }

// ItemError reports the failure of one change of a plan.
type ItemError struct {
	// Name is the application name.
	Name string
	// Kind is the change kind that failed.
	Kind ChangeKind
	// Err is the cause.
	Err error
}

// Error names the change and the cause.
func (e *ItemError) Error() string { return fmt.Sprintf("%s %s: %v", e.Kind, e.Name, e.Err) }

// Unwrap returns the cause.
func (e *ItemError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrItemFailed) true.
func (e *ItemError) Is(target error) bool { return target == ErrItemFailed }

// GuardError reports that the deletion guard withheld deletions.
type GuardError struct {
	// Deletes is how many deletions were withheld.
	Deletes int
	// Owned is how many applications the job owns.
	Owned int
	// MaxPercent is the configured threshold.
	MaxPercent int
}

// Error says how many deletions were withheld and how to apply them.
func (e *GuardError) Error() string {
	return fmt.Sprintf("deletion guard: %d of %d owned applications would be deleted (limit %d%%); deletions withheld, run with force to apply them",
		e.Deletes, e.Owned, e.MaxPercent)
}

// Is makes errors.Is(err, ErrGuardTripped) true.
func (e *GuardError) Is(target error) bool { return target == ErrGuardTripped }
