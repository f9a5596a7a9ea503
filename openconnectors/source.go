package openconnectors

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Values of the mapping that never change.
const (
	// ProviderName is the provider name of every application.
	ProviderName = "SAP Open Connectors"
	// SpecType is the API type of every spec.
	SpecType = "OPEN_API"
	// SpecFormat is the document format of every spec.
	SpecFormat = "JSON"
	// MaxNameRunes is the longest application name the Director accepts.
	MaxNameRunes = 100
	// MaxPrefixLen is the longest application prefix: it leaves room for
	// "-" and any int64 instance id within MaxNameRunes.
	MaxPrefixLen = MaxNameRunes - 1 - 19
	// maxDescriptionRunes is the Director's limit for descriptions.
	maxDescriptionRunes = 2000
	// maxASCIIName is the Director's limit for bundle and API names.
	maxASCIIName = 100
)

var _ ocsync.Source = (*Source)(nil)

// SourceOptions configures a Source.
type SourceOptions struct {
	// ApplicationPrefix starts every application name: <prefix>-<id>. It
	// must be lower-case letters, digits and single dashes, start with a
	// letter, not end with a dash, and be at most MaxPrefixLen long, so that
	// every name is valid for the Director and unique under its name
	// normalisation. Names of up to 36 characters also pass the rule of
	// Director versions older than 2021. Required.
	ApplicationPrefix string
}

// Validate reports an unusable prefix.
func (o SourceOptions) Validate() error {
	p := o.ApplicationPrefix
	switch {
	case p == "":
		return errors.New("openconnectors: ApplicationPrefix is required")
	case len(p) > MaxPrefixLen:
		return fmt.Errorf("openconnectors: ApplicationPrefix %q is longer than %d characters", p, MaxPrefixLen)
	case p[0] < 'a' || p[0] > 'z':
		return fmt.Errorf("openconnectors: ApplicationPrefix %q must start with a lower-case letter", p)
	case strings.HasSuffix(p, "-"):
		return fmt.Errorf("openconnectors: ApplicationPrefix %q must not end with a dash", p)
	case strings.Contains(p, "--"):
		return fmt.Errorf("openconnectors: ApplicationPrefix %q must not contain consecutive dashes", p)
	}
	for _, r := range p {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return fmt.Errorf("openconnectors: ApplicationPrefix %q may only hold lower-case letters, digits and dashes", p)
		}
	}
	return nil
}

// Source is the ocsync.Source of one Open Connectors tenant: one application
// per listed instance. It is safe for concurrent use.
type Source struct {
	client *Client
	opts   SourceOptions
}

// NewSource returns a Source reading through c. Options are checked by
// Applications (and can be checked earlier with SourceOptions.Validate).
func NewSource(c *Client, opts SourceOptions) *Source {
	return &Source{client: c, opts: opts}
}

// Context returns the client's context value: the host as configured (see
// Client.Context).
func (s *Source) Context() string { return s.client.Context() }

// Applications lists the instances and maps each to an application (see
// Source.Application). Invalid options are an error wrapping ocsync.ErrFatal.
func (s *Source) Applications(ctx context.Context) ([]ocsync.Application, error) {
	if err := s.opts.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ocsync.ErrFatal, err)
	}
	instances, err := s.client.Instances(ctx)
	if err != nil {
		return nil, err
	}
	apps := make([]ocsync.Application, 0, len(instances))
	for _, in := range instances {
		apps = append(apps, s.Application(in))
	}
	return apps, nil
}

// Application maps one instance per the product contract: name
// <prefix>-<id>, key the decimal id, description "SAP Open Connectors <E>:
// <N>", status CONNECTED or FAILED (disabled, invalid or incomplete), bundle
// the element key and API "<E>: <N>" as printable ASCII, target URL the
// client's base URL, revision the update date, and the credential
// "User <u>, Organization <o>, Element <token>".
func (s *Source) Application(in Instance) ocsync.Application {
	id := strconv.FormatInt(in.ID, 10)
	label := in.Element.Name + ": " + in.Name
	status := ocsync.StatusConnected
	if in.Disabled || !in.Valid || len(in.Missing) > 0 {
		status = ocsync.StatusFailed
	}
	cfg := s.client.cfg
	return ocsync.Application{
		Name: s.opts.ApplicationPrefix + "-" + id,
		Key:  id,
		Attributes: ocsync.Attributes{
			Description:  truncateRunes("SAP Open Connectors "+label, maxDescriptionRunes),
			ProviderName: ProviderName,
			Status:       status,
			Bundle:       PrintableASCII(in.Element.Key, maxASCIIName, "element-"+strconv.FormatInt(in.Element.ID, 10)),
			API:          PrintableASCII(label, maxASCIIName, "instance "+id),
			TargetURL:    s.client.BaseURL(),
			Revision:     in.UpdatedDate,
		},
		Credential: ocsync.Secret("User " + cfg.UserSecret.Reveal() + ", Organization " +
			cfg.OrganizationSecret.Reveal() + ", Element " + in.Token.Reveal()),
	}
}

// Spec loads the API document of app's instance (app.Key is the instance id).
func (s *Source) Spec(ctx context.Context, app ocsync.Application) (ocsync.Spec, error) {
	id, err := strconv.ParseInt(app.Key, 10, 64)
	if err != nil {
		return ocsync.Spec{}, fmt.Errorf("openconnectors: application %s: key %q is not an instance id", app.Name, app.Key)
	}
	data, err := s.client.Docs(ctx, id)
	if err != nil {
		return ocsync.Spec{}, err
	}
	return ocsync.Spec{Type: SpecType, Format: SpecFormat, Data: data}, nil
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// PrintableASCII turns s into a name of printable ASCII of at most n bytes,
// deterministically: letters with diacritics lose them (é → e), a few
// letters are spelled out (ß → ss, æ → ae, ø → o, ł → l), whitespace and
// control characters become single spaces, and each run of other characters
// becomes one "_". Leading and trailing spaces are removed. When no ASCII
// letter or digit is left, fallback is used instead (and "_" when the
// fallback has none either).
func PrintableASCII(s string, n int, fallback string) string {
	var b strings.Builder
	var last byte // class of what was written last: 0 nothing, ' ', '_' or 'c'
	for _, r := range norm.NFKD.String(s) {
		switch {
		case r >= 0x21 && r <= 0x7e:
			b.WriteRune(r)
			last = 'c'
		case unicode.IsSpace(r) || unicode.IsControl(r):
			if last != ' ' && last != 0 {
				b.WriteByte(' ')
				last = ' '
			}
		case unicode.Is(unicode.Mn, r):
			// a combining mark left over by the decomposition
		default:
			if t, ok := spelled[r]; ok {
				b.WriteString(t)
				last = 'c'
			} else if last != '_' {
				b.WriteByte('_')
				last = '_'
			}
		}
	}
	out := b.String()
	if len(out) > n {
		out = out[:n]
	}
	out = strings.TrimSpace(out)
	if !strings.ContainsFunc(out, isASCIIAlnum) {
		if fallback == "" {
			return "_"
		}
		return PrintableASCII(fallback, n, "")
	}
	return out
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// spelled transliterates letters that do not decompose.
var spelled = map[rune]string{
	'ß': "ss", 'ẞ': "SS", 'æ': "ae", 'Æ': "AE", 'œ': "oe", 'Œ': "OE",
	'ø': "o", 'Ø': "O", 'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D",
	'ð': "d", 'Ð': "D", 'þ': "th", 'Þ': "Th", 'ı': "i",
	'‘': "'", '’': "'", '“': "\"", '”': "\"", '–': "-", '—': "-", '…': "...",
}
