package openconnectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

var openAPI3Version = regexp.MustCompile(`^3\.[0-9]+\.[0-9]+$`)

// ValidateSpec checks that data is a JSON object and a Swagger 2.0 document
// ("swagger": "2.0" with "info" and "paths" objects) or an OpenAPI 3 document
// ("openapi": "3.x.y" with an "info" object and at least one of "paths",
// "webhooks" or "components"). It does not validate the document further.
func ValidateSpec(data []byte) error {
	trimmed := bytes.TrimSpace(data)
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
		Swagger    json.RawMessage `json:"swagger"`
		OpenAPI    json.RawMessage `json:"openapi"`
		Info       json.RawMessage `json:"info"`
		Paths      json.RawMessage `json:"paths"`
		Webhooks   json.RawMessage `json:"webhooks"`
		Components json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(trimmed, &doc); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fmt.Errorf("not JSON: %s at byte %d", syn.Error(), syn.Offset)
		}
		return fmt.Errorf("not JSON: %v", err)
	}
	swagger, openapi := jsonString(doc.Swagger), jsonString(doc.OpenAPI)
	switch {
	case swagger == "2.0":
		if !isObject(doc.Info) {
			return errors.New(`a Swagger 2.0 document without an "info" object`)
		}
		if !isObject(doc.Paths) {
			return errors.New(`a Swagger 2.0 document without a "paths" object`)
		}
	case openAPI3Version.MatchString(openapi):
		if !isObject(doc.Info) {
			return errors.New(`an OpenAPI 3 document without an "info" object`)
		}
		if !isObject(doc.Paths) && !isObject(doc.Webhooks) && !isObject(doc.Components) {
			return errors.New(`an OpenAPI 3 document without "paths", "webhooks" or "components"`)
		}
	case swagger != "":
		return fmt.Errorf("unsupported swagger version %q", clip(swagger, 20))
	case openapi != "":
		return fmt.Errorf("unsupported openapi version %q", clip(openapi, 20))
	default:
		return errors.New(`neither a Swagger 2.0 nor an OpenAPI 3 document (no "swagger" or "openapi" field)`)
	}
	return nil
}

func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
