package compass

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kyma-incubator/open-connectors-job/compass/internal/director"
	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// This file is the whole mapping of an ocsync.Application to the Director's
// inputs, top to bottom: the limits the Director enforces (some only on
// top-level mutations, so they are enforced here for nested inputs too), the
// name rules, the checks made before anything is sent, and the inputs of
// every mutation.

// Limits of the Director (director-api.md §4).
const (
	maxAppName     = 100  // runes
	maxNameASCII   = 100  // bytes of printable ASCII: bundle and API names
	maxDescription = 2000 // runes
	maxProvider    = 256  // runes
	maxTargetURL   = 256  // runes
)

// NormalizeName returns the key under which the Director checks application
// names for uniqueness within a tenant: the name lower-cased and prefixed
// with "mp-", every character other than a-z, 0-9 and "-" replaced by "-",
// runs of "-" squeezed and a trailing "-" removed. A name that already has
// this form ("mp-…") is returned as is, as the Director does, so "mp-x" and
// "x" clash. Two names with the same key clash. The Director stores the key
// as the application's "name" label. Registry.NameKey is this function.
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

// ASCIIName turns s into a bundle or API name the Director accepts: printable
// ASCII, at most 100 bytes. It is deterministic: letters lose their
// diacritics and compatibility forms are folded (é → e, ﬁ → fi, Ａ → A), a
// few letters are spelled out (ß → ss, æ → ae, ø → o, ł → l, typographic
// quotes and dashes as their ASCII forms), each run of white space and
// control characters becomes one space, and each run of other characters
// one "_". Leading and trailing spaces are removed. When no ASCII letter or
// digit is left, fallback is used instead, made a name the same way (and
// "_" when it has none either).
func ASCIIName(s, fallback string) string {
	var b strings.Builder
	var last byte // what was written last: 0 nothing, ' ', '_' or 'c'
	for _, r := range norm.NFKD.String(s) {
		switch {
		case r > ' ' && r <= '~':
			b.WriteRune(r)
			last = 'c'
		case unicode.IsSpace(r) || unicode.IsControl(r):
			if last != ' ' && last != 0 {
				b.WriteByte(' ')
				last = ' '
			}
		case unicode.Is(unicode.Mn, r):
			// A combining mark split off by the decomposition: dropped.
		default:
			if t, ok := spelledOut[r]; ok {
				b.WriteString(t)
				last = 'c'
			} else if last != '_' {
				b.WriteByte('_')
				last = '_'
			}
		}
		if b.Len() > maxNameASCII {
			break
		}
	}
	out := b.String()
	if len(out) > maxNameASCII {
		out = out[:maxNameASCII]
	}
	out = strings.TrimSpace(out)
	if !strings.ContainsFunc(out, isASCIIAlnum) {
		if fallback == "" {
			return "_"
		}
		return ASCIIName(fallback, "")
	}
	return out
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// spelledOut transliterates characters that do not decompose to ASCII.
var spelledOut = map[rune]string{
	'ß': "ss", 'ẞ': "SS", 'æ': "ae", 'Æ': "AE", 'œ': "oe", 'Œ': "OE",
	'ø': "o", 'Ø': "O", 'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D",
	'ð': "d", 'Ð': "D", 'þ': "th", 'Þ': "Th", 'ı': "i",
	'‘': "'", '’': "'", '“': `"`, '”': `"`, '–': "-", '—': "-", '…': "...",
}

// bundleName is the name of app's bundle; apiName that of its API
// definition. Both fall back to the application name.
func bundleName(app ocsync.Application) string { return ASCIIName(app.Bundle, app.Name) }
func apiName(app ocsync.Application) string    { return ASCIIName(app.API, app.Name) }

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}

// statusOf is the status condition written for app: CONNECTED unless the
// source says otherwise. It is sent with every update, because the
// Director resets a missing status to INITIAL.
// readBack lists the fields of a listed application that the Director
// stores exactly as the Registry writes them (ocsync.Registered.ReadBack):
// the status always, the description and the provider name unless they are
// at their length limit, where the Registry may have cut them. A value
// changed in the Director by hand is then written again.
func readBack(a ocsync.Attributes) []string {
	fields := []string{ocsync.FieldStatus}
	if utf8.RuneCountInString(a.Description) < maxDescription {
		fields = append(fields, ocsync.FieldDescription)
	}
	if utf8.RuneCountInString(a.ProviderName) < maxProvider {
		fields = append(fields, ocsync.FieldProviderName)
	}
	return fields
}

func statusOf(s ocsync.Status) director.ApplicationStatusCondition {
	if s == "" {
		return director.ApplicationStatusConditionConnected
	}
	return director.ApplicationStatusCondition(s)
}

// checkApplication validates what the Director would refuse, or not check,
// before anything is sent.
func checkApplication(app ocsync.Application) error {
	if n := utf8.RuneCountInString(app.Name); n == 0 || n > maxAppName {
		return fmt.Errorf("compass: application name must have 1..%d characters, got %d: %w", maxAppName, n, remote.ErrInvalidInput)
	}
	if !utf8.ValidString(app.Name) {
		return fmt.Errorf("compass: application name is not valid UTF-8: %w", remote.ErrInvalidInput)
	}
	if err := checkTargetURL(app.TargetURL); err != nil {
		return err
	}
	if app.Status != "" && !validStatus(string(app.Status)) {
		return fmt.Errorf("compass: unknown application status %q: %w", app.Status, remote.ErrInvalidInput)
	}
	return nil
}

// checkTargetURL accepts an absolute http or https URL of at most 256
// characters, which is what the Director's URL rule lets through.
func checkTargetURL(s string) error {
	if n := utf8.RuneCountInString(s); n == 0 || n > maxTargetURL {
		return fmt.Errorf("compass: target URL must have 1..%d characters, got %d: %w", maxTargetURL, n, remote.ErrInvalidInput)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("compass: target URL is not an absolute http(s) URL: %w", remote.ErrInvalidInput)
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
		return "", "", fmt.Errorf("compass: spec type %q with format %q is not accepted: %w", typ, format, remote.ErrInvalidSpec)
	case len(spec.Data) == 0:
		return "", "", fmt.Errorf("compass: spec document is empty: %w", remote.ErrInvalidSpec)
	case !utf8.Valid(spec.Data):
		return "", "", fmt.Errorf("compass: spec document is not valid UTF-8: %w", remote.ErrInvalidSpec)
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

// authorizationHeaders renders the credential as the Director's
// HttpHeadersSerialized: {"Authorization":["<credential>"]}.
func authorizationHeaders(credential string) string {
	return string(mustJSON(map[string][]string{"Authorization": {credential}}))
}

// authInput carries the credential as the serialized Authorization header;
// nil when there is no credential.
func authInput(app ocsync.Application) *director.AuthInput {
	if app.Credential.Reveal() == "" {
		return nil
	}
	return &director.AuthInput{AdditionalHeadersSerialized: ptr.To(authorizationHeaders(app.Credential.Reveal()))}
}

// identityOf is the identity label the Registry writes for app in scope.
func identityOf(scope ocsync.Scope, app ocsync.Application) Identity {
	return Identity{Context: scope.Context, InstanceID: app.Key, Owner: scope.Owner}
}

// registerInput is the one registerApplication call that creates app: the
// application fields, the identity and state labels, and one bundle holding
// the Authorization header and one API definition with the spec.
func registerInput(keys Labels, scope ocsync.Scope, intSys string, app ocsync.Application, spec ocsync.Spec, state ocsync.State) (director.ApplicationRegisterInput, error) {
	if err := checkApplication(app); err != nil {
		return director.ApplicationRegisterInput{}, err
	}
	bundle, err := bundleCreateInput(app, &spec)
	if err != nil {
		return director.ApplicationRegisterInput{}, err
	}
	status := statusOf(app.Status)
	labels := encodeLabels(keys, identityOf(scope, app), state)
	in := director.ApplicationRegisterInput{
		Name:            app.Name,
		ProviderName:    ptr.NonEmpty(truncateRunes(app.ProviderName, maxProvider)),
		Description:     ptr.NonEmpty(truncateRunes(app.Description, maxDescription)),
		Labels:          &labels,
		StatusCondition: &status,
		Bundles:         []director.BundleCreateInput{bundle},
	}
	if intSys != "" {
		in.IntegrationSystemID = ptr.To(intSys)
	}
	return in, nil
}

// updateInput is the updateApplication input of app: description, provider
// name and status are always sent together (an omitted status would be
// reset), the integration system when configured.
func updateInput(intSys string, app ocsync.Application) director.ApplicationUpdateInput {
	status := statusOf(app.Status)
	in := director.ApplicationUpdateInput{
		ProviderName:    ptr.To(truncateRunes(app.ProviderName, maxProvider)),
		Description:     ptr.To(truncateRunes(app.Description, maxDescription)),
		StatusCondition: &status,
	}
	if intSys != "" {
		in.IntegrationSystemID = ptr.To(intSys)
	}
	return in
}

// bundleCreateInput is the bundle of app with its one API definition.
func bundleCreateInput(app ocsync.Application, spec *ocsync.Spec) (director.BundleCreateInput, error) {
	api, err := apiInput(app, spec)
	if err != nil {
		return director.BundleCreateInput{}, err
	}
	return director.BundleCreateInput{
		Name:                bundleName(app),
		DefaultInstanceAuth: authInput(app),
		ApiDefinitions:      []director.APIDefinitionInput{api},
	}, nil
}

// bundleUpdateInput replaces the bundle: every field is sent, because the
// Director clears what an update leaves out.
func bundleUpdateInput(app ocsync.Application) director.BundleUpdateInput {
	return director.BundleUpdateInput{Name: bundleName(app), DefaultInstanceAuth: authInput(app)}
}

// apiInput is the API definition of app; the spec is included when given.
// Without a spec, updateAPIDefinition keeps the stored one.
func apiInput(app ocsync.Application, spec *ocsync.Spec) (director.APIDefinitionInput, error) {
	if err := checkTargetURL(app.TargetURL); err != nil {
		return director.APIDefinitionInput{}, err
	}
	in := director.APIDefinitionInput{Name: apiName(app), TargetURL: app.TargetURL}
	if spec != nil {
		typ, format, err := checkSpec(*spec)
		if err != nil {
			return director.APIDefinitionInput{}, err
		}
		in.Spec = &director.APISpecInput{
			Data:   ptr.To(string(spec.Data)),
			Type:   director.APISpecType(typ),
			Format: director.SpecFormat(format),
		}
	}
	return in, nil
}
