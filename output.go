package ocjob

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// Log formats of NewLogger.
const (
	// FormatAuto writes text to a terminal and JSON otherwise.
	FormatAuto = "auto"
	// FormatText is slog's text format.
	FormatText = "text"
	// FormatJSON is slog's JSON format.
	FormatJSON = "json"
)

// LevelTrace is the level of the original job's "Trace": below
// slog.LevelDebug. NewLogger shows it as TRACE.
const LevelTrace = slog.Level(-8)

// ParseLevel reads a level as the original job's logLevel spelt it,
// case-insensitively: Trace, Debug, Info (also ""), Warn (or Warning),
// Error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "trace":
		return LevelTrace, nil
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, errors.New("want Trace, Debug, Info, Warn or Error")
}

// ParseFormat reads a log format case-insensitively: FormatAuto (also
// ""), FormatText or FormatJSON.
func ParseFormat(s string) (string, error) {
	switch f := strings.ToLower(s); f {
	case "":
		return FormatAuto, nil
	case FormatAuto, FormatText, FormatJSON:
		return f, nil
	}
	return FormatAuto, fmt.Errorf("want %q, %q or %q", FormatAuto, FormatText, FormatJSON)
}

// NewLogger returns a logger writing to w at level in format (FormatAuto,
// FormatText or FormatJSON) with every message and attribute passed through
// scrubber (see redact.NewHandler): the logger of ocjob. Durations
// (slog.Duration, time.Duration values) are written in seconds, as
// numbers: "wait":0.25, not nanoseconds or "250ms".
func NewLogger(w io.Writer, level slog.Level, format string, scrubber *redact.Scrubber) *slog.Logger {
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey && len(groups) == 0 {
				if l, ok := a.Value.Any().(slog.Level); ok && l < slog.LevelDebug {
					a.Value = slog.StringValue("TRACE")
				}
			}
			if a.Value.Kind() == slog.KindDuration {
				a.Value = slog.Float64Value(a.Value.Duration().Seconds())
			}
			return a
		},
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == FormatText || (format == FormatAuto && isTerminal(w)) {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(redact.NewHandler(h, scrubber))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Document is the JSON document of one run (ocjob -output json): the
// version, the report's fields (dryRun, plan, results, summary; absent when
// no plan was made), the exit code and the run's errors.
type Document struct {
	// Version is the program's version.
	Version string `json:"version"`
	*ocsync.Report
	// ExitCode is the run's exit code.
	ExitCode int `json:"exitCode"`
	// Errors are the run's errors, one per problem.
	Errors []string `json:"errors,omitempty"`
}

// WriteDocument writes the Document of a run, indented, to w: rep and each
// of errs (the leaves of the run's joined error) pass through scrubber.
func WriteDocument(w io.Writer, version string, rep *ocsync.Report, errs []error, code int, scrubber *redact.Scrubber) error {
	doc := Document{Version: version, Report: rep.Scrub(scrubber), ExitCode: code}
	for _, e := range errs {
		doc.Errors = append(doc.Errors, scrubber.Scrub(e.Error()))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Leaves lists the errors joined in err (by errors.Join, recursively), each
// one a problem of its own; none for nil.
func Leaves(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, Leaves(e)...)
	}
	return out
}
