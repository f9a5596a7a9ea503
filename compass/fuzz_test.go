package compass

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

// Fuzz targets; their seed corpora under testdata/fuzz run with every
// go test. Explore further with, for example,
// go test ./compass -run '^$' -fuzz FuzzNormalizeName.

func FuzzDecodeIdentity(f *testing.F) {
	f.Add([]byte(`{"connectorInstanceContext":"h","connectorInstanceID":"1"}`))
	f.Add([]byte(`{"connectorInstanceContext":"h","connectorInstanceID":7,"owner":""}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, ok, canonical := decodeIdentity(raw)
		if !ok {
			if canonical || id != (Identity{}) {
				t.Fatalf("not ok but canonical=%t id=%+v", canonical, id)
			}
			return
		}
		// What the Registry writes for the identity reads back canonical
		// and equal.
		back, ok2, canonical2 := decodeIdentity(mustJSON(id))
		if !ok2 || back != id {
			t.Fatalf("re-encoded identity %+v reads back as %+v (ok %t)", id, back, ok2)
		}
		if !canonical2 {
			t.Fatalf("re-encoded identity %+v is not canonical", id)
		}
	})
}

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"fields":{"description":"abc"},"specSHA256":"ff","specFetchedAt":"2024-07-01T12:00:00Z"}`))
	f.Add([]byte(`"{\"fields\":{\"a\":\"b\"},\"pending\":true}"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		st := decodeState(raw)
		if st == nil {
			return
		}
		if len(st.Fields) == 0 && !st.Pending {
			t.Fatalf("a state that claims nothing: %+v", st)
		}
		back := decodeState(mustJSON(st))
		if back == nil || !reflect.DeepEqual(back.Fields, st.Fields) || back.SpecSHA256 != st.SpecSHA256 ||
			!back.SpecFetchedAt.Equal(st.SpecFetchedAt) || back.Pending != st.Pending {
			t.Fatalf("state %+v reads back as %+v", st, back)
		}
	})
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"My App", "mp-x", "mp-Not.Normal", "oc-Ünïcode-1", "", "---", "mp-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key := NormalizeName(name)
		if !strings.HasPrefix(key, "mp") || strings.HasSuffix(key, "-") || strings.Contains(key, "--") {
			t.Fatalf("NormalizeName(%q) = %q", name, key)
		}
		for _, r := range key {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				t.Fatalf("NormalizeName(%q) = %q holds %q", name, key, r)
			}
		}
		if strings.HasPrefix(key, "mp-") && NormalizeName(key) != key {
			t.Fatalf("NormalizeName(%q) = %q is not stable", name, key)
		}
		if fake := compasstest.NormalizeName(name); fake != key {
			t.Fatalf("the fake Director normalises %q as %q, the Registry as %q", name, fake, key)
		}
	})
}

func FuzzASCIIName(f *testing.F) {
	for _, s := range []string{"Crème brûlée", "日本語", "A 日本 B", "“quoted” – dash…", "\x00", "ﬁle ＡＢＣ", "Straße"} {
		f.Add(s, "fallback")
	}
	f.Add("", "")
	f.Fuzz(func(t *testing.T, s, fallback string) {
		got := ASCIIName(s, fallback)
		if got == "" || len(got) > maxNameASCII || strings.TrimSpace(got) != got {
			t.Fatalf("ASCIIName(%q, %q) = %q", s, fallback, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] > 0x7e {
				t.Fatalf("ASCIIName(%q, %q) = %q holds byte %#x", s, fallback, got, got[i])
			}
		}
		if again := ASCIIName(got, fallback); again != got {
			t.Fatalf("ASCIIName is not stable: %q then %q", got, again)
		}
	})
}

func FuzzEscapeLegacyStrings(f *testing.F) {
	f.Add([]byte(`{"query":"mutation { x }","variables":{"v":"packageID addPackage packages: [","k":"\u0061ckage"}}`))
	f.Add([]byte(`{"a":"PACKAGE \\"ackage\" p\u0061ckage"}`))
	f.Add([]byte(`not json "ackage`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out := EscapeLegacyStrings(doc)
		if !json.Valid(doc) || !utf8.Valid(doc) {
			return // any input is handled without a panic; only JSON has a meaning
		}
		if !json.Valid(out) {
			t.Fatalf("escaped %q is not JSON: %q", doc, out)
		}
		want, err1 := decodeNumbers(doc)
		got, err2 := decodeNumbers(out)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(want, got) {
			t.Fatalf("escaping %q changed its value: %q", doc, out)
		}
		if bytes.Contains(bytes.ToLower(out), []byte("ackage")) {
			t.Fatalf("escaped %q still holds a legacy string: %q", doc, out)
		}
	})
}

// decodeNumbers decodes a JSON document keeping numbers as written.
func decodeNumbers(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
