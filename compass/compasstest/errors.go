package compasstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ErrorCode is a Director error code, as sent in extensions.error_code of a
// GraphQL error; its String form is sent in extensions.error.
type ErrorCode int

// The Director's error codes.
const (
	InternalError       ErrorCode = 10
	UnknownError        ErrorCode = 11
	NotFound            ErrorCode = 20
	NotUnique           ErrorCode = 21
	InvalidData         ErrorCode = 22
	InsufficientScopes  ErrorCode = 23
	TenantRequired      ErrorCode = 24
	TenantNotFound      ErrorCode = 25
	Unauthorized        ErrorCode = 26
	InvalidOperation    ErrorCode = 27
	OperationTimeout    ErrorCode = 28
	EmptyData           ErrorCode = 29
	InconsistentData    ErrorCode = 30
	NotUniqueName       ErrorCode = 31
	ConcurrentOperation ErrorCode = 32
)

var codeNames = map[ErrorCode]string{
	InternalError:       "InternalError",
	UnknownError:        "UnknownError",
	NotFound:            "NotFound",
	NotUnique:           "NotUnique",
	InvalidData:         "InvalidData",
	InsufficientScopes:  "InsufficientScopes",
	TenantRequired:      "TenantRequired",
	TenantNotFound:      "TenantNotFound",
	Unauthorized:        "Unauthorized",
	InvalidOperation:    "InvalidOperation",
	OperationTimeout:    "OperationTimeout",
	EmptyData:           "EmptyData",
	InconsistentData:    "InconsistentData",
	NotUniqueName:       "NotUniqueName",
	ConcurrentOperation: "ConcurrentOperation",
}

// String returns the name the Director sends in extensions.error.
func (c ErrorCode) String() string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return fmt.Sprintf("ErrorType(%d)", int(c))
}

// directorError is an application error of the fake Director, shaped like
// the Director's apperrors.Error: a base message and sorted arguments.
type directorError struct {
	code    ErrorCode
	message string
	args    map[string]string
}

func (e *directorError) Error() string {
	if len(e.args) == 0 {
		return e.message
	}
	keys := make([]string, 0, len(e.args))
	for k := range e.args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(e.message)
	b.WriteString(" [")
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(e.args[k])
	}
	b.WriteByte(']')
	return b.String()
}

func newError(code ErrorCode, message string, args map[string]string) *directorError {
	return &directorError{code: code, message: message, args: args}
}

func errNotFound(object, id string) error {
	args := map[string]string{"object": object}
	if id != "" {
		args["ID"] = id
	}
	return newError(NotFound, "Object not found", args)
}

func errInvalidData(reason string) error {
	return newError(InvalidData, "Invalid data", map[string]string{"reason": reason})
}

func errInvalidInput(inputType string, fields map[string]string) error {
	return newError(InvalidData, "Invalid data "+inputType, fields)
}

func errNotUniqueName() error {
	return newError(NotUniqueName, "Object name is not unique", map[string]string{"object": "application"})
}

func errInternal(reason string) error {
	return newError(InternalError, "Internal Server Error: "+reason, nil)
}

func errTenantRequired() error { return newError(TenantRequired, "Tenant is required", nil) }

func errTenantNotFound(tenant string) error {
	return newError(TenantNotFound, "Tenant not found", map[string]string{"externalTenant": tenant})
}

func errInsufficientScopes(required, actual []string) error {
	return newError(InsufficientScopes, "insufficient scopes provided", map[string]string{
		"required": strings.Join(required, ";"),
		"actual":   strings.Join(actual, ";"),
	})
}

func errUnauthorized(reason string) error {
	return newError(Unauthorized, "Unauthorized", map[string]string{"reason": reason})
}

func errInvalidOperation(reason string) error {
	return newError(InvalidOperation, "The operation is not allowed", map[string]string{"reason": reason})
}

// injectedError builds the error a Fault with a Director code answers with.
func injectedError(code ErrorCode, message string) error {
	if message != "" {
		return newError(code, message, nil)
	}
	switch code {
	case NotUniqueName:
		return errNotUniqueName()
	case NotFound:
		return errNotFound("application", "")
	case InvalidData:
		return errInvalidData("injected")
	case TenantRequired:
		return errTenantRequired()
	case InsufficientScopes:
		return errInsufficientScopes([]string{"injected"}, nil)
	case InternalError:
		return errInternal("injected")
	default:
		return newError(code, "injected "+code.String(), nil)
	}
}

// presentError turns any resolver, directive or validation error into the
// Director's error shape: known errors keep their code and message, internal
// errors hide their cause behind an error id, and every other error (schema
// violations, scalar decoding failures) becomes an InternalError that names
// its reason.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	code := InternalError
	var message string
	var de *directorError
	switch {
	case errors.As(err, &de) && de.code == InternalError:
		message = fmt.Sprintf("Internal Server Error [errorID=%s]", newID())
	case de != nil:
		code = de.code
		message = de.Error()
	default:
		reason := err.Error()
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			reason = ge.Message
		}
		message = fmt.Sprintf("Internal Server Error [errorID=%s, reason: %s]", newID(), reason)
	}
	out := &gqlerror.Error{
		Message:    message + callerFrom(ctx).echo,
		Extensions: map[string]any{"error_code": int(code), "error": code.String()},
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		out.Path = fc.Path()
	}
	var ge *gqlerror.Error
	if len(out.Path) == 0 && errors.As(err, &ge) {
		out.Path = ge.Path
	}
	return out
}

// errorBody is the body of an HTTP-level error response, shaped like a
// GraphQL response with one error.
type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// writeHTTPError writes a Director error outside GraphQL execution, as the
// Director's middlewares do.
func writeHTTPError(w http.ResponseWriter, status int, err error, echo string) {
	code := InternalError
	var de *directorError
	if errors.As(err, &de) {
		code = de.code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Errors: []errorEntry{{
		Message:    err.Error() + echo,
		Extensions: map[string]any{"error_code": int(code), "error": code.String()},
	}}})
}

func asDirector(err error, target **directorError) bool { return errors.As(err, target) }
