package compass

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/internal/transport"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// tenantTransport names the tenant in a "tenant" header on every request.
type tenantTransport struct {
	tenant string
	next   http.RoundTripper
}

func (t *tenantTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("tenant", t.tenant)
	return t.next.RoundTrip(r)
}

// tokenSource fetches one client-credentials token and reuses it until it
// expires. The fetch runs under the requesting context, so it is cancelled
// with the run, and the token client's timeout bounds it.
type tokenSource struct {
	cfg    clientcredentials.Config
	client *http.Client
	scrub  *redact.Scrubber

	mu      sync.Mutex
	tok     *oauth2.Token
	fetches int
}

func (s *tokenSource) token(ctx context.Context) (tok *oauth2.Token, fresh bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() {
		return s.tok, false, nil
	}
	tok, err = s.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, s.client))
	s.fetches++
	if err != nil {
		return nil, false, tokenError(s.scrub, s.cfg.TokenURL, err)
	}
	// Known before the token is first sent, so that an echo of it in any
	// answer is scrubbed.
	s.scrub.AddCredential("Bearer " + tok.AccessToken)
	s.tok = tok
	return tok, true, nil
}

// tokenAnswerTransport checks that a successful answer of the token
// endpoint holds a token before golang.org/x/oauth2 reads it: a JSON
// object with an access_token string, or, for a Content-Type of
// application/x-www-form-urlencoded or text/plain, a form with one. Any
// other answer is a *notTokenError (naming what it was, quoting nothing),
// so that a URL that is not a token endpoint is not taken for a network
// failure. An answer that names an OAuth2 error is left to oauth2, which
// reports it as such. It looks at bodies transport.Attempt read.
type tokenAnswerTransport struct {
	next http.RoundTripper
}

func (t *tokenAnswerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	b, ok := resp.Body.(*transport.Buffered)
	if !ok {
		return resp, nil
	}
	body, _ := io.ReadAll(b)
	_, _ = b.Seek(0, io.SeekStart)
	what := ""
	switch ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct {
	case "application/x-www-form-urlencoded", "text/plain":
		if v, perr := url.ParseQuery(string(body)); perr != nil || v.Get("access_token") == "" && v.Get("error") == "" {
			what = "a form without access_token"
		}
	default:
		var answer struct {
			AccessToken any `json:"access_token"`
			Error       any `json:"error"`
		}
		switch trimmed := bytes.TrimSpace(body); {
		case len(trimmed) == 0:
			what = "an empty body"
		case trimmed[0] != '{' || json.Unmarshal(trimmed, &answer) != nil:
			what = "a body that is not a JSON object"
		case answer.Error != nil:
		case answer.AccessToken == nil || answer.AccessToken == "":
			what = "a JSON object without access_token"
		default:
			if _, isString := answer.AccessToken.(string); !isString {
				what = "a JSON object whose access_token is not a string"
			}
		}
	}
	if what == "" {
		return resp, nil
	}
	_ = resp.Body.Close()
	return nil, &notTokenError{what: what}
}

// invalidate drops the cached token if it is still old.
func (s *tokenSource) invalidate(old *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == old {
		s.tok = nil
	}
}

// tokenTransport adds the bearer token to every request. When the Director
// rejects a cached token (HTTP 401, for example after it was revoked), the
// token is fetched again and the request sent once more.
type tokenTransport struct {
	src  *tokenSource
	next http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, fresh, err := t.src.token(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	tok.SetAuthHeader(r)
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || fresh || req.GetBody == nil && req.Body != nil {
		return resp, err
	}
	t.src.invalidate(tok)
	if tok, _, err = t.src.token(req.Context()); err != nil {
		return resp, nil
	}
	r = req.Clone(req.Context())
	if req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	tok.SetAuthHeader(r)
	return t.next.RoundTrip(r)
}

// legacyEscapeTransport protects request bodies from the Director's
// package-to-bundle shim, which replaces strings such as "packageID",
// "addPackage" or " packages: [" anywhere in the raw body. It escapes the
// first letter of every "ackage" (in any letter case) inside JSON strings as
// a \u escape, which the Director's JSON decoding turns back into the same
// character, so the value arrives unchanged and the shim finds nothing.
type legacyEscapeTransport struct {
	next http.RoundTripper
}

func (t *legacyEscapeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return t.next.RoundTrip(req)
	}
	body, err := transport.ReadAll(req.Body, req.ContentLength, -1)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	body = EscapeLegacyStrings(body)
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return t.next.RoundTrip(r)
}

// EscapeLegacyStrings returns the JSON document doc with the first letter of
// every case-insensitive "ackage" inside a JSON string written as a \u
// escape ("packageID" becomes "p\u0061ckageID"). The document decodes to the
// same value; the Director's legacy package-to-bundle rewrite, which works on
// raw request bytes, no longer matches. Existing escape sequences are kept
// as they are. doc is returned unchanged when there is nothing to escape.
func EscapeLegacyStrings(doc []byte) []byte {
	if !containsFold(doc, "ackage") {
		return doc
	}
	out := make([]byte, 0, len(doc)+64)
	inString := false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if !inString {
			out = append(out, c)
			inString = c == '"'
			continue
		}
		switch {
		case c == '\\':
			n := 2
			if i+1 < len(doc) && doc[i+1] == 'u' {
				n = 6
			}
			end := min(i+n, len(doc))
			out = append(out, doc[i:end]...)
			i = end - 1
		case c == '"':
			out = append(out, c)
			inString = false
		case (c == 'a' || c == 'A') && i+6 <= len(doc) && bytes.EqualFold(doc[i+1:i+6], ckage):
			out = fmt.Appendf(out, `\u%04x`, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

var ckage = []byte("ckage")

// containsFold reports whether b contains "a" or "A" followed by s (a
// lower-case ASCII word) in any letter case.
func containsFold(b []byte, s string) bool {
	if len(s) == 0 || (s[0] != 'a') {
		return false
	}
	rest := []byte(s[1:])
	for i := 0; i+len(s) <= len(b); i++ {
		if (b[i] == 'a' || b[i] == 'A') && bytes.EqualFold(b[i+1:i+len(s)], rest) {
			return true
		}
	}
	return false
}

// retryAfterTransport reads Retry-After on answers with a retryable status
// (transport.RetryAfter).
type retryAfterTransport struct {
	next http.RoundTripper
	now  func() time.Time
}

func (t *retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	wait, ok := transport.RetryAfter(resp, t.now())
	if !ok {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, endpoint.MaxErrorBodyBytes))
	_ = resp.Body.Close()
	return nil, &retryAfterError{status: resp.StatusCode, wait: wait}
}

// MaxResponseBytes bounds the body of one successful answer of the
// Director or the token endpoint (transport.Attempt reads it whole, and
// only the start of an error answer). A GraphQL answer of the Registry's
// operations holds ids, names and labels only (no spec document), so even
// a full page is far below it.
const MaxResponseBytes = 32 << 20
