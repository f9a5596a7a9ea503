package compasstest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

var (
	labelKeyPattern   = regexp.MustCompile(`^[a-zA-Z0-9_]*$`)
	nonNamePattern    = regexp.MustCompile(`[^-a-z0-9]`)
	repeatedDashes    = regexp.MustCompile(`-+`)
	cursorPrefix      = "DpKtJ4j9jDq"
	scenariosLabelKey = "scenarios"
)

// NormalizeName returns the form the Director compares application names
// in: lower case, prefixed with "mp-", every character outside [-a-z0-9]
// replaced by "-", runs of "-" squeezed and a trailing "-" removed. A name
// that already has this form ("mp-…") is left as it is, so "mp-x" and "x"
// clash. Two names with the same normal form clash (NotUniqueName); the
// normal form is stored as the application's "name" label.
func NormalizeName(name string) string {
	if strings.HasPrefix(name, "mp-") && normalizeRaw(name) == name {
		return name
	}
	return normalizeRaw("mp-" + name)
}

func normalizeRaw(n string) string {
	n = nonNamePattern.ReplaceAllString(strings.ToLower(n), "-")
	n = repeatedDashes.ReplaceAllString(n, "-")
	return strings.TrimSuffix(n, "-")
}

// newID returns a random UUID (version 4) string.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// encodeCursor returns the opaque cursor for an offset, "" for offset 0.
func encodeCursor(offset int) string {
	if offset <= 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

// decodeCursor returns the offset a cursor stands for; "" is offset 0. A
// cursor may carry a "~" and a nonce after the offset (see EndlessCursor),
// which is ignored.
func decodeCursor(cursor string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	raw, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return 0, errInternal("cursor is not correct")
	}
	s, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, errInternal("cursor is not correct")
	}
	s, _, _ = strings.Cut(s, "~")
	offset, err := strconv.Atoi(s)
	if err != nil || offset < 0 {
		return 0, errInternal("cursor is not correct")
	}
	return offset, nil
}

// nonceCursor returns a cursor for offset that differs from every cursor
// returned before.
func nonceCursor(offset int, nonce int64) string {
	return base64.StdEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset) + "~" + strconv.FormatInt(nonce, 10)))
}

// pageBounds checks a page size and cursor and returns the offset and size.
func pageBounds(first *int, after *string) (offset, size int, err error) {
	if first == nil {
		return 0, 0, errInvalidData("missing required parameter 'first'")
	}
	if *first < 1 || *first > 200 {
		return 0, 0, errInvalidData("page size must be between 1 and 200")
	}
	if after != nil {
		offset, err = decodeCursor(*after)
		if err != nil {
			return 0, 0, err
		}
	}
	return offset, *first, nil
}

// normalizeJSON turns any Go value into the form JSON decoding with
// UseNumber produces (maps, slices, strings, json.Number, bools, nil).
func normalizeJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid character after top-level value")
	}
	return out, nil
}

// labelFilter is one parsed LabelFilter: the key must exist and, when query
// is set, the value must contain it.
type labelFilter struct {
	key      string
	query    any
	hasQuery bool
}

func parseFilter(key string, query *string) (labelFilter, error) {
	f := labelFilter{key: key}
	if query == nil {
		return f, nil
	}
	q, err := decodeJSON([]byte(*query))
	if err != nil {
		return f, errInternal(fmt.Sprintf("while listing: invalid input syntax for type json: %s", err))
	}
	f.query, f.hasQuery = q, true
	return f, nil
}

func (f labelFilter) matches(labels map[string]any) bool {
	v, ok := labels[f.key]
	if !ok {
		return false
	}
	return !f.hasQuery || jsonContains(v, f.query, true)
}

// jsonContains reports whether value contains query in the sense of
// PostgreSQL's jsonb @> operator: objects contain sub-objects, arrays contain
// arrays whose every element is contained in some element, primitives are
// equal, and at the top level an array contains a bare primitive.
func jsonContains(value, query any, top bool) bool {
	switch q := query.(type) {
	case map[string]any:
		v, ok := value.(map[string]any)
		if !ok {
			return false
		}
		for k, qv := range q {
			vv, ok := v[k]
			if !ok || !jsonContains(vv, qv, false) {
				return false
			}
		}
		return true
	case []any:
		v, ok := value.([]any)
		if !ok {
			return false
		}
		for _, qe := range q {
			if !arrayHas(v, qe) {
				return false
			}
		}
		return true
	default:
		if v, ok := value.([]any); ok && top {
			return arrayHas(v, query)
		}
		return primitiveEqual(value, query)
	}
}

func arrayHas(values []any, query any) bool {
	for _, v := range values {
		if jsonContains(v, query, false) {
			return true
		}
	}
	return false
}

func primitiveEqual(a, b any) bool {
	switch av := a.(type) {
	case json.Number:
		bv, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, okx := new(big.Rat).SetString(string(av))
		y, oky := new(big.Rat).SetString(string(bv))
		if !okx || !oky {
			return av == bv
		}
		return x.Cmp(y) == 0
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case nil:
		return b == nil
	default:
		return false
	}
}

// isEmptyValue reports whether a label value counts as empty for the
// Director's setApplicationLabel check.
func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case int:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	default:
		return false
	}
}
