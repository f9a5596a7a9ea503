package ocsync

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// Status is the condition an application reports in the target.
type Status string

const (
	// StatusConnected marks an application whose source is enabled and usable.
	StatusConnected Status = "CONNECTED"
	// StatusFailed marks an application whose source is disabled or invalid. Such an
	// application is kept when it exists and never created when it does not.
	StatusFailed Status = "FAILED"
)

// Attributes are the synchronised fields of an application apart from its
// name, its credential and its spec document. They are what a plan shows as
// old and new values.
type Attributes struct {
	// Description of the application.
	Description string `json:"description,omitempty"`
	// ProviderName of the application.
	ProviderName string `json:"providerName,omitempty"`
	// Status of the application.
	Status Status `json:"status,omitempty"`
	// Bundle is the name of the application's one bundle.
	Bundle string `json:"bundle,omitempty"`
	// API is the name of the one API definition in the bundle.
	API string `json:"api,omitempty"`
	// TargetURL is the API's target URL.
	TargetURL string `json:"targetURL,omitempty"`
	// Revision is cheap source metadata that changes when the source object
	// changes (for example an update timestamp). A changed revision makes the
	// spec be fetched again. Empty when the source has none.
	Revision string `json:"revision,omitempty"`
}

// value returns the attribute called field (one of the Field names), and
// false for a field that is not an attribute.
func (a *Attributes) value(field string) (string, bool) {
	switch field {
	case FieldDescription:
		return a.Description, true
	case FieldProviderName:
		return a.ProviderName, true
	case FieldStatus:
		return string(a.Status), true
	case FieldBundle:
		return a.Bundle, true
	case FieldAPI:
		return a.API, true
	case FieldTargetURL:
		return a.TargetURL, true
	case FieldRevision:
		return a.Revision, true
	}
	return "", false
}

// Application is a desired application, as a Source describes it.
type Application struct {
	// Name is the application's name in the target; it identifies the
	// application and never changes for the same source object.
	Name string `json:"name"`
	// Key is the source object's identity, for example an Open Connectors
	// instance id. It is informational for the engine; the Registry stores it.
	Key string `json:"key,omitempty"`
	// Attributes are the synchronised fields.
	Attributes
	// Credential is the secret the target must hold for the application, for
	// example an Authorization header value. It is compared by hash only.
	Credential redact.Secret `json:"-"`
	// Unusable, when not empty, says why the source object cannot be mapped
	// to an application (an empty name, a missing token, a token that would
	// corrupt a header, ...). The engine leaves an existing application
	// exactly as it is (no update, no status change, no delete), never
	// creates one, and reports the item as skipped and unusable, which makes
	// Apply return an *ItemError wrapping ErrUnusable.
	Unusable string `json:"unusable,omitempty"`
}

// Field names used in Change.Fields and State.Fields.
const (
	FieldDescription  = "description"
	FieldProviderName = "providerName"
	FieldStatus       = "status"
	FieldBundle       = "bundle"
	FieldAPI          = "api"
	FieldTargetURL    = "targetURL"
	FieldRevision     = "revision"
	FieldCredential   = "credential"
	// FieldStructure reports that the registered application lacks parts
	// (a bundle or an API) and is repaired by the update.
	FieldStructure = "structure"
	// FieldSpec reports that the stored spec is due for a refresh: the update
	// fetches it and replaces it only when its content changed.
	FieldSpec = "spec"
)

// Fingerprint returns a hash per synchronised field: what State.Fields holds
// after the application was written. The credential is hashed like any other
// field and never stored in clear.
func (a Application) Fingerprint() map[string]string {
	fp := make(map[string]string, len(attributeFields)+1)
	for _, f := range attributeFields {
		v, _ := a.Attributes.value(f)
		fp[f] = fieldHash(f, v)
	}
	fp[FieldCredential] = fieldHash(FieldCredential, a.Credential.Reveal())
	return fp
}

// attributeFields are the Field names of the Attributes (see
// Attributes.value).
var attributeFields = []string{FieldDescription, FieldProviderName, FieldStatus, FieldBundle, FieldAPI, FieldTargetURL, FieldRevision}

func fieldHash(field, value string) string {
	h := sha256.New()
	h.Write([]byte(field))
	h.Write([]byte{0})
	h.Write([]byte(value))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// SpecSHA256 returns the hex SHA-256 of a spec document, as State.SpecSHA256
// holds it.
func SpecSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// State is what a Registry stores next to an application so that drift can be
// detected from the listing alone: a hash of every synchronised field, the
// spec's hash and when the spec was last fetched. It holds no secret.
type State struct {
	// Fields maps a field name to its hash (see Application.Fingerprint).
	Fields map[string]string `json:"fields,omitempty"`
	// SpecSHA256 is the hex SHA-256 of the stored spec document.
	SpecSHA256 string `json:"specSHA256,omitempty"`
	// SpecFetchedAt is when the stored spec was last fetched from the source.
	SpecFetchedAt time.Time `json:"specFetchedAt,omitzero"`
	// Pending is true while an update is being written: the state then
	// claims only the fields the update does not touch (see Update.PendingState).
	Pending bool `json:"pending,omitempty"`
}

// Scope names the applications one sync owns in a registry: those that come
// from one source context and carry one owner. A Source and a Registry that
// both know their scope must agree on it (NewEngine checks).
type Scope struct {
	// Context is the source system the applications come from, for
	// example an Open Connectors host.
	Context string `json:"context"`
	// Owner tells several syncs of one context apart; empty for the sync
	// without an owner.
	Owner string `json:"owner,omitempty"`
}

// Scoped is implemented by a Source or a Registry that knows its Scope.
type Scoped interface {
	// Scope returns the scope; it never changes. The zero Scope means the
	// side does not know it (a wrapper around a side without one, say).
	Scope() Scope
}

// Spec is an API document, loaded lazily from a Source.
type Spec struct {
	// Type is the API type, for example "OPEN_API".
	Type string
	// Format is the document format, for example "JSON".
	Format string
	// Data is the document, byte for byte.
	Data []byte
}

// Registered is an application as the Registry lists it.
type Registered struct {
	// ID is the target's id for the application.
	ID string `json:"id,omitempty"`
	// Name is the application's name.
	Name string `json:"name"`
	// Key is the source identity recorded on the application, if any.
	Key string `json:"key,omitempty"`
	// Owned is true when this job owns the application. The engine never
	// updates or deletes an application that is not owned; a desired
	// application with the same name is a conflict.
	Owned bool `json:"owned"`
	// Holder says who holds an application that is not owned, when the
	// Registry can tell (another sync of the same source, say): a desired
	// application with the same name is a conflict "taken by " Holder.
	// Empty when unknown or owned.
	Holder string `json:"holder,omitempty"`
	// Attributes are the fields as read back from the target, for display.
	Attributes Attributes `json:"attributes"`
	// State is the stored state; nil when the application has none (for
	// example one made by an earlier tool), which makes every field an update.
	State *State `json:"state,omitempty"`
	// Incomplete is true when the application lacks its bundle or API; the
	// next update repairs it.
	Incomplete bool `json:"incomplete,omitempty"`
	// ReadBack names the Attributes fields (FieldDescription,
	// FieldProviderName, FieldStatus, ...) whose values the Registry read
	// from the target exactly as stored. Calculate compares them with the
	// desired values: one changed in the target behind the sync's back (by
	// hand, say) is written again, whatever the stored State claims. A
	// Registry lists a field here only when the target stores it unchanged
	// (not cut to a length limit, say), or every run would update it.
	ReadBack []string `json:"-"`
	// Ref is registry-specific data (such as the ids of nested objects) that
	// the Registry needs to update the application. The engine passes it back
	// untouched.
	Ref any `json:"-"`
}
