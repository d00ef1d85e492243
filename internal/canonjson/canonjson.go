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
	"cmp"
	"errors"
	"fmt"
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

// Append appends the canonical form of the JSON text src to dst.
func Append(dst, src []byte) ([]byte, error) {
	d, err := Parse(src)
	if err != nil {
		return dst, err
	}
	dst = d.Append(dst)
	d.Release()
	return dst, nil
}

// Doc is a parsed JSON text, ready to write in canonical form as a whole or
// in parts. A Doc is not safe for concurrent use; Release it when done.
type Doc struct {
	nodes []node   // nodes[0] is the root
	kids  []member // the members of containers, each container's contiguous
	stack []member // children of the containers being parsed
	keys  []byte   // decoded member names
	lit   []byte   // canonical scalars
	tmp   []byte   // scratch for a number's digits

	src   []byte
	pos   int
	depth int
}

// node is a value: a scalar, lit[a:b], or a container, kids[a:b].
type node struct {
	kind byte // 's' scalar, '[' array, '{' object
	a, b int32
}

// member is a container's child: the node, and for an object its name,
// keys[k0:k1].
type member struct {
	k0, k1 int32
	node   int32
}

var docs = sync.Pool{New: func() any { return new(Doc) }}

// Parse parses the JSON text src. The Doc does not keep src.
func Parse(src []byte) (*Doc, error) {
	if len(src) >= 1<<31-1 {
		return nil, &Error{Offset: 0, Msg: "text too large"}
	}
	d := docs.Get().(*Doc)
	d.src, d.pos, d.depth = src, 0, 0
	d.skipSpace()
	if _, err := d.value(); err != nil {
		d.Release()
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.src) {
		err := d.errorf("text after the value")
		d.Release()
		return nil, err
	}
	d.src = nil
	return d, nil
}

// Release returns d to a pool for reuse; d must not be used afterwards.
func (d *Doc) Release() {
	const maxBytes, maxItems = 1 << 20, 1 << 16
	if cap(d.lit) > maxBytes || cap(d.keys) > maxBytes || cap(d.tmp) > maxBytes ||
		cap(d.nodes) > maxItems || cap(d.kids) > maxItems || cap(d.stack) > maxItems {
		return // let a large document's buffers go: one hostile body must not stay pinned in the pool
	}
	d.nodes, d.kids, d.stack = d.nodes[:0], d.kids[:0], d.stack[:0]
	d.keys, d.lit, d.tmp, d.src = d.keys[:0], d.lit[:0], d.tmp[:0], nil
	docs.Put(d)
}

// Append appends the canonical form of the whole text to dst.
func (d *Doc) Append(dst []byte) []byte { return d.emit(dst, 0) }

// AppendPointer appends the canonical form of the value at the RFC 6901
// JSON pointer ptr ("" is the whole text, "/a/0" the first element of the
// member "a") to dst. A pointer that does not resolve is an error.
func (d *Doc) AppendPointer(dst []byte, ptr string) ([]byte, error) {
	n, err := d.lookup(ptr)
	if err != nil {
		return dst, err
	}
	return d.emit(dst, n), nil
}

// lookup returns the node at ptr.
func (d *Doc) lookup(ptr string) (int32, error) {
	if ptr == "" {
		return 0, nil
	}
	if ptr[0] != '/' {
		return 0, fmt.Errorf("canonjson: pointer %q does not start with /", ptr)
	}
	n := int32(0)
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
			return 0, fmt.Errorf("canonjson: pointer %q: %v", ptr, err)
		}
		nd := d.nodes[n]
		found := false
		switch nd.kind {
		case '{':
			// Members are sorted: a binary search finds the name.
			ms := d.kids[nd.a:nd.b]
			i, ok := slices.BinarySearchFunc(ms, name, func(m member, name string) int {
				return compareUTF16(d.keys[m.k0:m.k1], name)
			})
			if ok {
				n, found = ms[i].node, true
			}
		case '[':
			if i, ok := arrayIndex(name); ok && i < int(nd.b-nd.a) {
				n, found = d.kids[int(nd.a)+i].node, true
			}
		}
		if !found {
			return 0, fmt.Errorf("canonjson: pointer %q does not resolve", ptr)
		}
		if last {
			return n, nil
		}
		rest = more
	}
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

// emit appends the canonical form of node n to dst.
func (d *Doc) emit(dst []byte, n int32) []byte {
	nd := d.nodes[n]
	switch nd.kind {
	case '[':
		dst = append(dst, '[')
		for i, m := range d.kids[nd.a:nd.b] {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = d.emit(dst, m.node)
		}
		return append(dst, ']')
	case '{':
		dst = append(dst, '{')
		for i, m := range d.kids[nd.a:nd.b] {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, d.keys[m.k0:m.k1])
			dst = append(dst, ':')
			dst = d.emit(dst, m.node)
		}
		return append(dst, '}')
	}
	return append(dst, d.lit[nd.a:nd.b]...)
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

// value parses the value at d.pos and returns its node.
func (d *Doc) value() (int32, error) {
	if d.pos >= len(d.src) {
		return 0, d.errorf("unexpected end of text")
	}
	switch c := d.src[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		a := len(d.lit)
		var err error
		d.lit, err = d.appendCanonicalString(d.lit)
		if err != nil {
			return 0, err
		}
		return d.scalar(a), nil
	case c == '-' || (c >= '0' && c <= '9'):
		a := len(d.lit)
		if err := d.number(); err != nil {
			return 0, err
		}
		return d.scalar(a), nil
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(d.src)-d.pos >= len(lit) && string(d.src[d.pos:d.pos+len(lit)]) == lit {
				a := len(d.lit)
				d.lit = append(d.lit, lit...)
				d.pos += len(lit)
				return d.scalar(a), nil
			}
		}
		return 0, d.errorf("invalid character %q looking for a value", c)
	}
}

func (d *Doc) scalar(a int) int32 {
	d.nodes = append(d.nodes, node{kind: 's', a: int32(a), b: int32(len(d.lit))})
	return int32(len(d.nodes) - 1)
}

// container reserves the node of an array or object about to be parsed.
func (d *Doc) container(kind byte) (int32, error) {
	if d.depth++; d.depth > MaxDepth {
		return 0, d.errorf("nesting deeper than %d", MaxDepth)
	}
	d.nodes = append(d.nodes, node{kind: kind})
	return int32(len(d.nodes) - 1), nil
}

// close moves the children on the stack from base into kids, where they
// stay contiguous, and records them as node n's.
func (d *Doc) close(n int32, base int) {
	a := len(d.kids)
	d.kids = append(d.kids, d.stack[base:]...)
	d.stack = d.stack[:base]
	d.nodes[n].a, d.nodes[n].b = int32(a), int32(len(d.kids))
	d.depth--
}

func (d *Doc) array() (int32, error) {
	n, err := d.container('[')
	if err != nil {
		return 0, err
	}
	base := len(d.stack)
	d.pos++ // [
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
		d.pos++
		d.close(n, base)
		return n, nil
	}
	for {
		c, err := d.value()
		if err != nil {
			return 0, err
		}
		d.stack = append(d.stack, member{node: c})
		d.skipSpace()
		if d.pos >= len(d.src) {
			return 0, d.errorf("unexpected end of text in an array")
		}
		switch d.src[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			d.close(n, base)
			return n, nil
		default:
			return 0, d.errorf("invalid character %q after an array element", d.src[d.pos])
		}
	}
}

func (d *Doc) object() (int32, error) {
	n, err := d.container('{')
	if err != nil {
		return 0, err
	}
	base := len(d.stack)
	start := d.pos
	d.pos++ // {
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
		d.close(n, base)
		return n, nil
	}
	for {
		if d.pos >= len(d.src) || d.src[d.pos] != '"' {
			return 0, d.errorf("expected a member name")
		}
		k0 := len(d.keys)
		if d.keys, err = d.appendDecodedString(d.keys); err != nil {
			return 0, err
		}
		k1 := len(d.keys)
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != ':' {
			return 0, d.errorf("expected : after a member name")
		}
		d.pos++
		d.skipSpace()
		c, err := d.value()
		if err != nil {
			return 0, err
		}
		d.stack = append(d.stack, member{k0: int32(k0), k1: int32(k1), node: c})
		d.skipSpace()
		if d.pos >= len(d.src) {
			return 0, d.errorf("unexpected end of text in an object")
		}
		switch d.src[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
			continue
		case '}':
			d.pos++
		default:
			return 0, d.errorf("invalid character %q after an object member", d.src[d.pos])
		}
		break
	}
	ms := d.stack[base:]
	byName := func(x, y member) int { return compareUTF16(d.keys[x.k0:x.k1], d.keys[y.k0:y.k1]) }
	if !slices.IsSortedFunc(ms, byName) {
		slices.SortFunc(ms, byName)
	}
	for i := 1; i < len(ms); i++ {
		if byName(ms[i-1], ms[i]) == 0 {
			return 0, &Error{Offset: start, Msg: fmt.Sprintf("duplicate member name %q in the object", d.keys[ms[i].k0:ms[i].k1])}
		}
	}
	d.close(n, base)
	return n, nil
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

// appendCanonicalString parses the string at d.pos and appends its
// canonical form, quoted.
func (d *Doc) appendCanonicalString(dst []byte) ([]byte, error) {
	// The common case, a string without escapes nor control characters,
	// is its own canonical form.
	i, ascii := d.pos+1, true
	for i < len(d.src) {
		c := d.src[i]
		if plain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			ascii = false
			i++
			continue
		}
		if c != '"' {
			break // an escape or a control character
		}
		if !ascii && !utf8.Valid(d.src[d.pos+1:i]) {
			return dst, d.errorf("string is not valid UTF-8")
		}
		dst = append(dst, d.src[d.pos:i+1]...)
		d.pos = i + 1
		return dst, nil
	}
	k := len(d.tmp)
	var err error
	d.tmp, err = d.appendDecodedString(d.tmp)
	if err != nil {
		return dst, err
	}
	dst = AppendString(dst, d.tmp[k:])
	d.tmp = d.tmp[:k]
	return dst, nil
}

// appendDecodedString parses the string at d.pos and appends its value, in
// UTF-8, unquoted.
func (d *Doc) appendDecodedString(dst []byte) ([]byte, error) {
	d.pos++ // "
	start, ascii := d.pos, true
	for d.pos < len(d.src) {
		c := d.src[d.pos]
		switch {
		case plain[c]:
			d.pos++
		case c >= utf8.RuneSelf:
			ascii = false
			d.pos++
		case c == '"':
			if !ascii && !utf8.Valid(d.src[start:d.pos]) {
				return dst, d.errorf("string is not valid UTF-8")
			}
			dst = append(dst, d.src[start:d.pos]...)
			d.pos++
			return dst, nil
		case c == '\\':
			if !ascii && !utf8.Valid(d.src[start:d.pos]) {
				return dst, d.errorf("string is not valid UTF-8")
			}
			dst = append(dst, d.src[start:d.pos]...)
			var err error
			if dst, err = d.escape(dst); err != nil {
				return dst, err
			}
			start, ascii = d.pos, true
		default:
			return dst, d.errorf("control character %#02x in a string", c)
		}
	}
	return dst, d.errorf("unexpected end of text in a string")
}

// escape decodes the escape at d.pos (a backslash) and appends it.
func (d *Doc) escape(dst []byte) ([]byte, error) {
	if d.pos+1 >= len(d.src) {
		return dst, d.errorf("unexpected end of text in a string")
	}
	c := d.src[d.pos+1]
	switch c {
	case '"', '\\', '/':
		d.pos += 2
		return append(dst, c), nil
	case 'b':
		d.pos += 2
		return append(dst, '\b'), nil
	case 'f':
		d.pos += 2
		return append(dst, '\f'), nil
	case 'n':
		d.pos += 2
		return append(dst, '\n'), nil
	case 'r':
		d.pos += 2
		return append(dst, '\r'), nil
	case 't':
		d.pos += 2
		return append(dst, '\t'), nil
	case 'u':
		r, ok := hex4(d.src[d.pos+2:])
		if !ok {
			return dst, d.errorf("invalid \\u escape")
		}
		if utf16.IsSurrogate(r) {
			lo, ok := rune(0), false
			if r < 0xdc00 && len(d.src)-d.pos >= 12 && d.src[d.pos+6] == '\\' && d.src[d.pos+7] == 'u' {
				lo, ok = hex4(d.src[d.pos+8:])
				ok = ok && lo >= 0xdc00 && lo <= 0xdfff
			}
			if !ok {
				return dst, d.errorf("unpaired surrogate in a \\u escape")
			}
			d.pos += 12
			return utf8.AppendRune(dst, utf16.DecodeRune(r, lo)), nil
		}
		d.pos += 6
		return utf8.AppendRune(dst, r), nil
	}
	return dst, d.errorf("invalid escape \\%c", c)
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

// AppendString appends s, valid UTF-8, as a canonical JSON string.
func AppendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i, c := range s {
		if plain[c] || c >= utf8.RuneSelf {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// number parses the number at d.pos and appends its canonical form to
// d.lit.
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
		d.lit = append(d.lit, '0') // -0 too
		return nil
	}
	if neg {
		d.lit = append(d.lit, '-')
	}
	d.lit = appendDecimal(d.lit, digits, exp)
	return nil
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
