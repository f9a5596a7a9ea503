package compasstest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest/internal/graph"
)

var (
	urlSchemePattern = regexp.MustCompile(`(ftp|tcp|udp|ws|wss|http|https)://`)
	semverPattern    = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

// fieldErrors collects validation failures per JSON field, as the
// Director's @validate directive reports them.
type fieldErrors map[string]string

func (f fieldErrors) add(field, reason string) {
	if _, ok := f[field]; !ok && reason != "" {
		f[field] = reason
	}
}

func (f fieldErrors) err(inputType string) error {
	if len(f) == 0 {
		return nil
	}
	return errInvalidInput(inputType, f)
}

func runeLen(min, max int, s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case min > 0 && n == 0:
		return "cannot be blank"
	case n < min || n > max:
		if min == 0 {
			return fmt.Sprintf("the length must be no more than %d", max)
		}
		return fmt.Sprintf("the length must be between %d and %d", min, max)
	}
	return ""
}

func optLen(max int, s *string) string {
	if s == nil {
		return ""
	}
	return runeLen(0, max, *s)
}

func printableName(s string) string {
	if r := runeLen(1, 100, s); r != "" {
		return r
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return "must contain only printable ASCII characters"
		}
	}
	return ""
}

func checkURL(s string, max int) string {
	if r := runeLen(0, max, s); r != "" {
		return r
	}
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if !urlSchemePattern.MatchString(s) || err != nil || u.Host == "" {
		return "must be a valid URL"
	}
	return ""
}

func optURL(s *string, max int) string {
	if s == nil {
		return ""
	}
	return checkURL(*s, max)
}

func checkLabelKeys(labels map[string]any) string {
	for key := range labels {
		switch {
		case key == "":
			return "key: cannot be blank"
		case !labelKeyPattern.MatchString(key):
			return fmt.Sprintf("key=%s: must be in a valid format", key)
		case key == scenariosLabelKey:
			return "label with key scenarios is not allowed"
		}
	}
	return ""
}

func validateRegister(in graph.ApplicationRegisterInput) error {
	f := fieldErrors{}
	f.add("name", runeLen(1, 100, in.Name))
	f.add("providerName", optLen(256, in.ProviderName))
	f.add("description", optLen(2000, in.Description))
	f.add("labels", checkLabelKeys(in.Labels))
	f.add("healthCheckURL", optURL(in.HealthCheckURL, 256))
	return f.err("ApplicationRegisterInput")
}

func validateUpdate(in graph.ApplicationUpdateInput) error {
	f := fieldErrors{}
	f.add("providerName", optLen(256, in.ProviderName))
	f.add("description", optLen(2000, in.Description))
	f.add("healthCheckURL", optURL(in.HealthCheckURL, 256))
	return f.err("ApplicationUpdateInput")
}

func validateBundleCreate(in graph.BundleCreateInput) error {
	f := fieldErrors{}
	f.add("name", printableName(in.Name))
	f.add("description", optLen(2000, in.Description))
	for i, api := range in.APIDefinitions {
		if api == nil {
			continue
		}
		for field, reason := range apiFieldErrors(*api) {
			f.add(fmt.Sprintf("apiDefinitions[%d].%s", i, field), reason)
		}
	}
	return f.err("BundleCreateInput")
}

func validateBundleUpdate(in graph.BundleUpdateInput) error {
	f := fieldErrors{}
	f.add("name", printableName(in.Name))
	f.add("description", optLen(2000, in.Description))
	return f.err("BundleUpdateInput")
}

func apiFieldErrors(in graph.APIDefinitionInput) fieldErrors {
	f := fieldErrors{}
	f.add("name", printableName(in.Name))
	f.add("description", optLen(2000, in.Description))
	if in.TargetURL == "" {
		f.add("targetURL", "cannot be blank")
	}
	f.add("targetURL", checkURL(in.TargetURL, 256))
	f.add("group", optLen(100, in.Group))
	if sp := in.Spec; sp != nil {
		switch {
		case sp.Type == graph.APISpecTypeOpenAPI && sp.Format != graph.SpecFormatJSON && sp.Format != graph.SpecFormatYaml,
			sp.Type == graph.APISpecTypeOdata && sp.Format != graph.SpecFormatJSON && sp.Format != graph.SpecFormatXML:
			f.add("spec", fmt.Sprintf("format: must be a valid value for type %s", sp.Type))
		case (sp.Data == nil) == (sp.FetchRequest == nil):
			f.add("spec", "data or fetchRequest required")
		case sp.FetchRequest != nil:
			f.add("spec", checkURL(sp.FetchRequest.URL, 256))
		}
	}
	if v := in.Version; v != nil {
		r := runeLen(1, 256, v.Value)
		if r == "" && !semverPattern.MatchString(v.Value) {
			r = "must be a valid semantic version"
		}
		f.add("version", r)
	}
	return f
}

func validateAPI(in graph.APIDefinitionInput) error {
	return apiFieldErrors(in).err("APIDefinitionInput")
}

// validateInput runs the @validate rules for an argument value.
func validateInput(v any) error {
	switch in := v.(type) {
	case graph.ApplicationRegisterInput:
		return validateRegister(in)
	case graph.ApplicationUpdateInput:
		return validateUpdate(in)
	case graph.BundleCreateInput:
		return validateBundleCreate(in)
	case graph.BundleUpdateInput:
		return validateBundleUpdate(in)
	case graph.APIDefinitionInput:
		return validateAPI(in)
	}
	return nil
}

// toBundle converts a bundle input into a record with new ids.
func toBundle(appID string, in *graph.BundleCreateInput, now time.Time) (*bundleRecord, error) {
	auth, err := toAuth(in.DefaultInstanceAuth)
	if err != nil {
		return nil, err
	}
	b := &bundleRecord{
		id: newID(), appID: appID, name: in.Name, description: in.Description,
		schema: in.InstanceAuthRequestInputSchema, auth: auth, correlationIDs: in.CorrelationIDs,
		createdAt: now, updatedAt: now,
	}
	if b.schema != nil && !json.Valid([]byte(*b.schema)) {
		return nil, errInvalidData("while converting JSONSchema: invalid JSON")
	}
	for _, apiIn := range in.APIDefinitions {
		if apiIn == nil {
			continue
		}
		b.apis = withAPI(b.apis, toAPI(newID(), b.id, apiIn, nil, now))
	}
	return b, nil
}

// toAPI converts an API input into a record. When the input has no spec,
// the spec of keep (if any) is kept.
func toAPI(id, bundleID string, in *graph.APIDefinitionInput, keep *apiRecord, now time.Time) *apiRecord {
	a := &apiRecord{
		id: id, bundleID: bundleID, name: in.Name, targetURL: in.TargetURL,
		description: in.Description, group: in.Group, createdAt: now, updatedAt: now,
	}
	if keep != nil {
		a.createdAt = keep.createdAt
		a.spec = keep.spec
	}
	if sp := in.Spec; sp != nil {
		a.spec = &specRecord{id: newID(), typ: string(sp.Type), format: string(sp.Format), data: sp.Data}
	}
	if v := in.Version; v != nil {
		a.version = &versionRecord{value: v.Value, deprecated: v.Deprecated, deprecatedSince: v.DeprecatedSince, forRemoval: v.ForRemoval}
	}
	return a
}

func toAuth(in *graph.AuthInput) (*authRecord, error) {
	if in == nil {
		return nil, nil
	}
	a := &authRecord{
		accessStrategy: in.AccessStrategy, certCommonName: in.CertCommonName,
		headersSerialized: in.AdditionalHeadersSerialized, queryParamsSerialized: in.AdditionalQueryParamsSerialized,
	}
	if s := in.AdditionalHeadersSerialized; s != nil {
		if err := json.Unmarshal([]byte(*s), &a.headers); err != nil {
			return nil, errInvalidData("unable to unmarshal HTTP headers")
		}
	}
	if s := in.AdditionalQueryParamsSerialized; s != nil {
		if err := json.Unmarshal([]byte(*s), &a.queryParams); err != nil {
			return nil, errInvalidData("unable to unmarshal query parameters")
		}
	}
	if c := in.Credential; c != nil {
		set := 0
		if c.Basic != nil {
			a.basic = &[2]string{c.Basic.Username, c.Basic.Password}
			set++
		}
		if c.Oauth != nil {
			a.oauth = &[3]string{c.Oauth.ClientID, c.Oauth.ClientSecret, c.Oauth.URL}
			set++
		}
		if c.CertificateOAuth != nil {
			set++
		}
		if set != 1 {
			return nil, errInvalidInput("CredentialDataInput", fieldErrors{"credential": "exactly one credential type is required"})
		}
	}
	return a, nil
}

// baseURLOf returns scheme://host of a target URL, "" when it has none.
func baseURLOf(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
