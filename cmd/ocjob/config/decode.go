package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// file mirrors the JSON document. Keys match like encoding/json does: the
// exact tag first, then case-insensitively, as the original job accepted.
type file struct {
	LogLevel       string             `json:"logLevel"`
	LogFormat      string             `json:"logFormat"`
	Compass        compassFile        `json:"compass"`
	OpenConnectors openConnectorsFile `json:"openConnectors"`
	Sync           syncFile           `json:"sync"`
	Metrics        metricsFile        `json:"metrics"`
}

type compassFile struct {
	DirectorURL         string `json:"directorURL"`
	TenantID            string `json:"tenantId"`
	TokenURL            string `json:"tokenUrl"`
	ClientID            string `json:"clientID"`
	ClientSecret        string `json:"clientSecret"`
	ClientIDFile        string `json:"clientIDFile"`
	ClientSecretFile    string `json:"clientSecretFile"`
	ApplicationPrefix   string `json:"applicationPrefix"`
	TimeoutMills        int64  `json:"timeoutMills"`
	IntegrationSystemID string `json:"integrationSystemID"`
	PageSize            *int64 `json:"pageSize"`
	CAFile              string `json:"caFile"`
}

type openConnectorsFile struct {
	Hostname               string   `json:"hostname"`
	OrganizationSecret     string   `json:"organizationSecret"`
	UserSecret             string   `json:"userSecret"`
	OrganizationSecretFile string   `json:"organizationSecretFile"`
	UserSecretFile         string   `json:"userSecretFile"`
	TimeoutMills           int64    `json:"timeoutMills"`
	Tags                   []string `json:"tags"`
	PageSize               *int64   `json:"pageSize"`
	MaxSpecBytes           *int64   `json:"maxSpecBytes"`
	CAFile                 string   `json:"caFile"`
}

type syncFile struct {
	Owner               string `json:"owner"`
	Policy              string `json:"policy"`
	Concurrency         *int64 `json:"concurrency"`
	MaxDeletePercent    *int64 `json:"maxDeletePercent"`
	SpecRefreshInterval string `json:"specRefreshInterval"`
	RunTimeout          string `json:"runTimeout"`
}

type metricsFile struct {
	PushgatewayURL string `json:"pushgatewayURL"`
}

const problemUnknownKey = "unknown key"

// decode reads the JSON object in data into dst, a pointer to a struct like
// file, and reports every unknown key, every key given twice and every value
// of the wrong type by key path, in document order. No error repeats a
// value from the document.
func decode(data []byte, dst any) []error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return []error{syntaxError(data, err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return []error{&Error{Problem: "unexpected data after the JSON document"}}
	}
	return decodeObject("", raw, reflect.ValueOf(dst).Elem())
}

// syntaxError describes a malformed document by position only: the message
// of encoding/json quotes the offending character, which may belong to a
// secret.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		return &Error{Problem: fmt.Sprintf("not valid JSON: syntax error at line %d, column %d", line, col)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Problem: "not valid JSON: the document is empty or truncated"}
	}
	return &Error{Problem: "not valid JSON"}
}

func position(data []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// decodeObject decodes the JSON object raw into the struct v, member by
// member. It walks the object's tokens rather than unmarshalling it into a
// map, which would keep only the last of two members with the same key.
func decodeObject(path string, raw json.RawMessage, v reflect.Value) []error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	switch {
	case err != nil:
		return []error{&Error{Key: path, Problem: "not valid JSON"}}
	case tok == nil:
		return nil
	case tok != json.Delim('{'):
		return []error{wrongType(path, v.Type())}
	}

	t := v.Type()
	var errs []error
	given := map[int]string{}    // field index: the key that set it
	unknown := map[string]bool{} // unknown keys already reported
	for dec.More() {
		// raw is one valid JSON object (decode checked the document), so
		// neither call can fail; an error still ends the walk, reported.
		tok, err := dec.Token()
		key, isKey := tok.(string)
		var value json.RawMessage
		if err == nil && isKey {
			err = dec.Decode(&value)
		}
		if err != nil || !isKey {
			return append(errs, &Error{Key: path, Problem: "not valid JSON"})
		}

		i := fieldIndex(t, key)
		if i < 0 {
			if !unknown[key] {
				unknown[key] = true
				errs = append(errs, &Error{Key: joinKey(path, key), Problem: problemUnknownKey})
			}
			continue
		}
		name := joinKey(path, t.Field(i).Tag.Get("json"))
		if other, dup := given[i]; dup {
			problem := "given twice"
			if other != key {
				problem = fmt.Sprintf("given twice, as %q and %q", other, key)
			}
			errs = append(errs, &Error{Key: name, Problem: problem})
			continue
		}
		given[i] = key
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			errs = append(errs, decodeObject(name, value, fv)...)
			continue
		}
		if isNull(value) {
			continue
		}
		vd := json.NewDecoder(bytes.NewReader(value))
		vd.DisallowUnknownFields()
		if err := vd.Decode(fv.Addr().Interface()); err != nil {
			errs = append(errs, wrongType(name, fv.Type()))
		}
	}
	return errs
}

// fieldIndex finds the field for a JSON key: the exact tag, otherwise a
// case-insensitive match; -1 when there is none.
func fieldIndex(t reflect.Type, key string) int {
	fold := -1
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		if tag == key {
			return i
		}
		if fold < 0 && strings.EqualFold(tag, key) {
			fold = i
		}
	}
	return fold
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

func wrongType(path string, t reflect.Type) error {
	return &Error{Key: path, Problem: "wrong type: want " + describe(t)}
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describe(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "a "), "an ") + "s"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}
