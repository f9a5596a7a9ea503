// Package redact keeps secrets out of everything a program prints.
//
// A [Secret] is a string that fmt, slog and encoding/json all show as
// [Placeholder]; Reveal reads it where it must be sent. A [Scrubber] knows
// the secrets of a run (clients register what they send and what they learn:
// credentials, instance tokens, access tokens) and removes them, in the forms
// a server may echo them (URL-encoded, JSON-escaped at any depth up to three,
// base64), from any text a remote sent before it reaches an error, a report
// or a log. [Scrubber.Quote] also cuts such text to [MaxQuotedBytes].
// [NewHandler] puts a Scrubber in front of any slog.Handler.
//
// Secrets shorter than [MinLength] are not scrubbed (they would match
// ordinary words); configuration layers refuse them.
package redact
