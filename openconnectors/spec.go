package openconnectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

var openAPI3Version = regexp.MustCompile(`^3\.[0-9]+\.[0-9]+$`)

// ValidateSpec checks that data is a JSON object and a Swagger 2.0 document
// ("swagger": "2.0" with "info" and "paths" objects) or an OpenAPI 3 document
// ("openapi": "3.x.y" with an "info" object and at least one of "paths",
// "webhooks" or "components"). It does not validate the document further.
// An error about an unsupported version quotes the version, cut to 20
// characters; Client.Docs scrubs it of every known secret before it is cut,
// so that a secret is still recognised.
func ValidateSpec(data []byte) error { return validateSpec(data, nil) }

// validateSpec is ValidateSpec with the version text scrubbed by scrub (nil
// scrubs nothing) before it is cut: a cut secret would no longer be
// recognised, and its start would be quoted.
func validateSpec(data []byte, scrub *redact.Scrubber) error {
	trimmed := trimJSONSpace(data)
	if len(trimmed) == 0 {
		return errors.New("empty document")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return errors.New("not JSON")
		}
		return errors.New("not a JSON object")
	}
	var doc struct {
		Swagger    member `json:"swagger"`
		OpenAPI    member `json:"openapi"`
		Info       member `json:"info"`
		Paths      member `json:"paths"`
		Webhooks   member `json:"webhooks"`
		Components member `json:"components"`
	}
	if err := json.Unmarshal(trimmed, &doc); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fmt.Errorf("not JSON: %s at byte %d", syn.Error(), syn.Offset)
		}
		return fmt.Errorf("not JSON: %v", err)
	}
	swagger, openapi := doc.Swagger.text, doc.OpenAPI.text
	switch {
	case swagger == "2.0":
		if !doc.Info.isObject() {
			return errors.New(`a Swagger 2.0 document without an "info" object`)
		}
		if !doc.Paths.isObject() {
			return errors.New(`a Swagger 2.0 document without a "paths" object`)
		}
	case openAPI3Version.MatchString(openapi):
		if !doc.Info.isObject() {
			return errors.New(`an OpenAPI 3 document without an "info" object`)
		}
		if !doc.Paths.isObject() && !doc.Webhooks.isObject() && !doc.Components.isObject() {
			return errors.New(`an OpenAPI 3 document without "paths", "webhooks" or "components"`)
		}
	case swagger != "":
		return fmt.Errorf("unsupported swagger version %q", clip(scrub.Scrub(swagger), 20))
	case openapi != "":
		return fmt.Errorf("unsupported openapi version %q", clip(scrub.Scrub(openapi), 20))
	default:
		return errors.New(`neither a Swagger 2.0 nor an OpenAPI 3 document (no "swagger" or "openapi" field)`)
	}
	return nil
}

// member is one top-level value of a spec document as ValidateSpec needs
// it: whether it is an object, and its text when it is a string. Unlike a
// json.RawMessage it keeps no copy of the value, which for "paths" is
// nearly the whole document.
type member struct {
	object bool
	text   string
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *member) UnmarshalJSON(value []byte) error {
	*m = member{object: len(value) > 0 && value[0] == '{'}
	if len(value) > 0 && value[0] == '"' {
		// A string that does not decode leaves the text empty, as before.
		_ = json.Unmarshal(value, &m.text)
	}
	return nil
}

func (m member) isObject() bool { return m.object }

// clip cuts s to at most n runes, with "…" when cut, and makes runs of white
// space single spaces.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
