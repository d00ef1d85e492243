package jsonstr

import (
	"encoding/json"
	"testing"
)

// TestAppend: what Append writes decodes, with encoding/json, to the
// string given (invalid UTF-8 as U+FFFD), and escapes only what JSON
// requires.
func TestAppend(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"\n\r\t\x00\x1f", `"\n\r\t\u0000\u001f"`},
		{"<&> é \u2028", "\"<&> é \u2028\""},
		{"bad \xff byte", `"bad \ufffd byte"`},
	}
	for _, tt := range tests {
		got := Append(nil, tt.in)
		if string(got) != tt.want {
			t.Errorf("Append(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if b := Append([]byte("x"), []byte(tt.in)); string(b) != "x"+tt.want {
			t.Errorf("Append of bytes %q = %s", tt.in, b)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%s does not decode: %v", got, err)
		}
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "é\xff", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Append(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q written as %s, which does not decode: %v", s, got, err)
		}
		want, _ := json.Marshal(s) // encoding/json: the same text, HTML escaped
		var w string
		json.Unmarshal(want, &w)
		if back != w {
			t.Fatalf("%q read back as %q, want %q", s, back, w)
		}
	})
}
