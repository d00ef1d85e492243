package event

import (
	"encoding/binary"
	"math/bits"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// maxKeys bounds how many top-level member names the signature keeps for an
// unknown-kind error's message, which shows eight and then "...". Matchers
// never read these names: they test the member bits, which the scan sets
// however many members come first.
const maxKeys = 9

// member is a set of the member names that matchers test. The scan sets the
// bit of each such name it meets, wherever it comes in the object. A matcher
// that needs another name gets a constant here and a case in topMember or
// contextMember.
type member uint16

// Top-level members.
const (
	keyHTTPMethod member = 1 << iota
	keyPath
	keyMethodARN // "methodArn"
	keyRouteARN  // "routeArn"
	keyType
	keyDetail
	keyWindow
	keyState
)

// Members of requestContext.
const (
	ctxELB member = 1 << iota
	ctxConnectionID
	ctxHTTP
)

// topMember returns the bit of a top-level member name, or 0.
func topMember(name []byte) member {
	switch string(name) {
	case "httpMethod":
		return keyHTTPMethod
	case "path":
		return keyPath
	case "methodArn":
		return keyMethodARN
	case "routeArn":
		return keyRouteARN
	case "type":
		return keyType
	case "detail":
		return keyDetail
	case "window":
		return keyWindow
	case "state":
		return keyState
	}
	return 0
}

// contextMember returns the bit of a requestContext member name, or 0.
func contextMember(name []byte) member {
	switch string(name) {
	case "elb":
		return ctxELB
	case "connectionId":
		return ctxConnectionID
	case "http":
		return ctxHTTP
	}
	return 0
}

// signature is what one pass over a payload learns about it: which of the
// member names that tell kinds apart the top-level object and its
// requestContext have, and a few string values. Names and values are
// compared as the decoder will read them, escapes resolved: "aws:sq\u0073"
// is "aws:sqs". Values hold slices into the payload, or, when escaped, into
// the signature's own buffer; a signature allocates nothing unless escaped
// values outgrow that buffer.
type signature struct {
	object bool // the payload is a JSON object
	// records and context say whether the top level has a Records or a
	// requestContext member: matchers rule kinds out by them.
	records, context bool

	top   member // top-level member names that matchers test
	reqCx member // the same for requestContext, when it is an object

	names keys // the first top-level member names, raw, for error messages

	version      []byte // top-level "version"
	domainName   []byte // requestContext.domainName
	recordSource []byte // Records[0].eventSource or Records[0].EventSource
	source       []byte // top-level "source" (EventBridge)
	detailType   []byte // top-level "detail-type" (EventBridge)

	// unescaped holds the escaped values above once unescaped, in buf
	// unless they outgrow it.
	unescaped []byte
	buf       [256]byte
	// name holds one escaped member name at a time, unescaped.
	name [3 * (maxEscapedName + 2)]byte // room for a quoted name of maxEscapedName, each invalid byte unquoted as a 3-byte U+FFFD
}

// maxEscapedName is the longest escaped member name worth unescaping. Each
// byte of a name the scan looks for is at most six bytes escaped (\u0041),
// and the longest such name is "requestContext" (14 bytes): a longer escaped
// name cannot be one of them.
const maxEscapedName = 6 * len("requestContext")

// signatures recycles signatures: kinds' matchers are called through function
// values, so a signature would otherwise escape to the heap on every sniff.
var signatures = sync.Pool{New: func() any { return new(signature) }}

func getSignature() *signature { return signatures.Get().(*signature) }

// putSignature clears sig, dropping its references into the payload and any
// buffer that outgrew sig.buf, and returns it to the pool.
func putSignature(sig *signature) {
	clear(sig.names.names[:sig.names.n])
	sig.names.n = 0
	sig.object, sig.records, sig.context = false, false, false
	sig.top, sig.reqCx = 0, 0
	sig.version, sig.domainName, sig.recordSource, sig.source, sig.detailType = nil, nil, nil, nil, nil
	sig.unescaped = nil
	signatures.Put(sig)
}

// unescape returns the contents of the quoted JSON string q with its escapes
// resolved, as the decoder reads them. The result lives in sig until
// putSignature. A string the decoder would reject still gives what could be
// read of it: Decode reports the error.
func (sig *signature) unescape(q []byte) []byte {
	dst := sig.unescaped
	if dst == nil {
		dst = sig.buf[:0]
	}
	out, _ := jsontext.AppendUnquote(dst, q)
	sig.unescaped = out
	return out[len(dst):len(out):len(out)]
}

// unescapeName returns the member name q (quoted, escaped) unescaped into
// sig.name, valid until the next call, or nil when it is too long to be a
// name the scan looks for.
func (sig *signature) unescapeName(q []byte) []byte {
	if len(q) > maxEscapedName+2 {
		return nil
	}
	out, _ := jsontext.AppendUnquote(sig.name[:0], q)
	return out
}

// keys is a bounded list of raw (still escaped) member names.
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

// list returns the names, for error messages.
func (k *keys) list() []string {
	out := make([]string, 0, k.n)
	for _, n := range k.names[:k.n] {
		out = append(out, string(n))
	}
	return out
}

// has reports whether the top-level object has the member m.
func (s *signature) has(m member) bool { return s.top&m != 0 }

// contextHas reports whether requestContext has the member m.
func (s *signature) contextHas(m member) bool { return s.reqCx&m != 0 }

// scanner walks a JSON text without decoding it. It checks only as much
// syntax as it needs to find its way; [Decode] validates the rest. Every index
// is bounds-checked, so any input, however broken, ends in ok == false rather
// than a panic.
type scanner struct {
	b   []byte
	i   int
	ok  bool
	sig *signature // where escaped names and values are unescaped
}

// scan reads the signature of payload. It returns false when the payload is
// not a well-formed enough JSON text to find its way through.
func scan(payload []byte, sig *signature) bool {
	s := scanner{b: payload, ok: true, sig: sig}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	sig.object = true
	s.object(func(name, raw []byte) {
		sig.names.add(raw)
		sig.top |= topMember(name)
		switch string(name) {
		case "version":
			sig.version = s.text()
		case "source":
			sig.source = s.text()
		case "detail-type":
			sig.detailType = s.text()
		case "requestContext":
			sig.context = true
			s.requestContext(sig)
		case "Records":
			sig.records = true
			s.records(sig)
		default:
			s.skip()
		}
	})
	return s.ok
}

func (s *scanner) requestContext(sig *signature) {
	if s.peek() != '{' {
		s.skip()
		return
	}
	s.object(func(name, _ []byte) {
		sig.reqCx |= contextMember(name)
		if string(name) == "domainName" {
			sig.domainName = s.text()
		} else {
			s.skip()
		}
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
		s.object(func(name, _ []byte) {
			switch string(name) {
			case "eventSource", "EventSource":
				sig.recordSource = s.text()
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
// positioned at its value; member must consume the value. It passes the
// name twice: unescaped (valid only until member reads a value, and nil for
// an escaped name too long to be one the scan looks for), and raw.
func (s *scanner) object(member func(name, raw []byte)) {
	s.i++ // '{'
	s.ws()
	if s.peek() == '}' {
		s.i++
		return
	}
	for s.ok {
		s.ws()
		q, escaped := s.quoted()
		if !s.ok {
			return
		}
		raw, name := unquote(q), unquote(q)
		if escaped {
			name = s.sig.unescapeName(q)
		}
		s.ws()
		if s.peek() != ':' {
			s.ok = false
			return
		}
		s.i++
		s.ws()
		member(name, raw)
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

// text returns the contents of the string at the cursor, escapes resolved,
// and moves past it. On anything else it returns nil and, when the value is
// not a string at all, skips it.
func (s *scanner) text() []byte {
	q, escaped := s.quoted()
	if escaped {
		return s.sig.unescape(q)
	}
	return unquote(q)
}

// quoted returns the string at the cursor with its quotes, and whether it
// holds an escape, and moves past it. On anything else it returns nil and,
// when the value is not a string at all, skips it.
func (s *scanner) quoted() ([]byte, bool) {
	if s.peek() != '"' {
		s.skip()
		return nil, false
	}
	start := s.i
	end, escaped := skipString(s.b, start+1)
	if end < 0 {
		s.ok = false
		s.i = len(s.b)
		return nil, false
	}
	s.i = end + 1
	return s.b[start:s.i], escaped
}

// unquote returns the contents of a string that quoted returned.
func unquote(q []byte) []byte {
	if len(q) < 2 {
		return nil
	}
	return q[1 : len(q)-1]
}

// skipString returns the index of the quote that closes the string whose
// contents start at i, or -1, and whether the string holds an escape. It
// looks at eight bytes at a time for a quote or a backslash (the lowest
// flagged byte of the classic "has zero byte" test is exact), which is
// several times faster than a byte loop and, for the short strings of
// events, than a call to bytes.IndexByte.
func skipString(b []byte, i int) (int, bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	escaped := false
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
			return i, escaped
		case '\\':
			escaped = true
			i += 2
		default:
			i++
		}
	}
	return -1, escaped
}

// skip moves past one value of any type.
func (s *scanner) skip() {
	switch c := s.peek(); c {
	case '"':
		s.quoted()
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
			if i, _ = skipString(b, i+1); i < 0 {
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
