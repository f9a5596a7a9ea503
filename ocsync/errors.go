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
	// ErrUnusable reports a source object that cannot be mapped to an
	// application; its registered application, if any, is left as it is.
	ErrUnusable = errors.New("unusable source object")
	// ErrScopeMismatch reports a Source and a Registry that name different
	// scopes (see Scope).
	ErrScopeMismatch = errors.New("source and registry scopes differ")
	// ErrPlanInvalid reports a plan that Apply cannot carry out, for
	// example one decoded from JSON instead of made by Plan or Calculate.
	ErrPlanInvalid = errors.New("plan cannot be applied")
	// ErrDeadline reports that the run's deadline passed: no new change
	// was started after it.
	ErrDeadline = errors.New("run deadline passed")
	// ErrFatal marks a failure that affects the whole run, such as rejected
	// credentials or an unknown tenant. Apply starts no new item after one.
	ErrFatal = errors.New("fatal")
	// ErrPrepare is wrapped by the error of a run whose Controller.Prepare
	// failed: nothing was listed or changed.
	ErrPrepare = errors.New("preparing the run failed")
)

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
	// Digest is the plan's DeletionsDigest: approving it applies exactly
	// these deletions.
	Digest string
	// Refused is the digest that was offered for approval and did not
	// match; empty when none was offered.
	Refused string
	// SourceEmpty is true when the source listed no application while the
	// job owns some (see Guard.SourceEmpty).
	SourceEmpty bool
}

// Error says how many deletions were withheld and how to apply them.
func (e *GuardError) Error() string {
	if e.Refused != "" {
		return fmt.Sprintf("deletion guard: approval %s does not match the plan's deletions (%d of %d owned applications, digest %s); deletions withheld",
			e.Refused, e.Deletes, e.Owned, e.Digest)
	}
	if e.SourceEmpty {
		return fmt.Sprintf("deletion guard: the source listed no application while this job owns %d; deletions withheld: "+
			"check the source's selection (tags) and credentials, or approve digest %s (or force) if every application is to go",
			e.Owned, e.Digest)
	}
	return fmt.Sprintf("deletion guard: %d of %d owned applications would be deleted (limit %d%%); deletions withheld, approve digest %s (or force) to apply them",
		e.Deletes, e.Owned, e.MaxPercent, e.Digest)
}

// Is makes errors.Is(err, ErrGuardTripped) true.
func (e *GuardError) Is(target error) bool { return target == ErrGuardTripped }

// UnusableError reports a desired application whose source object cannot be
// mapped. It wraps ErrUnusable.
type UnusableError struct {
	// Name is the application name.
	Name string
	// Reason says what is wrong with the source object.
	Reason string
}

// Error names the application and the reason.
func (e *UnusableError) Error() string {
	return fmt.Sprintf("%s: source object unusable, application left as it is: %s", e.Name, e.Reason)
}

// Is makes errors.Is(err, ErrUnusable) true.
func (e *UnusableError) Is(target error) bool { return target == ErrUnusable }
