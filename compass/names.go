package compass

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Limits the Director enforces (some only on top-level mutations, so the
// Registry enforces them itself for nested inputs).
const (
	maxAppName     = 100
	maxNameASCII   = 100
	maxDescription = 2000
	maxProvider    = 256
	maxTargetURL   = 256
)

// NormalizeName returns the key under which the Director checks application
// names for uniqueness within a tenant: the name lower-cased and prefixed
// with "mp-", every character other than a-z, 0-9 and "-" replaced by "-",
// runs of "-" squeezed and a trailing "-" removed. A name that already has
// this form is returned as is. Two names with the same key clash. Use it as
// ocsync.PlanOptions.NameKey or ocsync.Engine.NameKey.
func NormalizeName(name string) string {
	if strings.HasPrefix(name, "mp-") && normalize(name) == name {
		return name
	}
	return normalize("mp-" + name)
}

func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// asciiName makes s a valid bundle or API name: every character outside
// printable ASCII becomes "_", surrounding spaces are trimmed and the result
// is cut to 100 characters. An empty result becomes fallback (made valid the
// same way).
func asciiName(s, fallback string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		if r >= 0x20 && r <= 0x7e {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= maxNameASCII {
			break
		}
	}
	out := strings.TrimSpace(b.String())
	if out == "" && fallback != "" {
		return asciiName(fallback, "")
	}
	return out
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return s[:i]
}

// checkApplication validates what the Director would refuse, or not check,
// before anything is sent.
func checkApplication(app ocsync.Application) error {
	if n := utf8.RuneCountInString(app.Name); n == 0 || n > maxAppName {
		return fmt.Errorf("compass: application name must have 1..%d characters, got %d: %w", maxAppName, n, ocsync.ErrInvalidInput)
	}
	if err := checkTargetURL(app.TargetURL); err != nil {
		return err
	}
	switch app.Status {
	case "", ocsync.StatusConnected, ocsync.StatusFailed:
	default:
		if !validStatus(string(app.Status)) {
			return fmt.Errorf("compass: unknown application status %q: %w", app.Status, ocsync.ErrInvalidInput)
		}
	}
	return nil
}

// checkTargetURL accepts an absolute http or https URL of at most 256
// characters, which is what the Director's URL rule lets through.
func checkTargetURL(s string) error {
	if n := utf8.RuneCountInString(s); n == 0 || n > maxTargetURL {
		return fmt.Errorf("compass: target URL must have 1..%d characters, got %d: %w", maxTargetURL, n, ocsync.ErrInvalidInput)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("compass: target URL %q is not an absolute http(s) URL: %w", s, ocsync.ErrInvalidInput)
	}
	return nil
}

// checkSpec validates a spec document before it is sent: known type and
// format as the Director pairs them, content present, and valid UTF-8 (JSON
// cannot carry anything else byte for byte).
func checkSpec(spec ocsync.Spec) (typ, format string, err error) {
	typ, format = strings.ToUpper(spec.Type), strings.ToUpper(spec.Format)
	if typ == "" {
		typ = "OPEN_API"
	}
	if format == "" {
		format = "JSON"
	}
	ok := (typ == "OPEN_API" && (format == "JSON" || format == "YAML")) ||
		(typ == "ODATA" && (format == "XML" || format == "JSON"))
	switch {
	case !ok:
		return "", "", fmt.Errorf("compass: spec type %s with format %s is not accepted: %w", typ, format, ocsync.ErrInvalidSpec)
	case len(spec.Data) == 0:
		return "", "", fmt.Errorf("compass: spec document is empty: %w", ocsync.ErrInvalidSpec)
	case !utf8.Valid(spec.Data):
		return "", "", fmt.Errorf("compass: spec document is not valid UTF-8: %w", ocsync.ErrInvalidSpec)
	}
	return typ, format, nil
}

func validStatus(s string) bool {
	switch s {
	case "INITIAL", "CONNECTED", "FAILED", "CREATING", "CREATE_FAILED", "CREATE_SUCCEEDED", "UPDATING",
		"UPDATE_FAILED", "UPDATE_SUCCEEDED", "DELETING", "DELETE_FAILED", "DELETE_SUCCEEDED", "UNPAIRING", "UNPAIR_FAILED":
		return true
	}
	return false
}
