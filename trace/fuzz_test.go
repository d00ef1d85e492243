package trace_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/funcify/funcify/trace"
)

// FuzzParseHeader checks that ParseHeader never panics, that its errors wrap
// ErrMalformed, and that a header it accepts survives String and a second
// parse unchanged.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		"",
		"Root=" + root,
		"Root=" + root + ";Parent=" + parent + ";Sampled=1",
		"Root=" + root + "; Parent=" + parent + "; Sampled=?",
		"Root=" + root + ";Parent=" + parent + ";Sampled=0;Lineage=a87bd80c:1|68fd508a:5",
		"Self=1-67891234-12456789abcdef012345678;Root=" + root + ";Foo=a=b;Empty=",
		"Root=" + root + ";Parent=53995c3f42cd8ad;Sampled=2",
		"Root=" + root + ";;K =v ;\tL= x",
		";=;Root",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := trace.ParseHeader(s)
		if err != nil {
			if !errors.Is(err, trace.ErrMalformed) {
				t.Fatalf("ParseHeader(%q) error %v does not wrap ErrMalformed", s, err)
			}
			return
		}
		if h.Root == "" {
			t.Fatalf("ParseHeader(%q) = %#v with no Root and no error", s, h)
		}
		out := h.String()
		h2, err := trace.ParseHeader(out)
		if err != nil {
			t.Fatalf("ParseHeader(%q).String() = %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip of %q through %q\ngot  %#v\nwant %#v", s, out, h2, h)
		}
		if out2 := h2.String(); out2 != out {
			t.Fatalf("String() not stable: %q then %q", out, out2)
		}
	})
}
