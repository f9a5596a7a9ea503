// Package endpoint holds the rules for reaching a remote API that every
// client of this module shares: which URLs are acceptable, which redirects
// may be followed, and which certificate authorities are trusted. Each rule
// exists here once; the openconnectors and compass clients and the job's
// configuration call it.
package endpoint

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// IsLoopback reports whether host (a host name or IP address, without port)
// names the local machine: localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// URLError is a URL that cannot be used. It never quotes the URL: a URL may
// carry credentials or tokens in its user info or query.
type URLError struct {
	// Problem says what is wrong.
	Problem string
}

// Error says what is wrong, without the URL.
func (e *URLError) Error() string { return e.Problem }

func urlError(format string, args ...any) error {
	return &URLError{Problem: fmt.Sprintf(format, args...)}
}

// ParseURL parses an absolute URL of a remote API: https, or plain http for
// loopback hosts only (how tests reach a fake), with a host, a valid port
// when one is given, and no user info, query or fragment. Errors never
// quote the URL.
func ParseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, urlError("missing value")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, urlError("bad URL: contains white space or control characters")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, urlError("bad URL: cannot be parsed")
	case u.Opaque != "":
		return nil, urlError("bad URL: want scheme://host")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, urlError("bad URL: want an https:// URL")
	case u.Hostname() == "":
		return nil, urlError("bad URL: no host")
	case u.User != nil:
		return nil, urlError("bad URL: credentials in the URL are not accepted")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, urlError("bad URL: a query is not accepted")
	case u.Fragment != "":
		return nil, urlError("bad URL: a fragment is not accepted")
	case u.Port() != "" && !validPort(u.Port()):
		return nil, urlError("bad URL: invalid port")
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		return nil, urlError("bad URL: plain http:// is accepted for loopback addresses only, use https://")
	}
	return u, nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 1<<16
}

// MaxErrorBodyBytes is how much of an answer that is not a success a client
// of this module reads: error bodies are small, and only their start is
// quoted (scrubbed, see redact.Scrubber.Quote).
const MaxErrorBodyBytes = 64 << 10

// MaxRedirects is how many redirects one request may follow.
const MaxRedirects = 5

// ErrRedirectRefused is wrapped by every error of CheckRedirect.
var ErrRedirectRefused = errors.New("redirect refused")

// CheckRedirect is the redirect policy of every client of this module, for
// http.Client.CheckRedirect. A redirect is followed only when it keeps the
// scheme (or upgrades http to https), the host and the port of the original
// request, and the request is a GET or HEAD: credentials are never sent to
// another location, and a request body is never sent again. A refused
// redirect is an error naming the location's host, never its path or query.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	first := via[0]
	to := req.URL
	where := fmt.Sprintf("redirect to host %q", to.Host)
	switch {
	case len(via) > MaxRedirects:
		return fmt.Errorf("%w: more than %d redirects (last: %s)", ErrRedirectRefused, MaxRedirects, where)
	case first.Method != http.MethodGet && first.Method != http.MethodHead:
		return fmt.Errorf("%w: %s answered a %s request; only GET and HEAD follow redirects", ErrRedirectRefused, where, first.Method)
	case to.Scheme != first.URL.Scheme && to.Scheme != "https":
		return fmt.Errorf("%w: %s would leave %s for %s", ErrRedirectRefused, where, first.URL.Scheme, to.Scheme)
	case !strings.EqualFold(to.Hostname(), first.URL.Hostname()) || effectivePort(to) != effectivePort(first.URL):
		return fmt.Errorf("%w: %s is not the configured host %q", ErrRedirectRefused, where, first.URL.Host)
	}
	return nil
}

// WithCaller returns CheckRedirect followed by the caller's own policy, when
// there is one: a redirect is followed only when both allow it. It is the
// CheckRedirect of a client made from a caller's http.Client.
func WithCaller(caller func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if err := CheckRedirect(req, via); err != nil {
			return err
		}
		if caller != nil {
			return caller(req, via)
		}
		return nil
	}
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}

// MaxCAFileBytes bounds a CA bundle file.
const MaxCAFileBytes = 4 << 20

// CertPool returns the system's certificate pool with the PEM certificates of
// caFile added; an empty caFile gives nil, which means the system pool. A
// missing, unreadable or oversized file, or one without a PEM certificate,
// is an error naming the file.
func CertPool(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	info, err := os.Stat(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file %s: %w", caFile, errors.Unwrap(err))
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("CA file %s: not a regular file", caFile)
	}
	if info.Size() > MaxCAFileBytes {
		return nil, fmt.Errorf("CA file %s: larger than %d bytes", caFile, MaxCAFileBytes)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file %s: %w", caFile, errors.Unwrap(err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate found", caFile)
	}
	return pool, nil
}

// Transport returns the transport of a client of this module: the default
// transport's proxy and dial settings, enough idle connections per host for
// parallel requests (so connections and TLS sessions are reused), TLS 1.2 or
// newer with certificate verification always on, and rootCAs as the trusted
// authorities (nil: the system's).
func Transport(rootCAs *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 0
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: rootCAs}
	t.TLSHandshakeTimeout = 10 * time.Second
	return t
}

// CheckHeaderToken reports a value that cannot be sent as one token of an
// HTTP header such as "Authorization: User <u>, Organization <o>, Element
// <t>" or the "tenant" header: empty, or holding a control character, white
// space or a comma, any of which would corrupt the header or let a value
// pass as another. The value is never part of the error.
func CheckHeaderToken(v string) error {
	switch {
	case v == "":
		return errors.New("is empty")
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }):
		return errors.New("contains a control character")
	case strings.ContainsFunc(v, unicode.IsSpace):
		return errors.New("contains white space")
	case strings.Contains(v, ","):
		return errors.New("contains a comma")
	case !utf8.ValidString(v):
		return errors.New("is not valid UTF-8")
	}
	return nil
}

// CheckSecret reports a secret that CheckHeaderToken refuses or that is
// shorter than redact.MinLength characters, which no Scrubber would
// hide from an error or a log record. It is the one rule for every secret a
// configuration accepts. The value is never part of the error.
func CheckSecret(v string) error {
	if err := CheckHeaderToken(v); err != nil {
		return err
	}
	// Runes, not bytes: a value of MinScrubLength runes has at least as many
	// bytes, and the Scrubber counts bytes.
	if utf8.RuneCountInString(v) < redact.MinLength {
		return fmt.Errorf("is shorter than %d characters", redact.MinLength)
	}
	return nil
}

// Redacted returns raw without user info, query and fragment, for messages:
// what is left (scheme, host and path) names the endpoint without carrying
// a credential. A URL that does not parse is "(unparsable URL)".
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// CleanError returns err with the URL of a *url.Error (what net/http returns
// for a failed request, a refused redirect included) reduced by Redacted, so
// that no query, token or user info reaches a message. The chain below the
// *url.Error is kept for errors.Is and errors.As.
func CleanError(err error) error {
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return err
	}
	return &cleanURLError{op: uerr.Op, url: Redacted(uerr.URL), err: uerr.Err}
}

type cleanURLError struct {
	op, url string
	err     error
}

func (e *cleanURLError) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.url, e.err) }
func (e *cleanURLError) Unwrap() error { return e.err }
