// Package canonjson writes JSON in a canonical form, so that two texts of
// the same JSON value hash the same: whatever the order of object members,
// the whitespace, the escapes in strings or the spelling of numbers.
//
// The form is RFC 8785's (JSON Canonicalization Scheme, JCS) but for
// numbers:
//   - no whitespace between tokens;
//   - object members sorted by name, compared as UTF-16 code units (JCS's
//     order; it differs from byte order only between characters above
//     U+FFFF and those from U+E000 to U+FFFF); array elements keep their
//     order;
//   - strings written with the fewest escapes: \" and \\, \b \f \n \r \t,
//     \u00XX (lower-case hex) for the other control characters, every other
//     character as itself in UTF-8;
//   - numbers by their exact decimal value, laid out as JCS lays out a
//     double (1e21 and larger, and below 1e-6, with an exponent: 1e+21,
//     1.5e-7), but with all the digits the text gives, never rounded to a
//     double: 1, 1.0, 1e0 and 10E-1 are all 1, -0 is 0, and
//     12345678901234567890123 is 1.2345678901234567890123e+22, distinct from
//     its neighbours, where JCS would round both to one double.
//
// It refuses what a canonical form cannot represent faithfully: text that is
// not JSON (RFC 8259), duplicate member names, strings that are not valid
// UTF-8 or hold an unpaired surrogate escape (\ud800), exponents beyond
// ±999999999, and nesting deeper than 1000.
//
// Everything here is safe for concurrent use.
package canonjson

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects accepted.
const MaxDepth = 1000

// maxExp bounds the magnitude of a number's exponent.
const maxExp = 999_999_999

// Error is the error of a text that has no canonical form.
type Error struct {
	Offset int    // the byte offset in the text where the problem was found
	Msg    string // what is wrong
}

func (e *Error) Error() string {
	return "canonjson: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Append appends the canonical form of the JSON text src to dst. It writes
// the canonical form as it parses, into dst itself, so dst's spare capacity
// must not hold src; on an error it returns dst as it was (its spare
// capacity may have been written).
func Append(dst, src []byte) ([]byte, error) {
	if len(src) >= 1<<31-1 {
		return dst, &Error{Offset: 0, Msg: "text too large"}
	}
	d := docs.Get().(*Doc)
	out, err := d.canonicalize(dst, src)
	d.Release()
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Doc is a parsed JSON text, ready to write in canonical form as a whole or
// in parts. A Doc is not safe for concurrent use; Release it when done.
//
// A Doc holds the canonical form of the whole text, which it writes in one
// pass over the text: an object's members go out as they come, and are
// moved into order when the object ends, if they were not in order. Parts
// are found by walking the canonical form.
type Doc struct {
	canon []byte   // the canonical form of the text, Parse's
	out   []byte   // where the text is being written: canon, or Append's dst
	mems  []member // the members of the objects being written
	names []byte   // the decoded names, of those members, that have escapes
	tmp   []byte   // scratch: an object's members being reordered, a number's digits, a name

	src   []byte
	pos   int
	depth int
	key   uint64 // the sort key of the string str wrote last, if keyOK
	keyOK bool
}

// member is an object's member being written: its name, colon and value
// are out[start:end]; its decoded name is out[n0:n1] if it had no escape
// (it is its own canonical form then), else names[n0:n1].
type member struct {
	key        uint64 // the order of the name's first 8 bytes (see sortKey)
	start, end int32
	n0, n1     int32
	esc        bool
}

var docs = sync.Pool{New: func() any { return new(Doc) }}

// Parse parses the JSON text src. The Doc does not keep src.
func Parse(src []byte) (*Doc, error) {
	if len(src) >= 1<<31-1 {
		return nil, &Error{Offset: 0, Msg: "text too large"}
	}
	d := docs.Get().(*Doc)
	canon, err := d.canonicalize(d.canon[:0], src)
	d.canon = canon
	if err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// canonicalize appends the canonical form of src to dst.
func (d *Doc) canonicalize(dst, src []byte) ([]byte, error) {
	d.out, d.src, d.pos, d.depth = dst, src, 0, 0
	err := d.text()
	out := d.out
	d.out, d.src = nil, nil
	return out, err
}

// text writes the text: a value between spaces.
func (d *Doc) text() error {
	d.skipSpace()
	if err := d.value(); err != nil {
		return err
	}
	d.skipSpace()
	if d.pos != len(d.src) {
		return d.errorf("text after the value")
	}
	return nil
}

// Release returns d to a pool for reuse; d must not be used afterwards.
func (d *Doc) Release() {
	const maxBytes, maxItems = 1 << 20, 1 << 16
	if cap(d.canon) > maxBytes || cap(d.names) > maxBytes || cap(d.tmp) > maxBytes || cap(d.mems) > maxItems {
		return // let a large document's buffers go: one hostile body must not stay pinned in the pool
	}
	d.canon, d.out, d.mems, d.names, d.tmp, d.src = d.canon[:0], nil, d.mems[:0], d.names[:0], d.tmp[:0], nil
	docs.Put(d)
}

// Append appends the canonical form of the whole text to dst.
func (d *Doc) Append(dst []byte) []byte { return append(dst, d.canon...) }

// AppendPointer appends the canonical form of the value at the RFC 6901
// JSON pointer ptr ("" is the whole text, "/a/0" the first element of the
// member "a") to dst. A pointer that does not resolve is an error.
func (d *Doc) AppendPointer(dst []byte, ptr string) ([]byte, error) {
	a, b, err := d.lookup(ptr)
	if err != nil {
		return dst, err
	}
	return append(dst, d.canon[a:b]...), nil
}

// lookup returns the span of the canonical form that holds the value at
// ptr.
func (d *Doc) lookup(ptr string) (int, int, error) {
	c := d.canon
	a, b := 0, len(c)
	if ptr == "" {
		return a, b, nil
	}
	if ptr[0] != '/' {
		return 0, 0, fmt.Errorf("canonjson: pointer %q does not start with /", ptr)
	}
	rest := ptr[1:]
	for {
		tok, more, last := rest, "", true
		for i := 0; i < len(rest); i++ {
			if rest[i] == '/' {
				tok, more, last = rest[:i], rest[i+1:], false
				break
			}
		}
		name, err := unescapeToken(tok)
		if err != nil {
			return 0, 0, fmt.Errorf("canonjson: pointer %q: %v", ptr, err)
		}
		found := false
		switch c[a] {
		case '{':
			a, b, found = d.member(a, name)
		case '[':
			if i, ok := arrayIndex(name); ok {
				a, b, found = element(c, a, i)
			}
		}
		if !found {
			return 0, 0, fmt.Errorf("canonjson: pointer %q does not resolve", ptr)
		}
		if last {
			return a, b, nil
		}
		rest = more
	}
}

// member returns the span of the value of the member name of the object at
// canon[i].
func (d *Doc) member(i int, name string) (int, int, bool) {
	c := d.canon
	i++ // {
	for c[i] == '"' {
		j := skipString(c, i)
		k := c[i+1 : j-1]
		if bytes.IndexByte(k, '\\') >= 0 {
			d.tmp = decodeCanonical(d.tmp[:0], k)
			k = d.tmp
		}
		order := compareUTF16(k, name)
		if order > 0 {
			return 0, 0, false // members are sorted: name is not further on
		}
		a := j + 1 // :
		b := skipValue(c, a)
		if order == 0 {
			return a, b, true
		}
		if c[b] != ',' {
			return 0, 0, false
		}
		i = b + 1
	}
	return 0, 0, false
}

// element returns the span of element n of the array at canon[i].
func element(c []byte, i, n int) (int, int, bool) {
	i++ // [
	if c[i] == ']' {
		return 0, 0, false
	}
	for {
		j := skipValue(c, i)
		if n == 0 {
			return i, j, true
		}
		if c[j] != ',' {
			return 0, 0, false
		}
		n--
		i = j + 1
	}
}

// skipValue returns the end of the canonical value at c[i].
func skipValue(c []byte, i int) int {
	switch c[i] {
	case '"':
		return skipString(c, i)
	case '{', '[':
		depth := 0
		for {
			switch c[i] {
			case '"':
				i = skipString(c, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(c) && c[i] != ',' && c[i] != '}' && c[i] != ']' {
		i++
	}
	return i
}

// skipString returns the end of the canonical string at c[i], after its
// closing quote.
func skipString(c []byte, i int) int {
	for i++; ; i++ {
		switch c[i] {
		case '"':
			return i + 1
		case '\\':
			i++ // the escaped character; the hex digits of \u00XX are not quotes
		}
	}
}

// decodeCanonical appends the characters of the content of a canonical
// string, s, to dst.
func decodeCanonical(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'u':
			r, _ := hex4(s[i+1:])
			c = byte(r)
			i += 4
		default:
			c = s[i] // " or \
		}
		dst = append(dst, c)
	}
	return dst
}

// unescapeToken decodes a pointer's reference token: ~1 is /, ~0 is ~.
func unescapeToken(tok string) (string, error) {
	for i := 0; i < len(tok); i++ {
		if tok[i] != '~' {
			continue
		}
		b := make([]byte, 0, len(tok))
		for j := 0; j < len(tok); j++ {
			c := tok[j]
			if c == '~' {
				if j+1 >= len(tok) || (tok[j+1] != '0' && tok[j+1] != '1') {
					return "", errors.New("~ not followed by 0 or 1")
				}
				if tok[j+1] == '0' {
					c = '~'
				} else {
					c = '/'
				}
				j++
			}
			b = append(b, c)
		}
		return string(b), nil
	}
	return tok, nil
}

// arrayIndex parses an array index of a pointer: decimal digits, no leading
// zero.
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func (d *Doc) errorf(format string, args ...any) error {
	return &Error{Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
}

func (d *Doc) skipSpace() {
	for d.pos < len(d.src) {
		switch d.src[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value writes the value at d.pos.
func (d *Doc) value() error {
	if d.pos >= len(d.src) {
		return d.errorf("unexpected end of text")
	}
	switch c := d.src[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		_, err := d.str(false)
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(d.src)-d.pos >= len(lit) && string(d.src[d.pos:d.pos+len(lit)]) == lit {
				d.out = append(d.out, lit...)
				d.pos += len(lit)
				return nil
			}
		}
		return d.errorf("invalid character %q looking for a value", c)
	}
}

// enter counts the array or object at d.pos in the nesting depth.
func (d *Doc) enter() error {
	if d.depth++; d.depth > MaxDepth {
		return d.errorf("nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (d *Doc) array() error {
	if err := d.enter(); err != nil {
		return err
	}
	d.out = append(d.out, '[')
	d.pos++ // [
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
		d.pos++
		d.out = append(d.out, ']')
		d.depth--
		return nil
	}
	for {
		if err := d.value(); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.src) {
			return d.errorf("unexpected end of text in an array")
		}
		switch d.src[d.pos] {
		case ',':
			d.out = append(d.out, ',')
			d.pos++
			d.skipSpace()
		case ']':
			d.out = append(d.out, ']')
			d.pos++
			d.depth--
			return nil
		default:
			return d.errorf("invalid character %q after an array element", d.src[d.pos])
		}
	}
}

func (d *Doc) object() error {
	if err := d.enter(); err != nil {
		return err
	}
	start, open := d.pos, len(d.out)
	base, nbase := len(d.mems), len(d.names)
	d.out = append(d.out, '{')
	d.pos++ // {
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
		d.out = append(d.out, '}')
		d.depth--
		return nil
	}
	for {
		if d.pos >= len(d.src) || d.src[d.pos] != '"' {
			return d.errorf("expected a member name")
		}
		mstart := len(d.out)
		esc, err := d.str(true)
		if err != nil {
			return err
		}
		n0, n1 := mstart+1, len(d.out)-1
		name := d.out[n0:n1]
		if esc {
			n0 = len(d.names)
			d.names = decodeCanonical(d.names, name)
			n1 = len(d.names)
			name = d.names[n0:n1]
		}
		key := d.key
		if !d.keyOK {
			key = sortKey(name)
		}
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != ':' {
			return d.errorf("expected : after a member name")
		}
		d.out = append(d.out, ':')
		d.pos++
		d.skipSpace()
		if err := d.value(); err != nil {
			return err
		}
		if len(d.out) > math.MaxInt32 {
			// A text under 2 GB whose canonical form is not (numbers grow
			// up to 21 bytes from 4): not worth wider offsets.
			return d.errorf("canonical form too large")
		}
		// Field by field: a member built whole on the stack and copied
		// would be read back, in wide loads, before its narrow stores
		// reach the cache, which stalls.
		d.mems = append(d.mems, member{})
		m := &d.mems[len(d.mems)-1]
		m.key, m.start, m.end, m.n0, m.n1, m.esc = key, int32(mstart), int32(len(d.out)), int32(n0), int32(n1), esc
		d.skipSpace()
		if d.pos >= len(d.src) {
			return d.errorf("unexpected end of text in an object")
		}
		switch d.src[d.pos] {
		case ',':
			d.out = append(d.out, ',')
			d.pos++
			d.skipSpace()
			continue
		case '}':
			d.pos++
		default:
			return d.errorf("invalid character %q after an object member", d.src[d.pos])
		}
		break
	}
	ms := d.mems[base:]
	if sorted, dup := d.sort(ms); dup {
		for i := 1; i < len(ms); i++ {
			if d.compare(ms[i-1], ms[i]) == 0 {
				return &Error{Offset: start, Msg: fmt.Sprintf("duplicate member name %q in the object", d.name(ms[i]))}
			}
		}
	} else if !sorted {
		d.reorder(open, ms)
	}
	d.out = append(d.out, '}')
	d.mems, d.names = d.mems[:base], d.names[:nbase]
	d.depth--
	return nil
}

// name returns the decoded name of m.
func (d *Doc) name(m member) []byte {
	if m.esc {
		return d.names[m.n0:m.n1]
	}
	return d.out[m.n0:m.n1]
}

// sort sorts ms by name, and reports whether they were sorted already and
// whether two have the same name. Members are few, and most often sorted:
// an insertion sort, which compares each member to the one before once when
// they are sorted, and sees any two with the same name, since they end up
// side by side.
func (d *Doc) sort(ms []member) (sorted, dup bool) {
	if len(ms) > 12 {
		sorted = true
		for i := 1; i < len(ms) && sorted; i++ {
			sorted = d.compare(ms[i-1], ms[i]) < 0
		}
		if !sorted {
			slices.SortFunc(ms, d.compare)
		}
		for i := 1; i < len(ms) && !dup; i++ {
			dup = d.compare(ms[i-1], ms[i]) == 0
		}
		return sorted, dup
	}
	sorted = true
	for i := 1; i < len(ms); i++ {
		m := ms[i]
		j := i
		for ; j > 0; j-- {
			c := cmp.Compare(ms[j-1].key, m.key)
			if c == 0 {
				c = d.compare(ms[j-1], m)
			}
			if c <= 0 {
				dup = dup || c == 0
				break
			}
			ms[j] = ms[j-1]
		}
		if j != i {
			ms[j], sorted = m, false
		}
	}
	return sorted, dup
}

// compare orders two members by name.
func (d *Doc) compare(x, y member) int {
	if x.key != y.key {
		return cmp.Compare(x.key, y.key)
	}
	return compareUTF16(d.name(x), d.name(y))
}

// sortKey returns a number whose order is the order of the names that
// start with the first eight bytes of name: those bytes, their order as
// compareUTF16 sees them (see utf16Order), in big-endian order, padded with
// zeros. Names whose keys are equal need to be compared in full.
func sortKey(name []byte) uint64 {
	var k uint64
	n := min(len(name), 8)
	for _, c := range name[:n] {
		k = k<<8 | uint64(utf16Order[c])
	}
	return k << (8 * (8 - n))
}

// utf16Order maps a byte of UTF-8 to its rank in the order of
// compareUTF16: its own value but for the lead bytes of the characters
// from U+10000 up (F0-F4), which come before those from U+E000 to U+FFFF
// (EE and EF). Two names that differ first in one byte differ there in
// ranks as compareUTF16 orders them.
var utf16Order = func() (t [256]byte) {
	for c := range t {
		switch {
		case c == 0xee || c == 0xef:
			t[c] = byte(c + 5) // F3, F4
		case c >= 0xf0 && c <= 0xf4:
			t[c] = byte(c - 2) // EE-F2
		default:
			t[c] = byte(c)
		}
	}
	return t
}()

// reorder rewrites the members of the object whose { is out[open], ms,
// in the order of ms. The names of ms that point into out are stale
// afterwards.
func (d *Doc) reorder(open int, ms []member) {
	// The members go to tmp in order, then back. They are short: they are
	// copied a word at a time, up to 7 bytes past their end, which the next
	// member takes, or the spare word grown here past the end of tmp; they
	// are read past their end as far, within out's capacity, which str
	// grew or which is grown here.
	n := len(d.out) - open - 1
	d.out = slices.Grow(d.out, 8)
	d.tmp = slices.Grow(d.tmp[:0], n+8)
	out, tmp := d.out[:cap(d.out)], d.tmp[:cap(d.tmp)]
	w := 0
	for i, m := range ms {
		if i > 0 {
			tmp[w] = ','
			w++
		}
		a, b := int(m.start), int(m.end)
		if b-a > 64 {
			w += copy(tmp[w:], out[a:b])
			continue
		}
		for k := a; k < b; k += 8 {
			binary.LittleEndian.PutUint64(tmp[w+k-a:], binary.LittleEndian.Uint64(out[k:]))
		}
		w += b - a
	}
	copy(d.out[open+1:], tmp[:n])
}

// compareUTF16 compares two UTF-8 strings as sequences of UTF-16 code
// units, the order of RFC 8785. UTF-8's byte order is code point order,
// which is UTF-16's but for one case: UTF-16 puts the characters from
// U+10000 up (surrogate pairs, D800-DFFF; UTF-8 lead bytes F0-F4) before
// those from U+E000 to U+FFFF (lead bytes EE and EF).
func compareUTF16[A, B ~string | ~[]byte](a A, b B) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return cmp.Compare(len(a), len(b))
	}
	x, y := a[i], b[i]
	if x >= 0xee && y >= 0xee && (x >= 0xf0) != (y >= 0xf0) {
		// Two lead bytes (valid UTF-8 that agrees up to here cannot differ
		// in a continuation byte with one above EE and one above F0): one
		// character from U+10000 up and one from U+E000 to U+FFFF.
		if x >= 0xf0 {
			return -1
		}
		return 1
	}
	return cmp.Compare(x, y)
}

// str writes the string at d.pos in canonical form, and reports whether it
// had escapes. It checks the text between escapes as UTF-8 when it meets
// the next escape or the closing quote, and reports invalid UTF-8 there: at
// the opening quote of a value without escapes, as the two passes this
// replaced did (name tells a member name).
func (d *Doc) str(name bool) (esc bool, err error) {
	src := d.src
	open := d.pos
	// The canonical form of a string is never longer than its text (an
	// escape is written in as many bytes or fewer), so with the room for the
	// rest of the text and a word more, the string is copied as it is
	// scanned, a word at a time, past the end of out if need be.
	if room := len(src) - open + 8; cap(d.out)-len(d.out) < room {
		d.out = slices.Grow(d.out, room)
	}
	buf := d.out[:cap(d.out)]
	w := len(d.out)
	buf[w] = '"'
	w++
	i := open + 1
	start, ascii := i, true
	// The first word, if its bytes are plain up to the string's end, is its
	// sort key (see sortKey); reading it from out again would stall on the
	// stores that wrote it.
	d.keyOK = false
	if name && i+8 <= len(src) {
		x := binary.LittleEndian.Uint64(src[i:])
		t := notPlain8(x)
		if k := uint(bits.TrailingZeros64(t)) / 8; t == 0 || src[i+int(k)] == '"' {
			d.key, d.keyOK = bits.ReverseBytes64(x)&^(1<<(8*(8-k))-1), true
		}
	}
	for {
		for i+8 <= len(src) {
			x := binary.LittleEndian.Uint64(src[i:])
			binary.LittleEndian.PutUint64(buf[w:w+8], x)
			if t := notPlain8(x); t != 0 {
				k := bits.TrailingZeros64(t) / 8
				i, w = i+k, w+k
				break
			}
			i, w = i+8, w+8
		}
		if i >= len(src) {
			d.out = buf[:w]
			d.pos = len(src)
			return esc, d.errorf("unexpected end of text in a string")
		}
		switch c := src[i]; {
		case c == '"':
			if !ascii && !utf8.Valid(src[start:i]) {
				d.out = buf[:w]
				d.pos = i
				if !esc && !name {
					d.pos = open
				}
				return esc, d.errorf("string is not valid UTF-8")
			}
			buf[w] = '"'
			d.out = buf[:w+1]
			d.pos = i + 1
			return esc, nil
		case c == '\\':
			d.out = buf[:w]
			d.pos = i
			if !ascii && !utf8.Valid(src[start:i]) {
				return esc, d.errorf("string is not valid UTF-8")
			}
			if err := d.escape(); err != nil {
				return esc, err
			}
			buf, w = d.out[:cap(d.out)], len(d.out)
			i, start, ascii, esc = d.pos, d.pos, true, true
		case plain[c]:
			buf[w] = c
			i, w = i+1, w+1
		case c >= utf8.RuneSelf:
			buf[w] = c
			i, w = i+1, w+1
			ascii = false
		default:
			d.out = buf[:w]
			d.pos = i
			return esc, d.errorf("control character %#02x in a string", c)
		}
	}
}

// notPlain8 returns a mask of the bytes of x, eight bytes of a string read
// in little-endian order, that are not plain (see plain): the high bit of
// each, from the lowest byte that is not plain up, may be set; the bits
// below it are not. For each byte b, b-0x20, (b^'"')-1 and (b^'\\')-1 set
// their high bit, by a borrow, exactly when b is below 0x20, '"' or '\\'
// (the bytes below are plain and lend nothing); b's own high bit is set
// when it is not ASCII.
func notPlain8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return ((x - 0x20*ones) | ((x ^ '"'*ones) - ones) | ((x ^ '\\'*ones) - ones) | x) & highs
}

// escape writes, in canonical form, the character of the escape at d.pos
// (a backslash).
func (d *Doc) escape() error {
	if d.pos+1 >= len(d.src) {
		return d.errorf("unexpected end of text in a string")
	}
	c := d.src[d.pos+1]
	switch c {
	case '"', '\\':
		d.out = append(d.out, '\\', c)
	case 'b', 'f', 'n', 'r', 't':
		d.out = append(d.out, '\\', c)
	case '/':
		d.out = append(d.out, '/')
	case 'u':
		r, ok := hex4(d.src[d.pos+2:])
		if !ok {
			return d.errorf("invalid \\u escape")
		}
		if utf16.IsSurrogate(r) {
			lo, ok := rune(0), false
			if r < 0xdc00 && len(d.src)-d.pos >= 12 && d.src[d.pos+6] == '\\' && d.src[d.pos+7] == 'u' {
				lo, ok = hex4(d.src[d.pos+8:])
				ok = ok && lo >= 0xdc00 && lo <= 0xdfff
			}
			if !ok {
				return d.errorf("unpaired surrogate in a \\u escape")
			}
			d.pos += 12
			d.out = utf8.AppendRune(d.out, utf16.DecodeRune(r, lo))
			return nil
		}
		d.pos += 6
		if r < utf8.RuneSelf {
			d.out = appendASCII(d.out, byte(r))
		} else {
			d.out = utf8.AppendRune(d.out, r)
		}
		return nil
	default:
		return d.errorf("invalid escape \\%c", c)
	}
	d.pos += 2
	return nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// plain tells the ASCII bytes that stand for themselves in a canonical
// string: all but the control characters, " and \.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendASCII appends the ASCII character c as it is written in a
// canonical string.
func appendASCII(dst []byte, c byte) []byte {
	const hex = "0123456789abcdef"
	if plain[c] {
		return append(dst, c)
	}
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}

// AppendString appends s, valid UTF-8, as a canonical JSON string.
func AppendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i, c := range s {
		if plain[c] || c >= utf8.RuneSelf {
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendASCII(dst, c)
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// number writes the number at d.pos in canonical form.
func (d *Doc) number() error {
	s := d.src
	i := d.pos
	neg := false
	if s[i] == '-' {
		neg = true
		i++
	}
	// Integer part: 0, or a digit 1-9 and more digits.
	i0 := i
	if i < len(s) && s[i] == '0' {
		i++
	} else {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i == i0 {
		d.pos = i
		return d.errorf("invalid number: no digits")
	}
	i1 := i
	// Fraction.
	f0, f1 := i, i
	if i < len(s) && s[i] == '.' {
		i++
		f0 = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		f1 = i
		if f1 == f0 {
			d.pos = i
			return d.errorf("invalid number: no digits after the decimal point")
		}
	}
	// Exponent.
	exp := int64(0)
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		e0 := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if exp = exp*10 + int64(s[i]-'0'); exp > maxExp {
				d.pos = e0
				return d.errorf("number exponent out of range")
			}
			i++
		}
		if i == e0 {
			d.pos = i
			return d.errorf("invalid number: no digits in the exponent")
		}
		if eneg {
			exp = -exp
		}
	} else if canonicalAsIs(s[i0:i1], s[f0:f1]) && (!neg || s[i0] != '0' || f1 > f0) {
		// The common case, 42 or 12.5, is its own canonical form.
		d.out = append(d.out, s[d.pos:i]...)
		d.pos = i
		return nil
	}
	d.pos = i

	// The significant digits, without leading or trailing zeros: the value
	// is digits × 10^exp.
	buf := append(d.tmp[:0], s[i0:i1]...)
	buf = append(buf, s[f0:f1]...)
	d.tmp = buf[:0]
	digits := buf
	exp -= int64(f1 - f0)
	lead := 0
	for lead < len(digits) && digits[lead] == '0' {
		lead++
	}
	digits = digits[lead:]
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if len(digits) == 0 {
		d.out = append(d.out, '0') // -0 too
		return nil
	}
	if neg {
		d.out = append(d.out, '-')
	}
	d.out = appendDecimal(d.out, digits, exp)
	return nil
}

// canonicalAsIs reports whether a number without an exponent, whose
// integer part is whole and fraction frac, is written in canonical form
// (but for its sign): no trailing zero in the fraction, and within the
// bounds of the layout without an exponent: at most 21 integer digits, or
// a fraction of 0 that starts with at most 5 zeros. A zero with no
// fraction is canonical, but -0 is not (the caller checks the sign).
func canonicalAsIs(whole, frac []byte) bool {
	if len(frac) > 0 && frac[len(frac)-1] == '0' {
		return false
	}
	if whole[0] != '0' {
		return len(whole) <= 21
	}
	if len(frac) == 0 {
		return true
	}
	for i := range min(len(frac), 6) {
		if frac[i] != '0' {
			return true
		}
	}
	return false
}

// appendDecimal appends digits × 10^exp, where digits has no leading or
// trailing zero, laid out as ECMAScript's Number.prototype.toString lays out
// a double (which RFC 8785 follows).
func appendDecimal(dst, digits []byte, exp int64) []byte {
	k := int64(len(digits))
	n := k + exp // the value is 0.digits × 10^n
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, n-1, 10)
	}
	return dst
}
