package ocjob

import (
	"errors"
	"fmt"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Limits of the settings of a job. Outside them a run is useless or harms
// the remotes: a loop that starts again at once hammers both APIs, a
// request timeout of a millisecond fails every request, one of an hour
// keeps a hung run from ending. Config.Validate and New refuse timeouts
// outside them, and the Controller of New refuses an interval below
// MinInterval; a program reports them under its own flags and keys.
const (
	// MinInterval is the shortest interval between the starts of two runs
	// of a service (Controller.MinInterval).
	MinInterval = 10 * time.Second
	// MinTimeout and MaxTimeout bound the per-request timeouts of both
	// clients (Timeout and SpecTimeout); 0 means the client's default.
	MinTimeout = 100 * time.Millisecond
	MaxTimeout = 10 * time.Minute
	// MinRunTimeout and MaxRunTimeout bound the deadline of one run
	// (Controller.RunTimeout).
	MinRunTimeout = time.Second
	MaxRunTimeout = 24 * time.Hour
)

// checkTimeouts returns a *remote.FieldError for each of a client's
// Timeout and SpecTimeout that is set but outside MinTimeout..MaxTimeout,
// joined; nil when there is none.
func checkTimeouts(timeout, spec time.Duration) error {
	var errs []error
	for i, d := range []time.Duration{timeout, spec} {
		field := [...]string{"Timeout", "SpecTimeout"}[i]
		if d != 0 && (d < MinTimeout || d > MaxTimeout) {
			errs = append(errs, &remote.FieldError{Field: field,
				Problem: fmt.Sprintf("value out of range: %v is not 0 (the default) or %v to %v", d, MinTimeout, MaxTimeout)})
		}
	}
	return errors.Join(errs...)
}

// CheckRunTimeout returns an error when d is outside
// MinRunTimeout..MaxRunTimeout.
func CheckRunTimeout(d time.Duration) error {
	if d < MinRunTimeout || d > MaxRunTimeout {
		return fmt.Errorf("value out of range: want a duration of %v to %v", MinRunTimeout, MaxRunTimeout)
	}
	return nil
}
