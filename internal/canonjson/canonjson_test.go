package canonjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func canon(t testing.TB, src string) (string, error) {
	t.Helper()
	out, err := Append(nil, []byte(src))
	return string(out), err
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"member order", `{"b":1,"a":2,"c":{"z":0,"y":[3,2,1]}}`, `{"a":2,"b":1,"c":{"y":[3,2,1],"z":0}}`},
		{"whitespace", " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\":null } ", `{"a":[1,2],"b":null}`},
		{"arrays keep order", `[3,1,2,{"b":0,"a":0}]`, `[3,1,2,{"a":0,"b":0}]`},
		{"empty containers", `{"a":{},"b":[],"c":[{}]}`, `{"a":{},"b":[],"c":[{}]}`},
		{"literals", `[true,false,null]`, `[true,false,null]`},
		{"scalar at top", `  "x"  `, `"x"`},
		{"nested", `{"x":{"x":{"x":{"b":[{"d":1,"c":2}],"a":1}}}}`, `{"x":{"x":{"x":{"a":1,"b":[{"c":2,"d":1}]}}}}`},

		{"one", `[1,1.0,1e0,10E-1,1.000e+0,0.1e1,100e-2]`, `[1,1,1,1,1,1,1]`},
		{"zero", `[0,-0,0.0,-0.0e5,0e-9]`, `[0,0,0,0,0]`},
		{"negative", `[-1,-1.50,-15e-1]`, `[-1,-1.5,-1.5]`},
		{"fractions", `[0.5,0.000001,0.0000001,1.25e-7,123.456]`, `[0.5,0.000001,1e-7,1.25e-7,123.456]`},
		{"large", `[1e20,1e21,100000000000000000000,1.5e300,1E+2]`, `[100000000000000000000,1e+21,100000000000000000000,1.5e+300,100]`},
		{"big integers exact", `[12345678901234567890123,12345678901234567890124,9007199254740993]`,
			`[1.2345678901234567890123e+22,1.2345678901234567890124e+22,9007199254740993]`},
		{"many digits exact", `[0.10000000000000000000000001,3.141592653589793238462643383279]`,
			`[0.10000000000000000000000001,3.141592653589793238462643383279]`},
		{"huge exponent", `[1e999999999,-2.5e-999999999]`, `[1e+999999999,-2.5e-999999999]`},

		{"escapes", `"\u0041\u00e9\/\"\\"`, `"Aé/\"\\"`},
		{"control escapes", `"\b\f\n\r\t\u0001\u001F\u007f"`, `"\b\f\n\r\t\u0001\u001f` + "\x7f" + `"`},
		{"nul", `"a\u0000b"`, `"a\u0000b"`},
		{"surrogate pair", `"\ud83d\ude00"`, `"😀"`},
		{"non-ASCII kept", `"€ \u2028 ü"`, "\"€ \u2028 ü\""},
		{"escaped member names", `{"\u0062":1,"a":2}`, `{"a":2,"b":1}`},
		{"names sorted by UTF-16", `{"\ufb01":1,"😀":2,"a":3,"":4}`, `{"":4,"a":3,"😀":2,"ﬁ":1}`},
		{"names that quote", `{"#":1,"\"":2,"\\":3}`, `{"\"":2,"#":1,"\\":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canon(t, tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("Append(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
			}
			again, err := canon(t, got)
			if err != nil || again != got {
				t.Fatalf("Append of the canonical form = %s, %v; want it unchanged", again, err)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("the canonical form %s is not JSON", got)
			}
		})
	}
}

func TestAppendRefuses(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", ``, "unexpected end"},
		{"duplicate", `{"a":1,"b":2,"a":1}`, "duplicate member name"},
		{"duplicate after escapes", `{"a":1,"\u0061":2}`, "duplicate member name"},
		{"lone high surrogate", `"\ud800"`, "unpaired surrogate"},
		{"lone low surrogate", `"\udc00x"`, "unpaired surrogate"},
		{"reversed pair", `"\ude00\ud83d"`, "unpaired surrogate"},
		{"invalid UTF-8", "\"\xff\"", "not valid UTF-8"},
		{"invalid UTF-8 in a name", "{\"\xc3\":1}", "not valid UTF-8"},
		{"exponent out of range", `1e1000000000`, "exponent out of range"},
		{"raw control", "\"a\nb\"", "control character"},
		{"leading zero", `01`, "text after the value"},
		{"leading plus", `+1`, "invalid character"},
		{"bare point", `1.`, "no digits after the decimal point"},
		{"point first", `.5`, "invalid character"},
		{"empty exponent", `1e+`, "no digits in the exponent"},
		{"trailing comma", `[1,]`, "invalid character"},
		{"trailing comma in object", `{"a":1,}`, "expected a member name"},
		{"two values", `1 2`, "text after the value"},
		{"single quotes", `{'a':1}`, "expected a member name"},
		{"bad escape", `"\x"`, "invalid escape"},
		{"short \\u", `"\u12"`, "invalid \\u escape"},
		{"unterminated", `"abc`, "unexpected end"},
		{"NaN", `NaN`, "invalid character"},
		{"truncated literal", `tru`, "invalid character"},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "nesting deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canon(t, tt.in)
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Append(%q) = %q, %v; want an *Error saying %q", tt.in, got, err, tt.msg)
			}
		})
	}
	// Just within the limit.
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if got, err := canon(t, deep); err != nil || got != deep {
		t.Fatalf("nesting of %d: got %v", MaxDepth, err)
	}
}

func TestDuplicateOffset(t *testing.T) {
	_, err := canon(t, `[1, {"a":1,"a":2}]`)
	var e *Error
	if !errors.As(err, &e) || e.Offset != 4 {
		t.Fatalf("got %v, want an *Error at offset 4, the object's", err)
	}
}

func TestCompareUTF16(t *testing.T) {
	// Sorted as UTF-16 code units: U+10000 and above (surrogates, D800-DFFF)
	// come before U+E000-U+FFFF, unlike in UTF-8 and code point order.
	want := []string{"", "\x00", "a", "ab", "b", "é", "\u0800", "\ud7ff", "𐀀", "😀", "😀a", "\U0010ffff", "\ue000", "\uffff"}
	got := slices.Clone(want)
	rand.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	slices.SortFunc(got, func(a, b string) int { return compareUTF16([]byte(a), []byte(b)) })
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, a := range want {
		for _, b := range want {
			if g, w := compareUTF16([]byte(a), []byte(b)), slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b))); g != w {
				t.Errorf("compareUTF16(%q, %q) = %d, want %d", a, b, g, w)
			}
		}
	}
}

func TestAppendPointer(t *testing.T) {
	doc := `{"order":{"id":"o-1","lines":[{"sku":"a"},{"sku":"b"}]},"a/b":1,"m~n":2,"":3,"é":{"x":true}, "9": "nine"}`
	tests := []struct {
		ptr, want string
	}{
		{"", `{"":3,"9":"nine","a/b":1,"m~n":2,"order":{"id":"o-1","lines":[{"sku":"a"},{"sku":"b"}]},"é":{"x":true}}`},
		{"/order/id", `"o-1"`},
		{"/order", `{"id":"o-1","lines":[{"sku":"a"},{"sku":"b"}]}`},
		{"/order/lines/1/sku", `"b"`},
		{"/order/lines/0", `{"sku":"a"}`},
		{"/a~1b", `1`},
		{"/m~0n", `2`},
		{"/", `3`},
		{"/é/x", `true`},
		{"/9", `"nine"`},
	}
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	for _, tt := range tests {
		got, err := d.AppendPointer(nil, tt.ptr)
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendPointer(%q) = %s, %v; want %s", tt.ptr, got, err, tt.want)
		}
	}
	for _, ptr := range []string{"order", "/missing", "/order/lines/2", "/order/lines/01", "/order/lines/-", "/order/id/x", "/a/b", "/m~2n", "/m~", "/order/lines/x"} {
		if got, err := d.AppendPointer(nil, ptr); err == nil {
			t.Errorf("AppendPointer(%q) = %s; want an error", ptr, got)
		}
	}
}

// FuzzCanonical checks that the canonical form is a fixed point, is JSON of
// the same value, and does not change when the text is rewritten with its
// members in another order, other whitespace, other escapes and other
// spellings of its numbers.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		`{"b":1,"a":[1,2,{"d":null,"c":true}]}`, `[1,1.0,1e0,10E-1,-0,1e21,1e-7]`, `"\u0041\ud83d\ude00\n"`,
		`{"\ufb01":1,"😀":2}`, `12345678901234567890123`, `{"a":{"a":{"a":[]}}}`, `{"a":1,"a":2}`, "\"\xff\"", `0.000001`,
		`[-1.5e-300, 3.0e+2]`, `{"":""}`, ` [ ] `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Append(nil, in)
		if err != nil {
			if json.Valid(in) && !expectedRefusal(err) {
				t.Fatalf("refused JSON %q: %v", in, err)
			}
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted %q, which is not JSON", in)
		}
		if !json.Valid(c) || !utf8.Valid(c) {
			t.Fatalf("canonical form %q of %q is not JSON", c, in)
		}
		c2, err := Append(nil, c)
		if err != nil || !bytes.Equal(c, c2) {
			t.Fatalf("canonical(canonical(%q)) = %q, %v; want %q", in, c2, err, c)
		}
		v1, v2 := decode(t, in), decode(t, c)
		if !sameValue(v1, v2) {
			t.Fatalf("canonical form %q of %q is another value", c, in)
		}
		// Rewrite the value differently a few times; each canonicalizes to c.
		h := fnv.New64a()
		h.Write(in)
		r := rand.New(rand.NewPCG(h.Sum64(), 1))
		for range 3 {
			var w bytes.Buffer
			rewrite(&w, r, v1)
			c3, err := Append(nil, w.Bytes())
			if err != nil || !bytes.Equal(c3, c) {
				t.Fatalf("rewritten %q as %q: canonical %q, %v; want %q", in, w.Bytes(), c3, err, c)
			}
		}
	})
}

// expectedRefusal reports whether err refuses JSON that has no canonical
// form by this package's rules.
func expectedRefusal(err error) bool {
	for _, s := range []string{"duplicate member name", "not valid UTF-8", "unpaired surrogate", "exponent out of range", "nesting deeper"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

func decode(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// sameValue compares two decoded values, numbers by their exact value
// where big.Rat can hold it cheaply.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		if a == b {
			return true
		}
		ra, rb, ok := rat(a), rat(b), true
		if ra == nil || rb == nil {
			return ok // too large to compare cheaply
		}
		return ra.Cmp(rb) == 0
	default:
		return a == b
	}
}

func rat(n json.Number) *big.Rat {
	s := strings.ToLower(string(n))
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		var e int
		if _, err := fmt.Sscan(s[i+1:], &e); err != nil || e > 400 || e < -400 {
			return nil
		}
	}
	if len(s) > 400 {
		return nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return r
}

// rewrite writes v as JSON with its object members shuffled, random
// whitespace, random escapes and respelt numbers.
func rewrite(w *bytes.Buffer, r *rand.Rand, v any) {
	space := func() {
		for range r.IntN(3) {
			w.WriteByte(" \t\n\r"[r.IntN(4)])
		}
	}
	space()
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			space()
			writeString(w, r, k)
			space()
			w.WriteByte(':')
			rewrite(w, r, v[k])
		}
		space()
		w.WriteByte('}')
	case []any:
		w.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			rewrite(w, r, e)
		}
		space()
		w.WriteByte(']')
	case string:
		writeString(w, r, v)
	case json.Number:
		s := string(v)
		hasExp := strings.ContainsAny(s, "eE")
		switch r.IntN(4) {
		case 1:
			if !hasExp {
				s += "e0"
			}
		case 2:
			if !hasExp && !strings.Contains(s, ".") && strings.TrimPrefix(s, "-") != "0" {
				s += "0E-1"
			} else if !hasExp && strings.Contains(s, ".") {
				s += "00"
			}
		case 3:
			if !hasExp && !strings.Contains(s, ".") {
				s += ".000"
			}
		}
		w.WriteString(s)
	case bool:
		fmt.Fprint(w, v)
	case nil:
		w.WriteString("null")
	}
	space()
}

func writeString(w *bytes.Buffer, r *rand.Rand, s string) {
	w.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\' || c < 0x20 || r.IntN(4) == 0:
			if c == '/' || (c == '"' && r.IntN(2) == 0) {
				w.WriteString(`\` + string(c))
				continue
			}
			for _, u := range utf16.Encode([]rune{c}) {
				if r.IntN(2) == 0 {
					fmt.Fprintf(w, `\u%04x`, u)
				} else {
					fmt.Fprintf(w, `\u%04X`, u)
				}
			}
		default:
			w.WriteRune(c)
		}
	}
	w.WriteByte('"')
}

func BenchmarkAppend(b *testing.B) {
	src := []byte(`{"order":{"id":"o-123456","customer":{"name":"Ada Lovelace","email":"ada@example.com"},` +
		`"lines":[{"sku":"A-1","qty":2,"price":12.50},{"sku":"B-22","qty":1,"price":99.99}],"note":"leave at the door\n"},` +
		`"source":"web","at":"2026-11-25T12:00:00Z","total":124.99}`)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		var err error
		if dst, err = Append(dst[:0], src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendDeepOutOfOrder: 999 nested objects, each with its members
// out of order, around a 1 MB string, against the same string in one
// object: the canonical form's cost must grow with the size, not with size
// times depth (a rewrite that moved each object's members into order as it
// closed took 250 times longer on such a payload, and was dropped).
func BenchmarkAppendDeepOutOfOrder(b *testing.B) {
	inner := `"` + strings.Repeat("x", 1<<20) + `"`
	for _, bc := range []struct{ name, in string }{
		{"flat", `{"b":` + inner + `,"a":1}`},
		{"deep", strings.Repeat(`{"b":`, 999) + inner + strings.Repeat(`,"a":1}`, 999)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.in)
			b.SetBytes(int64(len(in)))
			var dst []byte
			for b.Loop() {
				var err error
				if dst, err = Append(dst[:0], in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
