// Package strictjson decodes a JSON document into a struct strictly: every
// unknown key, every key given twice (in the same or another letter case)
// and every value of the wrong type is a Problem named by its key path, in
// document order, and no Problem quotes a value of the document (which may
// be a secret). Keys match like encoding/json does: the exact tag first,
// then case-insensitively.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// UnknownKey is the Problem of a key the struct has no field for.
const UnknownKey = "unknown key"

// Problem is one problem with one key of a document.
type Problem struct {
	// Key is the key path, such as compass.pageSize; empty for the
	// document as a whole.
	Key string
	// Problem says what is wrong, never quoting a value.
	Problem string
}

// Error renders the key and the problem.
func (p *Problem) Error() string {
	if p.Key == "" {
		return p.Problem
	}
	return p.Key + ": " + p.Problem
}

// Decode reads the JSON object in data into dst, a pointer to a struct
// whose fields have json tags (a struct field is a nested object), and
// reports every unknown key, every key given twice and every value
// of the wrong type by key path, in document order. No error repeats a
// value from the document.
func Decode(data []byte, dst any) []*Problem {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return []*Problem{syntaxError(data, err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return []*Problem{&Problem{Problem: "unexpected data after the JSON document"}}
	}
	return decodeObject("", raw, reflect.ValueOf(dst).Elem())
}

// syntaxError describes a malformed document by position only: the message
// of encoding/json quotes the offending character, which may belong to a
// secret.
func syntaxError(data []byte, err error) *Problem {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		return &Problem{Problem: fmt.Sprintf("not valid JSON: syntax error at line %d, column %d", line, col)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Problem{Problem: "not valid JSON: the document is empty or truncated"}
	}
	return &Problem{Problem: "not valid JSON"}
}

func position(data []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// JoinKey is the path of key in the object at prefix.
func JoinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// decodeObject decodes the JSON object raw into the struct v, member by
// member. It walks the object's tokens rather than unmarshalling it into a
// map, which would keep only the last of two members with the same key.
func decodeObject(path string, raw json.RawMessage, v reflect.Value) []*Problem {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	switch {
	case err != nil:
		return []*Problem{&Problem{Key: path, Problem: "not valid JSON"}}
	case tok == nil:
		return nil
	case tok != json.Delim('{'):
		return []*Problem{wrongType(path, v.Type())}
	}

	t := v.Type()
	var errs []*Problem
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
			return append(errs, &Problem{Key: path, Problem: "not valid JSON"})
		}

		i := fieldIndex(t, key)
		if i < 0 {
			if !unknown[key] {
				unknown[key] = true
				errs = append(errs, &Problem{Key: JoinKey(path, key), Problem: UnknownKey})
			}
			continue
		}
		name := JoinKey(path, t.Field(i).Tag.Get("json"))
		if other, dup := given[i]; dup {
			problem := "given twice"
			if other != key {
				problem = fmt.Sprintf("given twice, as %q and %q", other, key)
			}
			errs = append(errs, &Problem{Key: name, Problem: problem})
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

func wrongType(path string, t reflect.Type) *Problem {
	return &Problem{Key: path, Problem: "wrong type: want " + describe(t)}
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

// KeyOrder returns the position of a key path in the schema of the struct
// type T (its json tags, depth first), so that problems found by different
// checks can be reported in the order of the keys. An index ("tags[2]")
// ranks with its key; a key outside the schema ranks last.
func KeyOrder[T any]() func(key string) int {
	rank := map[string]int{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			key := JoinKey(prefix, f.Tag.Get("json"))
			rank[key] = len(rank)
			if f.Type.Kind() == reflect.Struct {
				walk(key, f.Type)
			}
		}
	}
	walk("", reflect.TypeFor[T]())
	return func(key string) int {
		key, _, _ = strings.Cut(key, "[")
		if r, ok := rank[key]; ok {
			return r
		}
		return len(rank)
	}
}
