package trace

import (
	"errors"
	"fmt"
	"strings"
)

// ErrMalformed is wrapped by the errors [ParseHeader] returns for a header it
// cannot read.
var ErrMalformed = errors.New("trace: malformed header")

// Sampling is the sampling decision carried by a trace header.
type Sampling uint8

const (
	// SampledUnknown means the header has no Sampled field: the decision is
	// left to the receiver.
	SampledUnknown Sampling = iota
	// SampledYes is Sampled=1: the trace is recorded.
	SampledYes
	// SampledNo is Sampled=0: the trace is not recorded.
	SampledNo
	// SampledRequested is Sampled=?: the caller asks the receiver to decide
	// and to report its decision back.
	SampledRequested
)

// String returns "unknown", "yes", "no" or "requested".
func (s Sampling) String() string {
	switch s {
	case SampledUnknown:
		return "unknown"
	case SampledYes:
		return "yes"
	case SampledNo:
		return "no"
	case SampledRequested:
		return "requested"
	}
	return fmt.Sprintf("Sampling(%d)", uint8(s))
}

// headerValue returns the value of the Sampled field for s, and false when
// s is written as no field at all.
func (s Sampling) headerValue() (string, bool) {
	switch s {
	case SampledYes:
		return "1", true
	case SampledNo:
		return "0", true
	case SampledRequested:
		return "?", true
	}
	return "", false
}

// Field is a key=value pair of a trace header other than Root, Parent and
// Sampled, such as Lineage or Self.
type Field struct {
	Key   string
	Value string
}

// Header is an X-Ray trace header (X-Amzn-Trace-Id), such as
//
//	Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1
type Header struct {
	// Root is the trace ID, 1-<8 hex digits>-<24 hex digits>. A parsed
	// Header always has one.
	Root string
	// Parent is the ID of the calling segment or subsegment, 16 hex digits,
	// or empty when there is none.
	Parent string
	// Sampled is the sampling decision.
	Sampled Sampling
	// Extra holds the other fields, such as Lineage, in the order they
	// appeared. ParseHeader leaves it nil when there are none.
	Extra []Field
}

// ParseHeader parses an X-Ray trace header.
//
// Fields are separated by ';', optionally followed by spaces; empty fields are
// ignored. Keys are case-sensitive, as AWS sends them: Root, Parent and
// Sampled are read into their own fields and must appear at most once; any
// other key=value pair goes to Header.Extra, in order. The header must have a
// Root of the form 1-<8 hex digits>-<24 hex digits>, a Parent, if present, of
// 16 hex digits, and a Sampled, if present, of 0, 1 or ?. Otherwise ParseHeader
// returns an error that wraps [ErrMalformed] and says what is wrong.
//
// The returned strings share memory with s.
func ParseHeader(s string) (Header, error) {
	var h Header
	var seenParent, seenSampled bool
	for len(s) > 0 {
		var part string
		part, s, _ = strings.Cut(s, ";")
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return Header{}, fmt.Errorf("%w: field %s has no '='", ErrMalformed, quote(part))
		}
		switch key {
		case "Root":
			if h.Root != "" {
				return Header{}, fmt.Errorf("%w: more than one Root", ErrMalformed)
			}
			if !isTraceID(value) {
				return Header{}, fmt.Errorf("%w: Root %s is not 1-<8 hex digits>-<24 hex digits>", ErrMalformed, quote(value))
			}
			h.Root = value
		case "Parent":
			if seenParent {
				return Header{}, fmt.Errorf("%w: more than one Parent", ErrMalformed)
			}
			if !isSpanID(value) {
				return Header{}, fmt.Errorf("%w: Parent %s is not 16 hex digits", ErrMalformed, quote(value))
			}
			h.Parent, seenParent = value, true
		case "Sampled":
			if seenSampled {
				return Header{}, fmt.Errorf("%w: more than one Sampled", ErrMalformed)
			}
			switch value {
			case "1":
				h.Sampled = SampledYes
			case "0":
				h.Sampled = SampledNo
			case "?":
				h.Sampled = SampledRequested
			default:
				return Header{}, fmt.Errorf("%w: Sampled %s is not 0, 1 or ?", ErrMalformed, quote(value))
			}
			seenSampled = true
		default:
			if key == "" {
				return Header{}, fmt.Errorf("%w: field %s has an empty key", ErrMalformed, quote(part))
			}
			h.Extra = append(h.Extra, Field{Key: key, Value: value})
		}
	}
	if h.Root == "" {
		return Header{}, fmt.Errorf("%w: no Root", ErrMalformed)
	}
	return h, nil
}

// String returns h in header form: Root, Parent and Sampled, each only if
// set, then the Extra fields in order. For a Header returned by
// [ParseHeader], ParseHeader(h.String()) returns h again.
func (h Header) String() string {
	sampled, hasSampled := h.Sampled.headerValue()
	n := 0
	if h.Root != "" {
		n += len("Root=") + len(h.Root) + 1
	}
	if h.Parent != "" {
		n += len("Parent=") + len(h.Parent) + 1
	}
	if hasSampled {
		n += len("Sampled=") + len(sampled) + 1
	}
	for _, f := range h.Extra {
		n += len(f.Key) + 1 + len(f.Value) + 1
	}

	var b strings.Builder
	b.Grow(n)
	field := func(key, value string) {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(value)
	}
	if h.Root != "" {
		field("Root", h.Root)
	}
	if h.Parent != "" {
		field("Parent", h.Parent)
	}
	if hasSampled {
		field("Sampled", sampled)
	}
	for _, f := range h.Extra {
		field(f.Key, f.Value)
	}
	return b.String()
}

// isTraceID reports whether s is 1-<8 hex digits>-<24 hex digits>.
func isTraceID(s string) bool {
	return len(s) == traceIDLen &&
		s[0] == '1' && s[1] == '-' && isHex(s[2:10]) &&
		s[10] == '-' && isHex(s[11:])
}

// isSpanID reports whether s is 16 hex digits.
func isSpanID(s string) bool {
	return len(s) == spanIDLen && isHex(s)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// quote quotes s for an error message, shortening it if it is long.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
