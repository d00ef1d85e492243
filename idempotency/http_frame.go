package idempotency

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
)

// response is an answer as [Middleware] stores it: status, the kept
// headers in the order of their names, and body.
type response struct {
	status int
	header []field
	body   []byte
}

// field is a response header field: a canonical name and its values.
type field struct {
	name   string
	values []string
}

// An answer is stored as a frame, not as JSON, so that a body takes its
// own size in the record (JSON would hold it in base64, a third larger):
//
//	byte 0      frame version, 1
//	bytes 1-2   the status, uint16 big-endian, 200 to 599
//	uvarint     the number of header fields
//	each field  its name (a uvarint length and the bytes), the number of
//	            its values (uvarint, 1 or more), each value (a uvarint
//	            length and the bytes); names in increasing byte order,
//	            each once
//	the rest    the body
//
// Decoding is strict: a frame that encode would not have written (another
// version, a status out of range, a malformed or unsorted field, a varint
// longer than it need be) is an error, so that encode(decode(b)) is b.
const frameVersion = 1

// frameCodec is the codec of Middleware's answers.
type frameCodec struct{}

var errFrame = errors.New("idempotency: malformed stored answer")

// encode writes v's frame to e.buf.
func (frameCodec) encode(e *resultEncoder, v response) error {
	e.buf.Grow(framePrefixLen(v.header) + len(v.body))
	b := e.buf.AvailableBuffer()
	b = appendFramePrefix(b, v.status, v.header)
	e.buf.Write(b)
	e.buf.Write(v.body)
	return nil
}

// appendFramePrefix appends the frame of an answer without its body.
func appendFramePrefix(b []byte, status int, header []field) []byte {
	b = append(b, frameVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(status))
	b = binary.AppendUvarint(b, uint64(len(header)))
	for _, f := range header {
		b = appendBytes(b, f.name)
		b = binary.AppendUvarint(b, uint64(len(f.values)))
		for _, v := range f.values {
			b = appendBytes(b, v)
		}
	}
	return b
}

func appendBytes(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// framePrefixLen returns the length of an answer's frame without its body.
func framePrefixLen(header []field) int {
	n := 3 + uvarintLen(uint64(len(header)))
	for _, f := range header {
		n += uvarintLen(uint64(len(f.name))) + len(f.name) + uvarintLen(uint64(len(f.values)))
		for _, v := range f.values {
			n += uvarintLen(uint64(len(v))) + len(v)
		}
	}
	return n
}

// uvarintLen returns the length of v's uvarint.
func uvarintLen(v uint64) int {
	l := 1
	for ; v >= 0x80; v >>= 7 {
		l++
	}
	return l
}

// decode decodes a frame into v. The body refers to b; the header names
// and values share one string, and the values one slice.
func (frameCodec) decode(b []byte, v *response) error {
	if len(b) < 4 || b[0] != frameVersion {
		return errFrame
	}
	status := int(binary.BigEndian.Uint16(b[1:]))
	if status < 200 || status > 599 {
		return errFrame
	}
	n, k := uvarint(b[3:])
	rest := b[3+k:]
	// A field takes 4 bytes at least: a name of 1 byte, 1 empty value.
	if k == 0 || n > uint64(len(rest))/4 {
		return errFrame
	}
	var header []field
	if n > 0 {
		end, values, ok := skipFields(rest, int(n))
		if !ok {
			return errFrame
		}
		header = make([]field, n)
		if !decodeFields(string(rest[:end]), header, make([]string, values)) {
			return errFrame
		}
		rest = rest[end:]
	}
	*v = response{status: status, header: header, body: rest}
	return nil
}

// uvarint decodes the uvarint at the start of b, and returns it and its
// length, or a length of 0 if it is malformed, overflows or is longer than
// it need be.
func uvarint(b []byte) (uint64, int) {
	v, k := binary.Uvarint(b)
	if k <= 0 || k != uvarintLen(v) {
		return 0, 0
	}
	return v, k
}

// skipFields returns the length of the n fields at the start of b, and
// the number of their values, checking every length.
func skipFields(b []byte, n int) (end, values int, ok bool) {
	i := 0
	next := func() (uint64, bool) {
		v, k := uvarint(b[i:])
		i += k
		return v, k > 0 && v <= uint64(len(b)-i)
	}
	for range n {
		l, ok := next()
		if !ok {
			return 0, 0, false
		}
		i += int(l)
		nv, ok := next()
		if !ok || nv == 0 {
			return 0, 0, false
		}
		values += int(nv)
		for range nv {
			l, ok := next()
			if !ok {
				return 0, 0, false
			}
			i += int(l)
		}
	}
	return i, values, true
}

// decodeFields decodes into header the fields of s, whose lengths
// skipFields checked, with vals as the values' storage, and checks their
// names and values.
func decodeFields(s string, header []field, vals []string) bool {
	i := 0
	next := func() int {
		v := 0
		for shift := 0; ; shift += 7 {
			c := s[i]
			i++
			v |= int(c&0x7f) << shift
			if c < 0x80 {
				return v
			}
		}
	}
	str := func() string {
		l := next()
		i += l
		return s[i-l : i]
	}
	for j := range header {
		name := str()
		if !validName(name) || j > 0 && name <= header[j-1].name {
			return false
		}
		nv := next()
		values := vals[:nv:nv]
		vals = vals[nv:]
		for k := range values {
			if values[k] = str(); !validValue(values[k]) {
				return false
			}
		}
		header[j] = field{name: name, values: values}
	}
	return true
}

// validName reports whether s is a canonical header field name, as
// http.CanonicalHeaderKey writes those the recorder keeps.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isToken(s[i]) {
			return false
		}
	}
	return http.CanonicalHeaderKey(s) == s
}

// isToken reports whether c may appear in an RFC 9110 token.
func isToken(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validValue reports whether s may be a header field value: no control
// characters but horizontal tab.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
