package redact

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// MinLength is the shortest secret a Scrubber replaces: shorter values
// would match ordinary words. Configuration layers reject shorter secrets.
const MinLength = 4

// MaxQuotedBytes is the longest piece of a remote's text (an error body, a
// GraphQL message) that errors and logs quote; Quote cuts longer text.
const MaxQuotedBytes = 512

// Placeholder is what a Scrubber writes in place of a secret.
const Placeholder = "[redacted]"

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
	// The secret forms by length, each length with a table of the forms
	// by their rolling hash (see hashWindow). Scrub slides one window per
	// distinct length over the text: its cost is the text's length times
	// the number of distinct lengths, whatever the secrets have in common
	// (a shared prefix or suffix costs nothing), and Add costs only its own
	// forms however many are known.
	byLen map[int]*lengthIndex
	lens  []int // the keys of byLen, ascending
	// filter has the bit hash&filterMask set for every form's hash, so most
	// windows are rejected without a map look-up.
	filter []uint64
}

// lengthIndex holds the secret forms of one length.
type lengthIndex struct {
	pow   uint64 // hashBase^(length-1), to roll the leading byte out
	forms map[uint64][]string
}

// hashBase is the multiplier of the rolling hash (arithmetic modulo 2^64).
// Collisions only cost a string comparison: every match is verified.
const hashBase = 0x100000001b3

// filterBits is the size of the bit filter.
const (
	filterBits = 1 << 18
	filterMask = filterBits - 1
)

// NewScrubber returns a Scrubber that knows secrets.
func NewScrubber(secrets ...string) *Scrubber {
	s := &Scrubber{}
	s.Add(secrets...)
	return s
}

// Add registers secret values. Values shorter than MinLength are
// ignored.
func (s *Scrubber) Add(secrets ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil {
		s.known = map[string]struct{}{}
		s.byLen = map[int]*lengthIndex{}
		s.filter = make([]uint64, filterBits/64)
	}
	for _, v := range secrets {
		if _, ok := s.known[v]; ok {
			continue // and so are its other forms
		}
		for _, form := range encodings(v) {
			if _, ok := s.known[form]; ok || len(form) < MinLength {
				continue
			}
			s.known[form] = struct{}{}
			idx := s.byLen[len(form)]
			if idx == nil {
				idx = &lengthIndex{pow: power(len(form) - 1), forms: map[uint64][]string{}}
				s.byLen[len(form)] = idx
				i, _ := slices.BinarySearch(s.lens, len(form))
				s.lens = slices.Insert(s.lens, i, len(form))
			}
			h := hashWindow(form)
			idx.forms[h] = append(idx.forms[h], form)
			s.filter[(h&filterMask)/64] |= 1 << (h & 63)
		}
	}
}

// hashWindow is the rolling hash of s: the sum of s[i]·hashBase^(len-1-i).
func hashWindow(s string) uint64 {
	var h uint64
	for i := 0; i < len(s); i++ {
		h = h*hashBase + uint64(s[i])
	}
	return h
}

// power is hashBase^n.
func power(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= hashBase
	}
	return p
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
	if len(v) < MinLength {
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
	// JSON-escaped forms need no entries: Scrub also reads the text with
	// its JSON escapes decoded, which finds every escaped form, mixed ones
	// included.
	slices.Sort(forms)
	return slices.Compact(forms)
}

// Scrub returns text with every known secret replaced by Placeholder. Where
// occurrences of secrets overlap, the whole stretch they cover is replaced,
// so no part of a secret is left.
func (s *Scrubber) Scrub(text string) string {
	if s == nil || len(text) < MinLength {
		return text
	}
	s.mu.RLock()
	var spans [][2]int // [start, end) of each occurrence
	for _, n := range s.lens {
		if n > len(text) {
			break
		}
		spans = s.occurrences(spans, text, n)
	}
	// A secret may also stand JSON-escaped in a way of its own (\/ for /,
	// \u002B for +, mixed at will), and JSON quoted in JSON is escaped
	// twice: look for every form in the text with its escapes decoded,
	// once and again up to maxUnescapes times, and map what is found back.
	view, at := text, []int(nil) // at nil: view is text
	for range maxUnescapes {
		if strings.IndexByte(view, '\\') < 0 {
			break
		}
		next, nextAt := unescapeJSON(view)
		if at != nil {
			for i, p := range nextAt {
				nextAt[i] = at[p]
			}
		}
		view, at = next, nextAt
		var found [][2]int
		for _, n := range s.lens {
			if n > len(view) {
				break
			}
			found = s.occurrences(found, view, n)
		}
		for _, f := range found {
			spans = append(spans, [2]int{at[f[0]], at[f[1]]})
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
		b.WriteString(Placeholder)
		last = end
	}
	b.WriteString(text[last:])
	return b.String()
}

// maxUnescapes is how many levels of JSON escaping Scrub looks through (a
// secret in JSON quoted in a JSON message quoted in a log line, say).
const maxUnescapes = 3

// unescapeJSON decodes the JSON string escapes in text (\" \\ \/ \b \f \n
// \r \t and \uXXXX, surrogate pairs included), leaving everything else as it
// is. at maps the decoded text back: the byte at view[i] comes from the text
// starting at at[i], and at[len(view)] is len(text).
func unescapeJSON(text string) (view string, at []int) {
	var b strings.Builder
	b.Grow(len(text))
	at = make([]int, 0, len(text)+1)
	emit := func(from int, bytes ...byte) {
		for _, c := range bytes {
			b.WriteByte(c)
			at = append(at, from)
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c != '\\' || i+1 >= len(text) {
			emit(i, c)
			i++
			continue
		}
		switch e := text[i+1]; e {
		case '"', '\\', '/':
			emit(i, e)
			i += 2
		case 'b', 'f', 'n', 'r', 't':
			emit(i, map[byte]byte{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}[e])
			i += 2
		case 'u':
			r, n := decodeUnicodeEscape(text[i:])
			if n == 0 {
				emit(i, c)
				i++
				continue
			}
			emit(i, []byte(string(r))...)
			i += n
		default:
			emit(i, c)
			i++
		}
	}
	return b.String(), append(at, len(text))
}

// decodeUnicodeEscape reads \uXXXX (or a surrogate pair of two) at the start
// of s and returns the rune and the bytes it took; 0 bytes when there is
// none.
func decodeUnicodeEscape(s string) (rune, int) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range s[2:6] {
			switch {
			case c >= '0' && c <= '9':
				r = r<<4 | (c - '0')
			case c >= 'a' && c <= 'f':
				r = r<<4 | (c - 'a' + 10)
			case c >= 'A' && c <= 'F':
				r = r<<4 | (c - 'A' + 10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(s[6:]); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

// occurrences appends the spans of the secret forms of length n in text,
// sliding the rolling hash over it. It must be called with s.mu held.
func (s *Scrubber) occurrences(spans [][2]int, text string, n int) [][2]int {
	idx := s.byLen[n]
	h := hashWindow(text[:n])
	for end := n; ; end++ {
		if s.filter[(h&filterMask)/64]&(1<<(h&63)) != 0 {
			for _, f := range idx.forms[h] {
				if text[end-n:end] == f {
					spans = append(spans, [2]int{end - n, end})
					break
				}
			}
		}
		if end == len(text) {
			return spans
		}
		h = (h-uint64(text[end-n])*idx.pow)*hashBase + uint64(text[end])
	}
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
	// The spaces put in may have made a secret of what was around them.
	text = s.Scrub(text)
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
