package openconnectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Instance is a connector instance as the platform lists it. Only the fields
// the sync needs are kept; unknown fields are ignored.
type Instance struct {
	// ID is the instance id.
	ID int64 `json:"id"`
	// Name is the instance's display name.
	Name string `json:"name"`
	// Token is the instance token, the Element part of the Authorization
	// header for calls on behalf of the instance. It never prints.
	Token ocsync.Secret `json:"-"`
	// Element is the connector the instance belongs to.
	Element Element `json:"element"`
	// Tags are the instance's tags.
	Tags []string `json:"tags,omitempty"`
	// Disabled is true when the instance is switched off.
	Disabled bool `json:"disabled"`
	// Valid is false when the platform marks the instance invalid (its
	// provider authentication is not usable). An instance that does not
	// carry the field is taken as valid.
	Valid bool `json:"valid"`
	// UpdatedDate is the platform's update timestamp as sent (a number or a
	// string), empty when absent.
	UpdatedDate string `json:"updatedDate,omitempty"`
	// Missing names required fields (name, token, element.key) that the
	// platform did not send. An instance with missing fields is listed, so
	// its application is kept, but a Source reports it as failed.
	Missing []string `json:"missing,omitempty"`
}

// Element is the connector of an instance.
type Element struct {
	// ID is the connector id.
	ID int64 `json:"id"`
	// Key is the connector key, for example "sfdc".
	Key string `json:"key"`
	// Name is the connector's display name.
	Name string `json:"name"`
}

// HasAnyTag reports whether the instance carries at least one of tags. With
// no tags given every instance matches.
func (in Instance) HasAnyTag(tags []string) bool {
	if len(tags) == 0 {
		return true
	}
	for _, want := range tags {
		for _, have := range in.Tags {
			if have == want {
				return true
			}
		}
	}
	return false
}

// wireInstance is the instance object as sent, decoded defensively.
type wireInstance struct {
	ID      json.RawMessage `json:"id"`
	Name    *string         `json:"name"`
	Token   *string         `json:"token"`
	Element *struct {
		ID   json.RawMessage `json:"id"`
		Key  *string         `json:"key"`
		Name string          `json:"name"`
	} `json:"element"`
	Tags        []json.RawMessage `json:"tags"`
	Disabled    *bool             `json:"disabled"`
	Valid       *bool             `json:"valid"`
	UpdatedDate json.RawMessage   `json:"updatedDate"`
}

// errNoID reports an instance without a usable id: it cannot be identified
// and is left out of the listing.
var errNoID = errors.New("no usable id")

// decodeInstance decodes one item of a listing. It fails only when the item is
// not an object or has no usable id; other required fields that are absent
// are named in Instance.Missing.
func decodeInstance(raw json.RawMessage) (Instance, error) {
	var w wireInstance
	if err := json.Unmarshal(raw, &w); err != nil {
		return Instance{}, fmt.Errorf("not an instance object: %w", err)
	}
	id, ok := decodeInt(w.ID)
	if !ok {
		return Instance{}, errNoID
	}
	in := Instance{ID: id, Valid: true}
	if w.Name != nil && *w.Name != "" {
		in.Name = *w.Name
	} else {
		in.Missing = append(in.Missing, "name")
	}
	if w.Token != nil && *w.Token != "" {
		in.Token = ocsync.Secret(*w.Token)
	} else {
		in.Missing = append(in.Missing, "token")
	}
	if w.Element != nil {
		in.Element.ID, _ = decodeInt(w.Element.ID)
		in.Element.Name = w.Element.Name
		if w.Element.Key != nil {
			in.Element.Key = *w.Element.Key
		}
	}
	if in.Element.Key == "" {
		in.Missing = append(in.Missing, "element.key")
	}
	for _, t := range w.Tags {
		if name := decodeTag(t); name != "" {
			in.Tags = append(in.Tags, name)
		}
	}
	if w.Disabled != nil {
		in.Disabled = *w.Disabled
	}
	if w.Valid != nil {
		in.Valid = *w.Valid
	}
	in.UpdatedDate = decodeScalar(w.UpdatedDate)
	return in, nil
}

// decodeInt reads an integral JSON number or a string holding one.
func decodeInt(raw json.RawMessage) (int64, bool) {
	s := decodeScalar(raw)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// decodeScalar returns a JSON string's value or a number's literal text;
// anything else (null, absent, objects) is "".
func decodeScalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// decodeTag reads a tag sent as a string or as an object {id, name}.
func decodeTag(raw json.RawMessage) string {
	if s := decodeScalar(raw); s != "" {
		return s
	}
	var obj struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Name
	}
	return ""
}
