package jwtauth

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The strict JSON decoder for JOSE headers and claims sets. It differs from
// encoding/json in what it refuses (RFC 7515 §4, RFC 7519 §4, RFC 8725 §3.2):
// a member name twice in one object, at any depth; invalid UTF-8, in raw
// bytes or as a lone surrogate escape; anything but one object with only
// whitespace around it; nesting deeper than maxDepth. Numbers decode to
// float64 and must be finite, as with encoding/json.

const maxDepth = 32

var errJSON = errors.New("invalid JSON")

type decoder struct {
	data  []byte
	pos   int
	depth int
	// raw records, for the top-level object, which member values were
	// strings written with an escape sequence; the header check uses it.
	escaped map[string]bool
	top     bool
}

// decodeObject decodes data, which must hold exactly one JSON object.
func decodeObject(data []byte, trackEscapes bool) (map[string]any, map[string]bool, error) {
	d := decoder{data: data}
	if trackEscapes {
		d.escaped = make(map[string]bool, 2)
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return nil, nil, errJSON
	}
	d.top = true
	v, err := d.object()
	if err != nil {
		return nil, nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, nil, errJSON
	}
	return v, d.escaped, nil
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, errJSON
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, _, err := d.string()
		return s, err
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, errJSON
}

func (d *decoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return errJSON
	}
	d.pos += len(lit)
	return nil
}

func (d *decoder) object() (map[string]any, error) {
	top := d.top
	d.top = false
	if d.depth++; d.depth > maxDepth {
		return nil, errJSON
	}
	d.pos++ // '{'
	m := make(map[string]any, 8)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return m, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errJSON
		}
		name, _, err := d.string()
		if err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, errDuplicate
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errJSON
		}
		d.pos++
		d.skipSpace()
		var v any
		if top && d.escaped != nil && d.pos < len(d.data) && d.data[d.pos] == '"' {
			s, esc, err := d.string()
			if err != nil {
				return nil, err
			}
			if esc {
				d.escaped[name] = true
			}
			v = s
		} else if v, err = d.value(); err != nil {
			return nil, err
		}
		m[name] = v
		done, err := d.separator('}')
		if err != nil {
			return nil, err
		}
		if done {
			return m, nil
		}
	}
}

// separator reads what follows a member or element: ',' (more to come) or
// close (the container ends, done).
func (d *decoder) separator(close byte) (done bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return false, errJSON
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		return false, nil
	case close:
		d.pos++
		d.depth--
		return true, nil
	}
	return false, errJSON
}

var errDuplicate = errors.New("duplicate member name")

func (d *decoder) array() ([]any, error) {
	if d.depth++; d.depth > maxDepth {
		return nil, errJSON
	}
	d.pos++ // '['
	a := make([]any, 0, 4)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		done, err := d.separator(']')
		if err != nil {
			return nil, err
		}
		if done {
			return a, nil
		}
	}
}

// string decodes the string at d.pos and reports whether it held an escape.
func (d *decoder) string() (string, bool, error) {
	d.pos++ // '"'
	start := d.pos
	// Fast path: no escapes, ASCII or valid UTF-8.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := d.data[start:d.pos]
			d.pos++
			if !utf8.Valid(s) {
				return "", false, errJSON
			}
			return string(s), false, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", false, errJSON
		}
		d.pos++
	}
	if d.pos >= len(d.data) {
		return "", false, errJSON
	}
	buf := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !utf8.Valid(buf) {
				return "", true, errJSON
			}
			return string(buf), true, nil
		case c < 0x20:
			return "", true, errJSON
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		d.pos++
		if d.pos >= len(d.data) {
			return "", true, errJSON
		}
		e := d.data[d.pos]
		d.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", true, errJSON
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate must be followed by a low one.
				if r >= 0xDC00 || len(d.data)-d.pos < 2 || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
					return "", true, errJSON
				}
				d.pos += 2
				r2, ok := d.hex4()
				if !ok {
					return "", true, errJSON
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", true, errJSON
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", true, errJSON
		}
	}
	return "", true, errJSON
}

func (d *decoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}

// number decodes a number of RFC 8259 §6 grammar.
func (d *decoder) number() (float64, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return 0, errJSON
	}
	switch c := d.data[d.pos]; {
	case c == '0':
		d.pos++
	case c >= '1' && c <= '9':
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
	default:
		return 0, errJSON
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if !d.digits() {
			return 0, errJSON
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if !d.digits() {
			return 0, errJSON
		}
	}
	f, err := strconv.ParseFloat(string(d.data[start:d.pos]), 64)
	if err != nil { // out of range: ±Inf
		return 0, errJSON
	}
	return f, nil
}

func (d *decoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}
