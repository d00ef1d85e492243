package jwtauth

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecodeObject checks the strict decoder against encoding/json: what it
// accepts, encoding/json accepts with the same value.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,2,{"c":null}],"d":"\u00e9\ud83d\ude00","e":-1.5e3,"f":true}`, `{"a":1,"a":2}`, `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := decodeObject(data, true)
		if err != nil {
			return
		}
		var want map[string]any
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %v, encoding/json %v", data, got, want)
		}
	})
}

func TestDecodeObject(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{``, ` `, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}{}`, `{"a":1} x`, `{'a':1}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":NaN}`, `{"a":tru}`, `{"a":"\x"}`,
		`{"a":"\u12"}`, `{"a":"` + "\x01" + `"}`, `{"a":"\udc00"}`, `{"a":"\ud800\u0041"}`, `{"a":1,"a":1}`,
		`{"a":{"b":1,"b":2}}`, `{"a":[{"b":1,"b":1}]}`, "{\"a\":\"\xc3\x28\"}", `{"a":1e999}`} {
		if _, _, err := decodeObject([]byte(bad), false); err == nil {
			t.Errorf("decodeObject(%q): got no error", bad)
		}
	}
}

// BenchmarkDecodeObject decodes what every validation decodes: a typical
// JOSE header (escapes tracked) and claims set. It isolates the decoder
// from the signature check, whose cost hides it in BenchmarkBearer.
func BenchmarkDecodeObject(b *testing.B) {
	header := []byte(`{"alg":"RS256","kid":"2024-05-k1","typ":"JWT"}`)
	claims := []byte(`{"aud":["api://orders","api://billing"],"exp":1750003600,"iat":1749999940,"iss":"https://issuer.example",` +
		`"nbf":1749999940,"scope":"orders:order:read orders:order:write","sub":"user-42","tenant":{"id":"t-7","tier":"gold"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := decodeObject(header, true); err != nil {
			b.Fatal(err)
		}
		if _, _, err := decodeObject(claims, false); err != nil {
			b.Fatal(err)
		}
	}
}
