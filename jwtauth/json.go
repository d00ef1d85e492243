package jwtauth

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// The strict JSON decoder for JOSE headers and claims sets (RFC 7515 §4,
// RFC 7519 §4, RFC 8725 §3.2). The syntax is jsontext's, whose defaults
// (RFC 7493) already refuse a member name twice in one object, compared
// after unescaping, at any depth; invalid UTF-8, in raw bytes or as an
// escaped lone surrogate; and, with the read of io.EOF after the value,
// anything but whitespace after it. This file adds what jsontext does not:
// the value must be an object; nesting deeper than maxDepth is refused
// (jsontext allows 10000); numbers decode to float64 and must be finite,
// as with encoding/json; and, for the header, which top-level member values
// were strings written with an escape sequence.

// maxDepth bounds the nesting of objects and arrays: a header or claims
// set that nests deeper is no issuer's, and a recursive decode would spend
// stack on it.
const maxDepth = 32

var errJSON = errors.New("invalid JSON")

// objectDecoder is a jsontext.Decoder reading straight from a
// bytes.Buffer that holds a copy of the input.
type objectDecoder struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

// objectDecoders keeps decoders for reuse, since a decoder is large to
// allocate for every token: a free list of its own size rather than a
// sync.Pool, whose emptying at random garbage collections would make the
// code each input runs differ from run to run, and the fuzzer's coverage
// with it (the fuzzer then stalls minimizing inputs whose coverage it
// cannot reproduce).
var objectDecoders = make(chan *objectDecoder, 8)

// decodeObject decodes data, which must hold exactly one JSON object. With
// trackEscapes, it also returns the names of the top-level members whose
// values are strings written with an escape sequence; the header check
// uses it.
func decodeObject(data []byte, trackEscapes bool) (map[string]any, map[string]bool, error) {
	var od *objectDecoder
	select {
	case od = <-objectDecoders:
	default:
		od = new(objectDecoder)
	}
	defer func() {
		select {
		case objectDecoders <- od:
		default:
		}
	}()
	od.buf.Reset()
	od.buf.Write(data)
	od.dec.Reset(&od.buf)
	d := &od.dec

	if d.PeekKind() != '{' {
		return nil, nil, errJSON
	}
	var escaped map[string]bool
	if trackEscapes {
		escaped = make(map[string]bool, 2)
	}
	v, err := decodeContainer(d, escaped)
	if err != nil {
		return nil, nil, err
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return nil, nil, errJSON
	}
	return v.(map[string]any), escaped, nil
}

// decodeValue decodes the next value of d.
func decodeValue(d *jsontext.Decoder) (any, error) {
	if k := d.PeekKind(); k == '{' || k == '[' {
		return decodeContainer(d, nil)
	}
	tok, err := d.ReadToken()
	if err != nil {
		return nil, errJSON
	}
	switch tok.Kind() {
	case '"':
		return tok.String(), nil
	case 'n':
		return nil, nil
	case 'f', 't':
		return tok.Bool(), nil
	case '0':
		f, err := tok.Float()
		if err != nil { // out of range: ±Inf
			return nil, errJSON
		}
		return f, nil
	}
	return nil, errJSON
}

// decodeContainer decodes the object or array that starts at d. escaped,
// if not nil, records which members of this object have string values
// written with an escape sequence.
func decodeContainer(d *jsontext.Decoder, escaped map[string]bool) (any, error) {
	open, err := d.ReadToken()
	if err != nil || d.StackDepth() > maxDepth {
		return nil, errJSON
	}
	if open.Kind() == '[' {
		a := make([]any, 0, 4)
		for d.PeekKind() != ']' {
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, errJSON
		}
		return a, nil
	}
	m := make(map[string]any, 8)
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return nil, errJSON
		}
		// A Token is valid only until the next read.
		name := tok.String()
		var v any
		if escaped != nil && d.PeekKind() == '"' {
			// The raw value, which jsontext has checked, shows
			// whether it was escaped; unescaped, it is the string
			// between its quotes.
			raw, err := d.ReadValue()
			if err != nil {
				return nil, errJSON
			}
			if bytes.IndexByte(raw, '\\') < 0 {
				v = string(raw[1 : len(raw)-1])
			} else {
				s, err := jsontext.AppendUnquote(nil, raw)
				if err != nil {
					return nil, errJSON
				}
				escaped[name] = true
				v = string(s)
			}
		} else if v, err = decodeValue(d); err != nil {
			return nil, err
		}
		m[name] = v
	}
	if _, err := d.ReadToken(); err != nil {
		return nil, errJSON
	}
	return m, nil
}
