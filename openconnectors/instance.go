package openconnectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// Instance is a connector instance as the platform lists it. Only the fields
// the sync needs are kept; unknown fields are ignored.
type Instance struct {
	// ID is the instance id, always positive.
	ID int64 `json:"id"`
	// Name is the instance's display name.
	Name string `json:"name"`
	// Token is the instance token, the Element part of the Authorization
	// header for calls on behalf of the instance. It never prints.
	Token redact.Secret `json:"-"`
	// Element is the connector the instance belongs to.
	Element Element `json:"element"`
	// Tags are the instance's tags (the names of tags sent as objects). It
	// is nil when the item carried no tags array (the field absent or
	// null), and empty but not nil for an empty array: the listing's tag
	// filter trusts the server for an item without one (see
	// Client.Instances).
	Tags []string `json:"tags,omitempty"`
	// Disabled is true when the instance is switched off.
	Disabled bool `json:"disabled"`
	// Valid is false when the platform marks the instance invalid (its
	// provider authentication is not usable). An instance that does not
	// carry the field is taken as valid.
	Valid bool `json:"valid"`
	// UpdatedDate is the platform's update timestamp as sent (a number's
	// literal or a string), empty when absent.
	UpdatedDate string `json:"updatedDate,omitempty"`
}

// Element is the connector of an instance.
type Element struct {
	// ID is the connector id, zero when not sent.
	ID int64 `json:"id"`
	// Key is the connector key, for example "sfdc".
	Key string `json:"key"`
	// Name is the connector's display name.
	Name string `json:"name"`
}

// HasAnyTag reports whether the instance carries at least one of tags. With
// no tags given every instance matches. It looks at Tags only: an instance
// without a tags array carries none.
func (in Instance) HasAnyTag(tags []string) bool {
	if len(tags) == 0 {
		return true
	}
	for _, want := range tags {
		if slices.Contains(in.Tags, want) {
			return true
		}
	}
	return false
}

// Unusable says why the instance cannot be mapped to an application, ""
// when it can: a name that is empty (or only white space), a token or
// element key that is missing, a token or element key that cannot be one
// token of the Authorization header (white space, comma, control
// characters), or a token too short to be scrubbed from text reliably
// (endpoint.CheckSecret). The reason names the field, never the token's
// value.
func (in Instance) Unusable() string {
	switch {
	case strings.TrimSpace(in.Name) == "":
		return "name is missing or empty"
	case in.Token == "":
		return "token is missing or empty"
	case in.Element.Key == "":
		return "element.key is missing or empty"
	}
	if err := endpoint.CheckSecret(in.Token.Reveal()); err != nil {
		return "token " + err.Error() + ": it could not be kept out of logs, or would corrupt the Authorization header"
	}
	if err := endpoint.CheckHeaderToken(in.Element.Key); err != nil {
		return "element.key " + err.Error()
	}
	return ""
}

// same reports whether two decodings of one id carry the same values.
func (in Instance) same(other Instance) bool {
	return in.ID == other.ID && in.Name == other.Name && in.Token == other.Token && in.Element == other.Element &&
		slices.Equal(in.Tags, other.Tags) && in.Disabled == other.Disabled && in.Valid == other.Valid &&
		in.UpdatedDate == other.UpdatedDate
}

// decodePage decodes one listing page: a JSON array of instance objects.
// Anything else, and any item decodeInstance refuses, fails the whole page
// with an error naming what was wrong (and the item's index); a failed page
// never yields instances.
func decodePage(body []byte) ([]Instance, error) {
	body = trimJSONSpace(body)
	if kind := kindOf(body); kind != "an array" {
		return nil, fmt.Errorf("body is %s, want a JSON array of instances", kind)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("body is not a JSON array of instances: %s", syntaxProblem(err))
	}
	out := make([]Instance, 0, len(items))
	for i, raw := range items {
		in, err := decodeInstance(raw)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		out = append(out, in)
	}
	return out, nil
}

// wireInstance is an instance object as sent, each known field kept raw to
// be type-checked.
type wireInstance struct {
	ID          json.RawMessage `json:"id"`
	Name        json.RawMessage `json:"name"`
	Token       json.RawMessage `json:"token"`
	Element     json.RawMessage `json:"element"`
	Tags        json.RawMessage `json:"tags"`
	Disabled    json.RawMessage `json:"disabled"`
	Valid       json.RawMessage `json:"valid"`
	UpdatedDate json.RawMessage `json:"updatedDate"`
}

type wireElement struct {
	ID   json.RawMessage `json:"id"`
	Key  json.RawMessage `json:"key"`
	Name json.RawMessage `json:"name"`
}

type wireTag struct {
	ID   json.RawMessage `json:"id"`
	Name json.RawMessage `json:"name"`
}

// decodeInstance decodes one item of a listing strictly: it must be a JSON
// object with an id that is a positive integer within int64 (a number, or a
// string holding one, in plain decimal digits), and every known field must
// have its JSON type or be null (name, token, element.key, element.name:
// string; element: object; element.id: a non-negative integer; tags: array
// of strings or {id, name} objects; disabled, valid: boolean; updatedDate:
// number or string). Unknown fields are ignored. Errors name the field and
// never quote a value.
func decodeInstance(raw json.RawMessage) (Instance, error) {
	raw = trimJSONSpace(raw)
	if kind := kindOf(raw); kind != "an object" {
		return Instance{}, fmt.Errorf("is %s, want an instance object", kind)
	}
	var w wireInstance
	if err := json.Unmarshal(raw, &w); err != nil {
		return Instance{}, fmt.Errorf("not an instance object: %s", syntaxProblem(err))
	}
	id, err := decodeInteger(w.ID, true)
	if err != nil {
		return Instance{}, fmt.Errorf("id: %w", err)
	}
	in := Instance{ID: id, Valid: true}
	fail := func(field string, err error) (Instance, error) {
		return Instance{}, fmt.Errorf("instance %d: %s: %w", id, field, err)
	}
	if in.Name, err = optString(w.Name); err != nil {
		return fail("name", err)
	}
	token, err := optString(w.Token)
	if err != nil {
		return fail("token", err)
	}
	in.Token = redact.Secret(token)
	if !isNull(w.Element) {
		if kind := kindOf(w.Element); kind != "an object" {
			return fail("element", fmt.Errorf("is %s, want an object", kind))
		}
		var we wireElement
		if err := json.Unmarshal(w.Element, &we); err != nil {
			return fail("element", errors.New(syntaxProblem(err)))
		}
		if !isNull(we.ID) {
			if in.Element.ID, err = decodeInteger(we.ID, false); err != nil {
				return fail("element.id", err)
			}
		}
		if in.Element.Key, err = optString(we.Key); err != nil {
			return fail("element.key", err)
		}
		if in.Element.Name, err = optString(we.Name); err != nil {
			return fail("element.name", err)
		}
	}
	if in.Tags, err = decodeTags(w.Tags); err != nil {
		return fail("tags", err)
	}
	if in.Disabled, err = optBool(w.Disabled, false); err != nil {
		return fail("disabled", err)
	}
	if in.Valid, err = optBool(w.Valid, true); err != nil {
		return fail("valid", err)
	}
	switch kind := kindOf(w.UpdatedDate); kind {
	case "absent", "null":
	case "a number":
		in.UpdatedDate = string(w.UpdatedDate)
	case "a string":
		in.UpdatedDate, _ = optString(w.UpdatedDate)
	default:
		return fail("updatedDate", fmt.Errorf("is %s, want a number or a string", kind))
	}
	return in, nil
}

// decodeTags reads a tags array: strings, or objects {id, name} with a
// string name. Absent or null is nil; an array, even an empty one, is not.
func decodeTags(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	if kind := kindOf(raw); kind != "an array" {
		return nil, fmt.Errorf("is %s, want an array", kind)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New(syntaxProblem(err))
	}
	tags := make([]string, 0, len(items))
	for i, item := range items {
		switch kind := kindOf(item); kind {
		case "a string":
			s, _ := optString(item)
			tags = append(tags, s)
		case "an object":
			var t wireTag
			if err := json.Unmarshal(item, &t); err != nil {
				return nil, fmt.Errorf("[%d]: %s", i, syntaxProblem(err))
			}
			if k := kindOf(t.Name); k != "a string" {
				return nil, fmt.Errorf("[%d]: a tag object's name is %s, want a string", i, k)
			}
			if k := kindOf(t.ID); k != "absent" && k != "null" && k != "a number" && k != "a string" {
				return nil, fmt.Errorf("[%d]: a tag object's id is %s, want a number or a string", i, k)
			}
			s, _ := optString(t.Name)
			tags = append(tags, s)
		default:
			return nil, fmt.Errorf("[%d] is %s, want a string or an object {id, name}", i, kind)
		}
	}
	return tags, nil
}

// decodeInteger reads an id: a JSON number or string holding plain decimal
// digits without sign, fraction, exponent or leading zeros, within int64;
// positive when positive is set, else zero is allowed too.
func decodeInteger(raw json.RawMessage, positive bool) (int64, error) {
	var text string
	switch kind := kindOf(raw); kind {
	case "absent", "null":
		return 0, errors.New("is missing")
	case "a number":
		text = string(raw)
	case "a string":
		if json.Unmarshal(raw, &text) != nil {
			return 0, errors.New("is not a valid JSON string")
		}
	default:
		return 0, fmt.Errorf("is %s, want an integer", kind)
	}
	want := "a non-negative integer"
	if positive {
		want = "a positive integer"
	}
	switch {
	case text == "":
		return 0, fmt.Errorf("is empty, want %s", want)
	case text[0] == '-':
		return 0, fmt.Errorf("is negative, want %s", want)
	case strings.ContainsAny(text, ".eE"):
		return 0, fmt.Errorf("has a fraction or an exponent, want %s", want)
	case strings.Trim(text, "0123456789") != "":
		return 0, fmt.Errorf("is not a number in decimal digits, want %s", want)
	case text == "0":
		if positive {
			return 0, fmt.Errorf("is zero, want %s", want)
		}
		return 0, nil
	case text[0] == '0':
		return 0, fmt.Errorf("has a leading zero, want %s", want)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("is larger than the int64 range, want %s", want)
	}
	return n, nil
}

// optString reads a string that may be absent or null ("").
func optString(raw json.RawMessage) (string, error) {
	switch kind := kindOf(raw); kind {
	case "absent", "null":
		return "", nil
	case "a string":
		raw = trimJSONSpace(raw)
		// The page was validated as a whole: a string without escapes is
		// its bytes, when they are valid UTF-8 (encoding/json would
		// replace invalid bytes).
		if n := len(raw); n >= 2 && raw[n-1] == '"' {
			if inner := raw[1 : n-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
				return string(inner), nil
			}
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errors.New("is not a valid JSON string")
		}
		return s, nil
	default:
		return "", fmt.Errorf("is %s, want a string", kind)
	}
}

// optBool reads a boolean that may be absent or null (def).
func optBool(raw json.RawMessage, def bool) (bool, error) {
	switch kind := kindOf(raw); kind {
	case "absent", "null":
		return def, nil
	case "a boolean":
		return raw[0] == 't', nil
	default:
		return def, fmt.Errorf("is %s, want a boolean", kind)
	}
}

func isNull(raw json.RawMessage) bool {
	k := kindOf(raw)
	return k == "absent" || k == "null"
}

// kindOf names the JSON type of a value that encoding/json has already
// found well-formed (or of a whole body, where it may not be JSON at all).
func kindOf(raw []byte) string {
	raw = trimJSONSpace(raw)
	if len(raw) == 0 {
		return "absent"
	}
	switch c := raw[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		if json.Valid(raw) {
			return "a boolean"
		}
	case c == 'n':
		if json.Valid(raw) {
			return "null"
		}
	case c == '-' || c >= '0' && c <= '9':
		if json.Valid(raw) {
			return "a number"
		}
	}
	return "not JSON"
}

// trimJSONSpace removes what JSON counts as white space (space, tab, line
// feed, carriage return) from both ends; other Unicode spaces stay and make
// the value invalid, as they do for encoding/json.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\n\r")
}

// syntaxProblem describes a decoding error without quoting the input.
func syntaxProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "truncated JSON"
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s where %s was expected", typ.Value, typ.Type)
	}
	return "invalid JSON"
}
