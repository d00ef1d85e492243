package event

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Errors that [*Error] matches with errors.Is.
var (
	// ErrEmpty: the payload is empty or only white space.
	ErrEmpty = errors.New("event: empty payload")
	// ErrMalformed: the payload is not valid JSON, or a field of a known
	// kind has the wrong JSON type.
	ErrMalformed = errors.New("event: malformed payload")
	// ErrUnknownKind: the payload is valid JSON of no kind funcify knows.
	ErrUnknownKind = errors.New("event: unknown event kind")
)

// Error is the error [Sniff] and [Decode] return. It says what was wrong and
// where, and matches ErrEmpty, ErrMalformed or ErrUnknownKind with errors.Is.
type Error struct {
	// Kind is the kind recognised before decoding failed, or Unknown.
	Kind Kind
	// Offset is the byte offset of a syntax or type error, or -1.
	Offset int64
	// Reason is the sentinel: ErrEmpty, ErrMalformed or ErrUnknownKind.
	Reason error
	// Detail says what was wrong, for a log line.
	Detail string
	// Err is the underlying decoder error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Reason.Error())
	if e.Kind != Unknown {
		b.WriteString(" (")
		b.WriteString(e.Kind.String())
		b.WriteString(")")
	}
	if e.Offset >= 0 {
		b.WriteString(" at byte ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the sentinel and the underlying decoder error.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Reason, e.Err}
	}
	return []error{e.Reason}
}

// Event is a decoded payload.
type Event struct {
	// Kind is the kind of event.
	Kind Kind
	// Payload is the raw payload as received. It is not copied: do not
	// modify it.
	Payload []byte
	// Value points to the decoded event, of the type the kind documents
	// (for example *events.APIGatewayProxyRequest for APIGatewayV1).
	Value any
	// Version is the payload's top-level "version" member when it is a
	// string, as sent, and empty when it has none: "2.0" for HTTP API
	// payload format 2.0 and function URLs, "1.0" for HTTP API payload
	// format 1.0. A REST API event has none. aws-lambda-go's
	// APIGatewayProxyRequest has no field for it, yet it alone tells an
	// HTTP API event in payload format 1.0, whose path API Gateway has
	// already percent-decoded, from a REST API event, whose path is still
	// encoded.
	Version string
}

// As returns the event's value as a *T, if it is one.
func As[T any](e *Event) (*T, bool) {
	if e == nil {
		return nil, false
	}
	v, ok := e.Value.(*T)
	return v, ok
}

// Sniff returns the kind of payload after one pass over its top-level keys,
// without decoding it. A payload that Sniff accepts may still fail to decode.
func Sniff(payload []byte) (Kind, error) {
	sig := getSignature()
	defer putSignature(sig)
	return sniff(payload, sig)
}

func sniff(payload []byte, sig *signature) (Kind, error) {
	if isBlank(payload) {
		return Unknown, &Error{Reason: ErrEmpty, Offset: -1}
	}
	ok := scan(payload, sig)
	if k := kindOf(sig); k != Unknown {
		return k, nil
	}
	// Only now, on the way to an error, check the whole text, to tell a
	// syntax error (with its offset) from valid JSON of no known kind.
	var v jsontext.Value
	if err := json.Unmarshal(payload, &v, options); err != nil {
		return Unknown, malformed(Unknown, err)
	}
	_ = ok // a valid text the scanner lost its way in is still of no known kind
	return Unknown, unknownKind(payload, sig)
}

// Decode finds the kind of payload and decodes it into that kind's type.
func Decode(payload []byte) (*Event, error) {
	sig := getSignature()
	k, err := sniff(payload, sig)
	version := versionString(sig.version)
	putSignature(sig)
	if err != nil {
		return nil, err
	}
	v, err := specs[k].decode(payload)
	if err != nil {
		return nil, malformed(k, err)
	}
	return &Event{Kind: k, Payload: payload, Value: v, Version: version}, nil
}

// versionString returns a payload's version as a string, without allocating
// for the versions AWS sends.
func versionString(v []byte) string {
	switch string(v) {
	case "":
		return ""
	case "1.0":
		return "1.0"
	case "2.0":
		return "2.0"
	}
	return string(v)
}

// options are the decoder's options: see the package documentation.
var options = json.JoinOptions(
	jsontext.AllowInvalidUTF8(true),
	// Base64 text ([]byte fields: Kinesis data, SQS binary attributes)
	// may hold line breaks, as encoding/json and so aws-lambda-go allow.
	jsonv1.ParseBytesWithLooseRFC4648(true),
)

// decodeAs decodes payload into a new T.
func decodeAs[T any](payload []byte) (any, error) {
	v := new(T)
	if err := json.Unmarshal(payload, v, options); err != nil {
		return nil, err
	}
	return v, nil
}

func malformed(k Kind, err error) *Error {
	e := &Error{Kind: k, Reason: ErrMalformed, Offset: -1, Err: err}
	if err == nil {
		e.Detail = "not a JSON text"
		return e
	}
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		e.Offset = syn.ByteOffset
		e.Detail = syn.Err.Error()
		if p := string(syn.JSONPointer); p != "" {
			e.Detail = "at " + p + ": " + e.Detail
		}
	case errors.As(err, &sem):
		e.Offset = sem.ByteOffset
		e.Detail = "field " + string(sem.JSONPointer)
		if sem.JSONKind != 0 {
			e.Detail += ": cannot use JSON " + sem.JSONKind.String()
			if sem.GoType != nil {
				e.Detail += " as Go " + sem.GoType.String()
			}
		} else if sem.Err != nil {
			e.Detail += ": " + sem.Err.Error()
		}
	default:
		e.Detail = err.Error()
	}
	return e
}

func unknownKind(payload []byte, sig *signature) *Error {
	e := &Error{Reason: ErrUnknownKind, Offset: -1}
	if !sig.object {
		e.Detail = "payload is a JSON " + kindName(jsontext.Value(payload).Kind()) + ", not an object"
		return e
	}
	names := sig.names.list()
	const show = 8
	if len(names) > show {
		names = append(names[:show], "...")
	}
	e.Detail = "top-level keys [" + strings.Join(names, " ") + "]"
	return e
}

func isBlank(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries ev.
func NewContext(ctx context.Context, ev *Event) context.Context {
	return context.WithValue(ctx, contextKey{}, ev)
}

// FromContext returns the event in ctx, if any. funcify's app puts the
// invocation's event there, so handlers can reach the raw event.
func FromContext(ctx context.Context) (*Event, bool) {
	ev, ok := ctx.Value(contextKey{}).(*Event)
	return ev, ok
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '[':
		return "array"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "value"
}
