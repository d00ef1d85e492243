package event

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// maxKeys bounds how many member names of one object the signature keeps.
// Events have a dozen or two top-level keys; names past the bound are
// skipped, which only matters to an event no kind would recognise anyway.
const maxKeys = 48

// signature is what one pass over a payload learns about it: the member names
// of the top-level object and of its requestContext, and a few string values
// that tell kinds apart. It holds slices into the payload and allocates
// nothing.
type signature struct {
	object bool // the payload is a JSON object
	// records and context say whether the top level has a Records or a
	// requestContext member, even when top has no room left for its name:
	// matchers rule kinds out by them.
	records, context bool

	top   keys // top-level member names
	reqCx keys // member names of requestContext, when it is an object

	version      []byte // top-level "version"
	domainName   []byte // requestContext.domainName
	recordSource []byte // Records[0].eventSource or Records[0].EventSource
	source       []byte // top-level "source" (EventBridge)
	detailType   []byte // top-level "detail-type" (EventBridge)
}

// signatures recycles signatures: kinds' matchers are called through function
// values, so a signature would otherwise escape to the heap on every sniff.
var signatures = sync.Pool{New: func() any { return new(signature) }}

func getSignature() *signature { return signatures.Get().(*signature) }

// putSignature clears sig, dropping its references into the payload, and
// returns it to the pool.
func putSignature(sig *signature) {
	clear(sig.top.names[:sig.top.n])
	clear(sig.reqCx.names[:sig.reqCx.n])
	sig.top.n, sig.reqCx.n = 0, 0
	sig.object, sig.records, sig.context = false, false, false
	sig.version, sig.domainName, sig.recordSource, sig.source, sig.detailType = nil, nil, nil, nil, nil
	signatures.Put(sig)
}

// keys is a bounded set of raw (still escaped) member names.
type keys struct {
	n     int
	names [maxKeys][]byte
}

func (k *keys) add(name []byte) {
	if k.n < maxKeys {
		k.names[k.n] = name
		k.n++
	}
}

// has reports whether name is one of the member names.
func (k *keys) has(name string) bool {
	for _, n := range k.names[:k.n] {
		if string(n) == name {
			return true
		}
	}
	return false
}

// list returns the names, for error messages.
func (k *keys) list() []string {
	out := make([]string, 0, k.n)
	for _, n := range k.names[:k.n] {
		out = append(out, string(n))
	}
	return out
}

// has reports whether the top-level object has a member called name.
func (s *signature) has(name string) bool { return s.top.has(name) }

// contextHas reports whether requestContext has a member called name.
func (s *signature) contextHas(name string) bool { return s.reqCx.has(name) }

// scanner walks a JSON text without decoding it. It checks only as much
// syntax as it needs to find its way; [Decode] validates the rest. Every index
// is bounds-checked, so any input, however broken, ends in ok == false rather
// than a panic.
type scanner struct {
	b  []byte
	i  int
	ok bool
}

// scan reads the signature of payload. It returns false when the payload is
// not a well-formed enough JSON text to find its way through.
func scan(payload []byte, sig *signature) bool {
	s := scanner{b: payload, ok: true}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	sig.object = true
	s.object(func(name []byte) {
		switch string(name) {
		case "version":
			sig.version = s.stringValue()
		case "source":
			sig.source = s.stringValue()
		case "detail-type":
			sig.detailType = s.stringValue()
		case "requestContext":
			sig.context = true
			s.requestContext(sig)
		case "Records":
			sig.records = true
			s.records(sig)
		default:
			s.skip()
		}
		sig.top.add(name)
	})
	return s.ok
}

func (s *scanner) requestContext(sig *signature) {
	if s.peek() != '{' {
		s.skip()
		return
	}
	s.object(func(name []byte) {
		if string(name) == "domainName" {
			sig.domainName = s.stringValue()
		} else {
			s.skip()
		}
		sig.reqCx.add(name)
	})
}

// records reads the event source of the first record and skips the rest.
func (s *scanner) records(sig *signature) {
	if s.peek() != '[' {
		s.skip()
		return
	}
	s.i++
	s.ws()
	switch s.peek() {
	case ']':
		s.i++
		return
	case '{':
		s.object(func(name []byte) {
			switch string(name) {
			case "eventSource", "EventSource":
				sig.recordSource = s.stringValue()
			default:
				s.skip()
			}
		})
	default:
		s.skip()
	}
	for s.ok {
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
			s.skip()
		case ']':
			s.i++
			return
		default:
			s.ok = false
		}
	}
}

// object walks the members of an object, calling member with each name while
// positioned at its value; member must consume the value.
func (s *scanner) object(member func(name []byte)) {
	s.i++ // '{'
	s.ws()
	if s.peek() == '}' {
		s.i++
		return
	}
	for s.ok {
		s.ws()
		name := s.stringValue()
		if !s.ok {
			return
		}
		s.ws()
		if s.peek() != ':' {
			s.ok = false
			return
		}
		s.i++
		s.ws()
		member(name)
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return
		default:
			s.ok = false
		}
	}
}

// stringValue returns the raw contents of the string at the cursor (escapes
// left as they are) and moves past it. On anything else it returns nil and,
// when the value is not a string at all, skips it.
func (s *scanner) stringValue() []byte {
	if s.peek() != '"' {
		s.skip()
		return nil
	}
	start := s.i + 1
	end := skipString(s.b, start)
	if end < 0 {
		s.ok = false
		s.i = len(s.b)
		return nil
	}
	s.i = end + 1
	return s.b[start:end]
}

// skipString returns the index of the quote that closes the string whose
// contents start at i, or -1. It looks at eight bytes at a time for a quote
// or a backslash (the lowest flagged byte of the classic "has zero byte"
// test is exact), which is several times faster than a byte loop and, for
// the short strings of events, than a call to bytes.IndexByte.
func skipString(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i < len(b) {
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			q := w ^ (ones * '"')
			e := w ^ (ones * '\\')
			if m := ((q-ones)&^q | (e-ones)&^e) & highs; m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		switch b[i] {
		case '"':
			return i
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return -1
}

// skip moves past one value of any type.
func (s *scanner) skip() {
	switch c := s.peek(); c {
	case '"':
		s.stringValue()
	case '{', '[':
		s.skipContainer()
	case 0:
		s.ok = false
	default:
		// A number or a literal: it ends at a delimiter or white space.
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if s.i == start {
					s.ok = false
				}
				return
			}
			s.i++
		}
	}
}

// skipContainer moves past the object or array at the cursor. It counts
// brackets instead of recursing, so deep nesting costs no stack; mismatched
// brackets are left for Decode to report.
func (s *scanner) skipContainer() {
	b, depth := s.b, 0
	for i := s.i; i < len(b); i++ {
		switch b[i] {
		case '"':
			if i = skipString(b, i+1); i < 0 {
				s.ok = false
				s.i = len(b)
				return
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				s.i = i + 1
				return
			}
		}
	}
	s.ok = false
	s.i = len(b)
}

// peek returns the byte at the cursor, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}
