package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Labels is the Director's Labels scalar: a JSON object from label key to any
// JSON value. Input must be an object or null.
type Labels map[string]any

// UnmarshalGQL implements graphql.Unmarshaler.
func (l *Labels) UnmarshalGQL(v any) error {
	switch m := v.(type) {
	case nil:
		*l = nil
		return nil
	case map[string]any:
		*l = m
		return nil
	default:
		return fmt.Errorf("unexpected Labels type: %T, should be map[string]interface{}", v)
	}
}

// MarshalGQL implements graphql.Marshaler.
func (l Labels) MarshalGQL(w io.Writer) { writeJSON(w, map[string]any(l)) }

// Headers is the Director's HttpHeaders and QueryParams scalar, a map from a
// name to its values. Like the Director's own decoder it accepts only a Go
// map[string][]string on input, which JSON decoding never produces, so every
// input in this form fails.
type Headers map[string][]string

// UnmarshalGQL implements graphql.Unmarshaler.
func (h *Headers) UnmarshalGQL(v any) error {
	m, ok := v.(map[string][]string)
	if !ok {
		return fmt.Errorf("unexpected input type: %T, should be map[string][]string", v)
	}
	*h = m
	return nil
}

// MarshalGQL implements graphql.Marshaler.
func (h Headers) MarshalGQL(w io.Writer) { writeJSON(w, map[string][]string(h)) }

// Timestamp is the Director's Timestamp scalar, written as RFC 3339 with whole
// seconds.
type Timestamp time.Time

// UnmarshalGQL implements graphql.Unmarshaler.
func (t *Timestamp) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("unexpected Timestamp type: %T, should be string", v)
	}
	parsed, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return err
	}
	*t = Timestamp(parsed)
	return nil
}

// MarshalGQL implements graphql.Marshaler.
func (t Timestamp) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(time.Time(t).Format(time.RFC3339)))
}

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = w.Write(b)
}
