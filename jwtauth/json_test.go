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
