package transport

import (
	"bytes"
	"fmt"
	"html"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// MaxTitleBytes bounds the title of an HTML page that an error quotes.
const MaxTitleBytes = 120

// maxSniffBytes is how much of a body HTMLPage looks at for the title.
const maxSniffBytes = 16 << 10

// PageError reports an answer that is an HTML page where the API answers
// JSON: a web site or a login page at a wrong URL, a proxy's error page.
// It summarises the page by its status and its title, and never quotes
// the page itself.
type PageError struct {
	// StatusCode is the answer's HTTP status.
	StatusCode int
	// Title is the page's title, scrubbed and cut to MaxTitleBytes; empty
	// when it has none.
	Title string
	// URL is the request's URL without user info, query and fragment
	// (endpoint.Redacted), when PageCheck made the error; it is not part
	// of Error.
	URL string
}

// Summary says what was answered, without the status: `answered an HTML
// page titled "502 Bad Gateway"`.
func (e *PageError) Summary() string {
	if e.Title == "" {
		return "answered an HTML page"
	}
	return fmt.Sprintf("answered an HTML page titled %q", e.Title)
}

// Error is the summary with the status.
func (e *PageError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Summary(), e.StatusCode) }

// htmlStarts are the beginnings of a body that make it an HTML page
// whatever its Content-Type says.
var htmlStarts = []string{"<!doctype html", "<html", "<head", "<body", "<title", "<!--"}

// HTMLPage returns the *PageError of an answer whose body is an HTML page,
// and nil for any other: a body that starts (after white space and a byte
// order mark) with "<!doctype html", "<html", "<head", "<body", "<title"
// or "<!--", in any letter case, or with "<" when the Content-Type is
// text/html or application/xhtml+xml. The title is looked for in the first
// 16 KiB only, has its character references decoded and passes through
// Quote. This is the one rule by which both clients tell a page from an
// answer of their API.
func HTMLPage(q *redact.Scrubber, status int, h http.Header, body []byte) *PageError {
	body = bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(body) == 0 || body[0] != '<' {
		return nil
	}
	head := bytes.ToLower(body[:min(len(body), maxSniffBytes)])
	page := false
	for _, s := range htmlStarts {
		page = page || bytes.HasPrefix(head, []byte(s))
	}
	if ct, _, _ := mime.ParseMediaType(h.Get("Content-Type")); !page && ct != "text/html" && ct != "application/xhtml+xml" {
		return nil
	}
	return &PageError{StatusCode: status, Title: title(q, body, head)}
}

// title returns the text of the first <title> element of head (body
// lowered), read from body, for an error: decoded, scrubbed, cut.
func title(q *redact.Scrubber, body, head []byte) string {
	start := bytes.Index(head, []byte("<title"))
	if start < 0 {
		return ""
	}
	open := bytes.IndexByte(head[start:], '>')
	if open < 0 {
		return ""
	}
	start += open + 1
	end := bytes.Index(head[start:], []byte("</title"))
	if end < 0 {
		end = len(head) - start
	}
	t := Quote(q, html.UnescapeString(string(body[start:start+end])))
	if len(t) <= MaxTitleBytes {
		return t
	}
	cut := MaxTitleBytes
	for cut > 0 && !utf8.RuneStart(t[cut]) {
		cut--
	}
	return t[:cut] + "…"
}

// PageCheck is a round tripper that turns an answer that is an HTML page
// (HTMLPage) into a *PageError naming the request's URL, for a client
// whose library would read the page as JSON (genqlient, oauth2) and then
// report a syntax error or quote the page. It looks at bodies Attempt
// read (of an error answer, the start Attempt kept); any other answer
// passes unchanged.
type PageCheck struct {
	// Next sends the request.
	Next http.RoundTripper
	// Scrubber scrubs the title.
	Scrubber *redact.Scrubber
}

// RoundTrip implements http.RoundTripper.
func (t *PageCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.Next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	b, ok := resp.Body.(*Buffered)
	if !ok {
		return resp, nil
	}
	page := HTMLPage(t.Scrubber, resp.StatusCode, resp.Header, b.data)
	if page == nil {
		return resp, nil
	}
	_ = resp.Body.Close()
	page.URL = endpoint.Redacted(req.URL.String())
	return nil, page
}
