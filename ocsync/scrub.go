package ocsync

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// MinScrubLength is the shortest secret a Scrubber replaces: shorter values
// would match ordinary words. Configuration layers reject shorter secrets.
const MinScrubLength = 4

// MaxQuotedBytes is the longest piece of a remote's text (an error body, a
// GraphQL message) that errors and logs quote; Quote cuts longer text.
const MaxQuotedBytes = 512

// Scrubbed is what a Scrubber writes in place of a secret.
const Scrubbed = "[redacted]"

// Scrubber replaces every known secret value in text that came from outside
// (error bodies, GraphQL messages, error descriptions, header values), in the
// forms a server may echo it: as is, URL-encoded (query and path escaping),
// JSON-escaped, and base64-encoded (standard and URL alphabets, with and
// without padding). Clients register the secrets they send; one Scrubber
// shared by every client of a run knows them all. It is safe for concurrent
// use; a nil *Scrubber scrubs nothing.
type Scrubber struct {
	mu    sync.RWMutex
	known map[string]struct{}
	// The secret forms by their last bytes: each form under the suffix of
	// the longest of suffixLengths it can hold. Many secrets share a long
	// prefix (every composed Authorization value starts alike) but hardly
	// a suffix, so the lists stay short: Add costs only its own forms
	// however many secrets are known, and Scrub looks each position of the
	// text up once per suffix length.
	bySuffix [len(suffixLengths)]map[string][]string
}

// suffixLengths index the secret forms, longest first; the last is
// MinScrubLength.
var suffixLengths = [...]int{16, 8, MinScrubLength}

// NewScrubber returns a Scrubber that knows secrets.
func NewScrubber(secrets ...string) *Scrubber {
	s := &Scrubber{}
	s.Add(secrets...)
	return s
}

// Add registers secret values. Values shorter than MinScrubLength are
// ignored.
func (s *Scrubber) Add(secrets ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil {
		s.known = map[string]struct{}{}
		for i := range s.bySuffix {
			s.bySuffix[i] = map[string][]string{}
		}
	}
	for _, v := range secrets {
		if _, ok := s.known[v]; ok {
			continue // and so are its other forms
		}
		for _, form := range encodings(v) {
			if _, ok := s.known[form]; ok || len(form) < MinScrubLength {
				continue
			}
			s.known[form] = struct{}{}
			for i, n := range suffixLengths {
				if len(form) >= n {
					key := form[len(form)-n:]
					s.bySuffix[i][key] = append(s.bySuffix[i][key], form)
					break
				}
			}
		}
	}
}

// AddCredential registers an Authorization header value such as "User u,
// Organization o, Element t" or "Basic dXNlcjpwdw==": the whole value, and
// each comma-separated part's parameter after its scheme word (a part
// without one whole), so that an echo of any one of them is scrubbed too.
func (s *Scrubber) AddCredential(value string) {
	if s == nil || value == "" {
		return
	}
	s.Add(value)
	for part := range strings.SplitSeq(value, ",") {
		part = strings.TrimSpace(part)
		if _, param, ok := strings.Cut(part, " "); ok {
			part = strings.TrimSpace(param)
		}
		s.Add(part)
	}
}

// encodings lists the forms of v a server may echo.
func encodings(v string) []string {
	if len(v) < MinScrubLength {
		return nil
	}
	forms := []string{
		v,
		url.QueryEscape(v),
		url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)),
		base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)),
		base64.RawURLEncoding.EncodeToString([]byte(v)),
	}
	if b, err := json.Marshal(v); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	// encoding/json escapes <, > and & by default; a plain encoder does not.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		if t := strings.TrimSpace(b.String()); len(t) >= 2 {
			forms = append(forms, t[1:len(t)-1])
		}
	}
	// A JSON escaper that writes every non-ASCII rune as \uXXXX.
	forms = append(forms, asciiJSON(v))
	slices.Sort(forms)
	return slices.Compact(forms)
}

// asciiJSON escapes v as JSON string content with every non-ASCII rune as a
// \u escape, as some JSON encoders write it.
func asciiJSON(v string) string {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	s := string(b[1 : len(b)-1])
	var out strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			out.WriteRune(r)
			continue
		}
		for _, u := range utf16(r) {
			out.WriteString(`\u`)
			const hex = "0123456789abcdef"
			out.WriteByte(hex[u>>12&0xf])
			out.WriteByte(hex[u>>8&0xf])
			out.WriteByte(hex[u>>4&0xf])
			out.WriteByte(hex[u&0xf])
		}
	}
	return out.String()
}

func utf16(r rune) []uint16 {
	if r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xd800 + (r>>10)&0x3ff), uint16(0xdc00 + r&0x3ff)}
}

// Scrub returns text with every known secret replaced by Scrubbed. Where
// occurrences of secrets overlap, the whole stretch they cover is replaced,
// so no part of a secret is left.
func (s *Scrubber) Scrub(text string) string {
	if s == nil || len(text) < MinScrubLength {
		return text
	}
	s.mu.RLock()
	var spans [][2]int // [start, end) of each occurrence, by end
	if len(s.known) > 0 {
		for end := MinScrubLength; end <= len(text); end++ {
			for i, n := range suffixLengths {
				if end >= n {
					spans = occurrences(spans, text, end, s.bySuffix[i][text[end-n:end]])
				}
			}
		}
	}
	s.mu.RUnlock()
	if len(spans) == 0 {
		return text
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for i := 0; i < len(spans); {
		start, end := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] < end; i++ {
			end = max(end, spans[i][1])
		}
		b.WriteString(text[last:start])
		b.WriteString(Scrubbed)
		last = end
	}
	b.WriteString(text[last:])
	return b.String()
}

// occurrences appends the spans of the candidates that end at end in text.
func occurrences(spans [][2]int, text string, end int, candidates []string) [][2]int {
	for _, c := range candidates {
		if n := len(c); n <= end && text[end-n:end] == c {
			spans = append(spans, [2]int{end - n, end})
		}
	}
	return spans
}

// Quote returns a remote's text scrubbed and cut to at most MaxQuotedBytes
// (on a rune boundary, with "…" when cut), with line breaks and other control
// characters turned into spaces: the form in which errors and logs may quote
// what a server sent. The text is scrubbed before it is cut, so a secret
// that straddles the cut cannot leave a readable prefix.
func (s *Scrubber) Quote(text string) string {
	text = s.Scrub(text)
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, text)
	if len(text) <= MaxQuotedBytes {
		return text
	}
	cut := MaxQuotedBytes
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

// ScrubError returns an error whose message is err's with every known secret
// replaced. errors.Is and errors.As still see err's chain. nil stays nil,
// and err itself is returned when its message holds no secret.
func (s *Scrubber) ScrubError(err error) error {
	if err == nil || s == nil {
		return err
	}
	msg := err.Error()
	clean := s.Scrub(msg)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

// scrubbedError carries a scrubbed message over an error chain.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
