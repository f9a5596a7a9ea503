package redact

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
)

// NewHandler returns a handler that passes every record to h with its
// message, every string attribute (in groups, in values of LogValuers, and
// preset with WithAttrs) and every error replaced by its scrubbed form, and
// any other value rendered as a scrubbed string when its text or JSON form
// holds a secret. A nil scrubber scrubs nothing.
func NewHandler(h slog.Handler, scrubber *Scrubber) slog.Handler {
	return &scrubHandler{next: h, s: scrubber}
}

type scrubHandler struct {
	next slog.Handler
	s    *Scrubber
}

func (h *scrubHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.s.Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *scrubHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &scrubHandler{next: h.next.WithAttrs(clean), s: h.s}
}

func (h *scrubHandler) WithGroup(name string) slog.Handler {
	return &scrubHandler{next: h.next.WithGroup(h.s.Scrub(name)), s: h.s}
}

func (h *scrubHandler) attr(a slog.Attr) slog.Attr {
	return slog.Attr{Key: h.s.Scrub(a.Key), Value: h.value(a.Value)}
}

func (h *scrubHandler) value(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.s.Scrub(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, a := range group {
			clean[i] = h.attr(a)
		}
		return slog.GroupValue(clean...)
	case slog.KindAny:
		return h.anyValue(v)
	}
	return v
}

// anyValue scrubs a value of kind Any: an error becomes its scrubbed
// message; a []string is scrubbed element by element; anything else is
// kept unless one of the forms a handler may print it in (fmt's %+v, JSON,
// MarshalText) holds a secret, and then becomes the scrubbed %+v form.
func (h *scrubHandler) anyValue(v slog.Value) slog.Value {
	switch x := v.Any().(type) {
	case nil:
		return v
	case error:
		return slog.StringValue(h.s.Scrub(x.Error()))
	case []string:
		clean := slices.Clone(x)
		for i := range clean {
			clean[i] = h.s.Scrub(clean[i])
		}
		return slog.AnyValue(clean)
	default:
		text := fmt.Sprintf("%+v", x)
		forms := []string{text}
		if b, err := json.Marshal(x); err == nil {
			forms = append(forms, string(b))
		}
		if m, ok := x.(encoding.TextMarshaler); ok {
			if b, err := m.MarshalText(); err == nil {
				forms = append(forms, string(b))
			}
		}
		for _, f := range forms {
			if h.s.Scrub(f) != f {
				return slog.StringValue(h.s.Scrub(text))
			}
		}
		return v
	}
}
