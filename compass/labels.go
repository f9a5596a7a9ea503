package compass

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Default label keys written on every application the Registry registers
// (Config.Labels).
const (
	// IdentityLabel holds the identity object: connectorInstanceContext,
	// connectorInstanceID and, when an owner is configured, owner.
	IdentityLabel = "open_connectors"
	// StateLabel holds the JSON object of the ocsync.State last written.
	StateLabel = "open_connectors_state"
)

// Labels names the labels the Registry writes on every application it
// registers, and by which it finds its applications again. A zero field
// means its default.
type Labels struct {
	// Identity is the key of the identity label (an Identity object);
	// default IdentityLabel.
	Identity string
	// State is the key of the state label (the ocsync.State last
	// written); default StateLabel.
	State string
}

// MaxLabelKeyLength is the longest label key the Director accepts.
const MaxLabelKeyLength = 256

var labelKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// reservedLabelKeys are written by the Director itself or refused by it.
var reservedLabelKeys = []string{"name", "managed", "integrationSystemID", "scenarios"}

// withDefaults returns l with its zero fields set to the defaults.
func (l Labels) withDefaults() Labels {
	if l.Identity == "" {
		l.Identity = IdentityLabel
	}
	if l.State == "" {
		l.State = StateLabel
	}
	return l
}

// validate returns a *remote.FieldError per unusable key: not a Director
// label key (letters, digits and "_", at most MaxLabelKeyLength), one the
// Director writes or refuses itself, or both keys the same.
func (l Labels) validate() []error {
	var errs []error
	d := l.withDefaults()
	for _, k := range []struct{ field, key string }{{"Labels.Identity", d.Identity}, {"Labels.State", d.State}} {
		switch {
		case len(k.key) > MaxLabelKeyLength:
			errs = append(errs, &remote.FieldError{Field: k.field, Problem: fmt.Sprintf("is longer than %d characters", MaxLabelKeyLength)})
		case !labelKeyPattern.MatchString(k.key):
			errs = append(errs, &remote.FieldError{Field: k.field, Problem: "must hold only letters, digits and _"})
		case slices.Contains(reservedLabelKeys, k.key):
			errs = append(errs, &remote.FieldError{Field: k.field, Problem: "is a label the Director writes or refuses itself"})
		}
	}
	if d.Identity == d.State {
		errs = append(errs, &remote.FieldError{Field: "Labels.State", Problem: "must differ from Labels.Identity"})
	}
	return errs
}

// Identity is the value of the identity label.
type Identity struct {
	// Context is the Open Connectors host the instance lives on.
	Context string `json:"connectorInstanceContext"`
	// InstanceID is the Open Connectors instance id.
	InstanceID string `json:"connectorInstanceID"`
	// Owner is the configured sync owner; empty for the job without one.
	Owner string `json:"owner,omitempty"`
}

// identityFilter is the label-filter query that selects the applications of
// one context (and owner): a JSON object matched by containment.
func identityFilter(context, owner, instanceID string) string {
	q := struct {
		Context    string `json:"connectorInstanceContext"`
		InstanceID string `json:"connectorInstanceID,omitempty"`
		Owner      string `json:"owner,omitempty"`
	}{context, instanceID, owner}
	return string(mustJSON(q))
}

// decodeIdentity reads an identity label value. ok is false when the value is
// not an object with a string connectorInstanceContext. canonical is true when
// the value holds exactly the keys the Registry writes, with string values.
func decodeIdentity(raw json.RawMessage) (id Identity, ok, canonical bool) {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil || m == nil {
		return Identity{}, false, false
	}
	canonical = true
	str := func(key string) (string, bool) {
		v, present := m[key]
		if !present {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s, true
		}
		canonical = false
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if d.Decode(&n) == nil {
			return n.String(), true
		}
		return "", false
	}
	var present bool
	if id.Context, present = str("connectorInstanceContext"); !present {
		return Identity{}, false, false
	}
	if id.InstanceID, present = str("connectorInstanceID"); !present {
		canonical = false
	}
	if _, has := m["owner"]; has {
		if id.Owner, present = str("owner"); !present || id.Owner == "" {
			canonical = false
		}
	}
	want := 2
	if id.Owner != "" {
		want = 3
	}
	if len(m) != want {
		canonical = false
	}
	return id, true, canonical
}

// decodeState reads a state label value: a JSON object, or a JSON string
// holding one. It returns nil when the value is absent or unreadable, or
// records no field. A state marked pending (written before an update that
// did not finish) is returned as the state it holds, with Pending set: the
// fields it no longer claims are written again.
func decodeState(raw json.RawMessage) *ocsync.State {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		raw = []byte(s)
	}
	var st ocsync.State
	if json.Unmarshal(raw, &st) != nil || (len(st.Fields) == 0 && !st.Pending) {
		return nil
	}
	return &st
}

// encodeLabels is the labels value of a registerApplication input: the
// identity label and the state label.
func encodeLabels(keys Labels, id Identity, state ocsync.State) json.RawMessage {
	return mustJSON(map[string]any{keys.Identity: id, keys.State: state})
}

// decodeLabels reads the labels of an application: a JSON object from key
// to value. ok is false when the value is absent, null or not an object.
func decodeLabels(raw *json.RawMessage) (labels map[string]json.RawMessage, ok bool) {
	if raw == nil {
		return nil, false
	}
	if json.Unmarshal(*raw, &labels) != nil || labels == nil {
		return nil, false
	}
	return labels, true
}

// mustJSON encodes v without HTML escaping; v is always encodable here.
func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("compass: encode " + strconv.Quote(err.Error()))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// jsonString encodes s as a JSON string literal, as the name label filter
// expects it.
func jsonString(s string) string {
	return strings.TrimSpace(string(mustJSON(s)))
}
