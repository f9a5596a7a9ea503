package openconnectors

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The fuzz targets run their seed corpora (testdata/fuzz/<name>) as
// ordinary tests; go test -fuzz=<name> explores further.

func FuzzDecodeInstance(f *testing.F) {
	f.Add([]byte(goodItem))
	f.Add([]byte(`{"id":"7","tags":[{"id":1,"name":"x"}],"element":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := decodeInstance(data)
		if err != nil {
			if in.ID != 0 || in.Name != "" || in.Token != "" || in.Tags != nil {
				t.Fatalf("a failed decode returned data: %+v", in)
			}
			return
		}
		if in.ID <= 0 {
			t.Fatalf("decoded instance with id %d", in.ID)
		}
		if !json.Valid(data) || kindOf(data) != "an object" {
			t.Fatalf("accepted something that is not a JSON object: %q", data)
		}
		if in.Element.ID < 0 {
			t.Fatalf("negative element id %d", in.Element.ID)
		}
		// Strings read as encoding/json reads them.
		var ref struct {
			Name  any `json:"name"`
			Token any `json:"token"`
		}
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatalf("encoding/json refuses what was decoded: %v", err)
		}
		if s, ok := ref.Name.(string); ok && s != in.Name {
			t.Fatalf("name %q, encoding/json reads %q", in.Name, s)
		}
		if s, ok := ref.Token.(string); ok && s != in.Token.Reveal() {
			t.Fatal("the token differs from what encoding/json reads")
		}
		// What decodes once decodes the same again.
		again, err := decodeInstance(bytes.Clone(data))
		if err != nil || !again.same(in) {
			t.Fatalf("decoding is not deterministic: %v", err)
		}
	})
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`[` + goodItem + `]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := decodePage(data)
		if err != nil {
			if items != nil {
				t.Fatalf("a failed page returned %d instances", len(items))
			}
			return
		}
		if items == nil {
			t.Fatal("a decoded page is never nil")
		}
		var raw []json.RawMessage
		if json.Unmarshal(data, &raw) != nil || len(raw) != len(items) {
			t.Fatalf("decoded %d instances from a page that is not an array of as many items", len(items))
		}
		for i, in := range items {
			if in.ID <= 0 {
				t.Fatalf("item %d: id %d", i, in.ID)
			}
		}
	})
}

func FuzzValidateSpec(f *testing.F) {
	f.Add([]byte(`{"swagger":"2.0","info":{},"paths":{}}`))
	f.Add([]byte(`{"openapi":"3.1.0","info":{},"webhooks":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := ValidateSpec(data); err == nil {
			if !json.Valid(data) || kindOf(data) != "an object" {
				t.Fatalf("accepted something that is not a JSON object: %q", data)
			}
		} else if err.Error() == "" {
			t.Fatal("an error without a message")
		}
	})
}
