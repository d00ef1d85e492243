package canonjson

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"testing"
)

// sameAsReferenceSeeds are texts for FuzzSameAsReference: FuzzCanonical's
// seeds, and the corners of each part of the rewrite (strings with and
// without escapes, names with escapes that sort or collide, numbers on both
// sides of each layout's bounds, deep nesting, members in and out of order).
var sameAsReferenceSeeds = []string{
	// FuzzCanonical's.
	`{"b":1,"a":[1,2,{"d":null,"c":true}]}`, `[1,1.0,1e0,10E-1,-0,1e21,1e-7]`, `"\u0041\ud83d\ude00\n"`,
	`{"\ufb01":1,"😀":2}`, `12345678901234567890123`, `{"a":{"a":{"a":[]}}}`, `{"a":1,"a":2}`, "\"\xff\"", `0.000001`,
	`[-1.5e-300, 3.0e+2]`, `{"":""}`, ` [ ] `,
	// Numbers.
	`[1e400,-0,-0.0,1.0,1E+2,0.1e-5,0.5,-0.5,0.05,0.000001,0.0000001,0.0000010,12.990,12.99,100,1000000000000000000000]`,
	`[123456789012345678901,1234567890123456789012,123456789012345678901.5,1234567890123456789012.5,-123456789012345678901]`,
	`[9007199254740993,18446744073709551616,340282366920938463463374607431768211456]`,
	`[0,-0,00,01,-01,1.,.5,1e,1e+,1e-0,1E-7,0e0,-0e-0,1e999999999,1e1000000000,0.0000000,10.10,-]`,
	`[1.5e-7,15e-8,0.00000015,1e21,10e20,100000000000000000000.0]`,
	// Strings.
	`"plain"`, `"caf\u00e9 \u00E9 é"`, `"\"\\\/\b\f\n\r\t"`, `"\u0000\u001f\u007f\u0080\u2028\ufeff"`,
	`"\ud83d\ude00\uD83D\uDE00😀"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800\\u"`, `"\ud83d\ude00\ud800"`,
	"\"a\xffb\\n\"", "\"a\xe2\x82\"", "\"\xe2\x82\xac\\u20ac\"", "\"a\tb\"", "\"abc", "\"abc\\", "\"\\u00", `"\q"`,
	"\"\xf0\x9f\x98\x80\xed\xa0\x80\"", "\"\xc0\xaf\"",
	// Names.
	`{"b":1,"a":2,"c":3}`, `{"a":1,"b":2,"c":3}`, `{"\u0062":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"\"":1,"#":2,"\\":3,"!":4}`,
	`{"a\"b":1,"a#":2,"a\\":3,"a!":4,"a":5}`, `{"\n":1,"\u000a":2}`, `{"\ufb01":1,"😀":2,"a":3,"":4,"\ue000":5,"\ud7ff":6}`,
	`{"é":1,"e\u0301":2,"e":3}`, `{"x":{"b":[{"d":1,"c":2}],"a":1},"w":[{"z":0,"y":{"q":1,"p":2}}]}`,
	`{"a":1,"b":2,"a":3}`, `{"b":{"y":1,"x":2},"a":{"y":1,"x":2,"y":3}}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":}`,
	"{\"\xc3\":1}", `{"a\u0000":1,"a":2}`,
	// Literals and structure.
	`[true,false,null]`, `tru`, `nul`, `[1,]`, `[,1]`, `1 2`, ` "x" `, `[[[]]]`, `{"a":[{"b":[{"c":{}}]}]}`,
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth),
	strings.Repeat(`{"b":0,"a":`, 50) + `"x"` + strings.Repeat("}", 50),
	`{"order":{"id":"o-123456","customer":{"name":"Ada Lovelace","email":"ada@example.com"},"lines":[` +
		`{"sku":"SKU-0000","qty":1,"price":10.99,"note":"gift wrap, leave at the door"},` +
		`{"sku":"SKU-0001","qty":2,"price":11.99,"note":"gift wrap, leave at the door"}]},"source":"web","at":"2026-11-25T12:00:00Z"}`,
}

// FuzzSameAsReference checks the canonical form against the reference
// implementation (reference_test.go): the same bytes, or the same error, for
// every text, and the same answer for every pointer into it.
func FuzzSameAsReference(f *testing.F) {
	for _, s := range sameAsReferenceSeeds {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "/a")
	}
	f.Add([]byte(`{"a/b":{"m~n":[0,{"x":1}]}}`), "/a~1b/m~0n/1/x")
	f.Add([]byte(`{"\"":{"\\":[0,{"\u00e9":1}]}}`), "/\"/\\/1/é")
	f.Add([]byte(`[0,1,2,3,4,5,6,7,8,9,10]`), "/10")
	f.Add([]byte(`[0,1]`), "/01")
	f.Fuzz(func(t *testing.T, in []byte, ptr string) {
		checkSameAsReference(t, in, ptr)
	})
}

// TestSameAsReference runs FuzzSameAsReference's seeds with every pointer
// into each, so that a plain go test covers them all.
func TestSameAsReference(t *testing.T) {
	for _, s := range sameAsReferenceSeeds {
		checkSameAsReference(t, []byte(s), "/a/0")
	}
}

func checkSameAsReference(t *testing.T, in []byte, ptr string) {
	t.Helper()
	got, err := Append([]byte("prefix"), in)
	want, werr := refAppend([]byte("prefix"), in)
	if !sameError(err, werr) || !bytes.Equal(got, want) {
		t.Fatalf("Append(%q) = %q, %v; the reference gives %q, %v", in, got, err, want, werr)
	}
	d, err := Parse(in)
	rd, werr := refParse(in)
	if !sameError(err, werr) {
		t.Fatalf("Parse(%q): %v; the reference gives %v", in, err, werr)
	}
	if werr != nil {
		return
	}
	defer d.Release()
	defer rd.Release()
	if got, want := d.Append([]byte("x")), rd.refAppend([]byte("x")); !bytes.Equal(got, want) {
		t.Fatalf("Parse(%q).Append = %q; the reference gives %q", in, got, want)
	}
	ptrs := append(refPointers(rd, 0, "", nil, 200), ptr, "", "/", "/0", "/-", "/00", "/a/b", "/a~", "/~2", "a")
	for _, p := range ptrs {
		got, err := d.AppendPointer([]byte("x"), p)
		want, werr := rd.AppendPointer([]byte("x"), p)
		if !sameError(err, werr) || !bytes.Equal(got, want) {
			t.Fatalf("Parse(%q).AppendPointer(%q) = %q, %v; the reference gives %q, %v", in, p, got, err, want, werr)
		}
	}
}

// sameError reports whether two errors say the same, or are both nil. An
// *Error and a *refError must agree on the offset and the message.
func sameError(err, ref error) bool {
	if err == nil || ref == nil {
		return err == nil && ref == nil
	}
	if e, ok := err.(*Error); ok {
		r, ok := ref.(*refError)
		return ok && e.Offset == r.Offset && e.Msg == r.Msg
	}
	return err.Error() == ref.Error()
}

// refPointers appends the pointers of node n of the reference's tree, at
// path, and of every node under it, up to max pointers in all; each name is
// also tried with one more byte, which must not resolve.
func refPointers(d *refDoc, n int32, path string, ptrs []string, max int) []string {
	if len(ptrs) >= max {
		return ptrs
	}
	ptrs = append(ptrs, path)
	nd := d.nodes[n]
	if nd.kind == 's' {
		return ptrs
	}
	for i, m := range d.kids[nd.a:nd.b] {
		var p string
		if nd.kind == '{' {
			tok := strings.NewReplacer("~", "~0", "/", "~1").Replace(string(d.keys[m.k0:m.k1]))
			p = path + "/" + tok
			ptrs = append(ptrs, p+"x")
		} else {
			p = path + "/" + strconv.Itoa(i)
		}
		ptrs = refPointers(d, m.refNode, p, ptrs, max)
	}
	if nd.kind == '[' {
		ptrs = append(ptrs, fmt.Sprintf("%s/%d", path, nd.b-nd.a))
	}
	return ptrs
}

// BenchmarkAppendReference is BenchmarkAppend on the reference, to compare
// the two on one machine at one time.
func BenchmarkAppendReference(b *testing.B) {
	src := []byte(`{"order":{"id":"o-123456","customer":{"name":"Ada Lovelace","email":"ada@example.com"},` +
		`"lines":[{"sku":"A-1","qty":2,"price":12.50},{"sku":"B-22","qty":1,"price":99.99}],"note":"leave at the door\n"},` +
		`"source":"web","at":"2026-11-25T12:00:00Z","total":124.99}`)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		var err error
		if dst, err = refAppend(dst[:0], src); err != nil {
			b.Fatal(err)
		}
	}
}

// payload1K is idempotency's benchmark payload: an order of about 1 KB,
// every object's members out of order.
var payload1K = func() []byte {
	var b strings.Builder
	b.WriteString(`{"order":{"id":"o-123456","customer":{"name":"Ada Lovelace","email":"ada@example.com"},"lines":[`)
	for i := range 10 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","qty":%d,"price":%d.99,"note":"gift wrap, leave at the door"}`, i, i+1, 10+i)
	}
	b.WriteString(`]},"source":"web","at":"2026-11-25T12:00:00Z"}`)
	return []byte(b.String())
}()

func BenchmarkAppend1K(b *testing.B) {
	for _, bm := range []struct {
		name string
		f    func(dst, src []byte) ([]byte, error)
	}{{"new", Append}, {"reference", refAppend}} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload1K)))
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				var err error
				if dst, err = bm.f(dst[:0], payload1K); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestNotPlain8 checks the word-at-a-time test against the byte table: every
// byte value at every place of a word of plain bytes, and a second byte
// that is not plain above it.
func TestNotPlain8(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			for _, above := range []byte{'x', '"', 0x01, 0xff} {
				if pos < 7 {
					w[7] = above
				}
				x := binary.LittleEndian.Uint64(w)
				first := 8
				for i, b := range w {
					if !plain[b] {
						first = i
						break
					}
				}
				m := notPlain8(x)
				got := 8
				if m != 0 {
					got = bits.TrailingZeros64(m) / 8
				}
				if got != first {
					t.Fatalf("notPlain8(%q): first byte not plain at %d, want %d", w, got, first)
				}
			}
		}
	}
}

// TestSortKey checks that the order of sort keys never contradicts
// compareUTF16.
func TestSortKey(t *testing.T) {
	names := []string{"", "\x00", "a", "a\x00", "ab", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefgz", "b", "é", "\u0800",
		"\ud7ff", "\ue000", "\uffff", "𐀀", "😀", "😀a", "\U0010ffff", "\x7f", "~~~~~~~~~"}
	for _, a := range names {
		for _, b := range names {
			ka, kb := sortKey([]byte(a)), sortKey([]byte(b))
			if c := compareUTF16(a, b); ka != kb && cmp.Compare(ka, kb) != c {
				t.Errorf("sortKey(%q) = %x, sortKey(%q) = %x; compareUTF16 = %d", a, ka, b, kb, c)
			}
		}
	}
}
