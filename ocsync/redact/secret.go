package redact

import "log/slog"

// Secret is a string that never prints: fmt, slog and encoding/json all show it
// redacted. Use Reveal to read the value where it must be sent.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer with a redacted value.
func (s Secret) String() string { return Placeholder }

// GoString implements fmt.GoStringer with a redacted value, so %#v hides it too.
func (s Secret) GoString() string { return Placeholder }

// LogValue implements slog.LogValuer with a redacted value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Placeholder) }

// MarshalText implements encoding.TextMarshaler with a redacted value, so a
// Secret never reaches JSON output in clear.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Placeholder), nil }
