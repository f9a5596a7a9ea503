package remote

import "errors"

// The classes of failure the clients of this module report. Test for them
// with errors.Is; the clients' errors wrap them.
var (
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
)

// Retryable reports whether err is marked as retryable.
func Retryable(err error) bool { return errors.Is(err, ErrRetryable) }

// FieldError is one invalid field of a library configuration (a Config or an
// options struct). Field is the Go field name, with an index for slices
// ("Tags[2]"); Problem never holds a secret value. Configuration layers map
// Field to their own key names with errors.As.
type FieldError struct {
	// Field names the field.
	Field string
	// Problem says what is wrong.
	Problem string
}

// Error renders the field and the problem.
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }
