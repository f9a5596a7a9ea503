package remote

import (
	"errors"
	"slices"
	"strings"
)

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

// ConfigError is the likely fix of a remote's answer that a configuration
// value most often causes: credentials the remote refused, a URL that
// answers an HTML page instead of the API, a token endpoint that answers
// no token. It names the fields of the client's Config to check, by their
// Go names (as FieldError.Field); a configuration layer names its own keys
// instead with Advice or Explain. The clients' errors carry it in their
// chain (errors.As) and end their text with its Error.
type ConfigError struct {
	// Config is the package whose Config holds Fields: "compass" or
	// "openconnectors".
	Config string
	// Fields are the fields to check, the most likely first.
	Fields []string
}

// Error says which fields to check: "check ClientID, ClientSecret and
// TokenURL (compass.Config)".
func (e *ConfigError) Error() string {
	return e.Check(func(field string) string { return field }) + " (" + e.Config + ".Config)"
}

// Check says which fields to check, each named by name(field).
func (e *ConfigError) Check(name func(field string) string) string {
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		if names[i] = name(f); names[i] == "" {
			names[i] = f
		}
	}
	switch len(names) {
	case 0:
		return "check the " + e.Config + " configuration"
	case 1:
		return "check " + names[0]
	}
	return "check " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Advice returns the advice of every *ConfigError in err's chain (through
// Unwrap() error and Unwrap() []error), once each, with each field named
// by name(Config, field); a name of "" keeps the Go name.
func Advice(err error, name func(config, field string) string) []string {
	var out []string
	for _, ce := range configErrors(err, nil) {
		if a := ce.Check(func(f string) string { return name(ce.Config, f) }); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// Explain returns err with a text whose advice of every *ConfigError
// names the fields by name(Config, field) instead of their Go names, for
// a configuration layer that names its own keys; errors.Is and errors.As
// still see err. It returns err itself when it holds no *ConfigError.
func Explain(err error, name func(config, field string) string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	for _, ce := range configErrors(err, nil) {
		text = strings.ReplaceAll(text, ce.Error(), ce.Check(func(f string) string { return name(ce.Config, f) }))
	}
	if text == err.Error() {
		return err
	}
	return &explained{text: text, err: err}
}

// explained is an error with another text.
type explained struct {
	text string
	err  error
}

func (e *explained) Error() string { return e.text }
func (e *explained) Unwrap() error { return e.err }

// configErrors appends the *ConfigError values of err's tree to out.
func configErrors(err error, out []*ConfigError) []*ConfigError {
	switch e := err.(type) {
	case nil:
		return out
	case *ConfigError:
		return append(out, e)
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			out = configErrors(inner, out)
		}
		return out
	case interface{ Unwrap() error }:
		return configErrors(e.Unwrap(), out)
	}
	return out
}
