package trace

import (
	"context"
	"math/rand/v2"
	"time"
)

const (
	traceIDLen = len("1-5759e988-bd862e3fe1be46a994272793")
	spanIDLen  = len("53995c3f42cd8ad8")
)

const hexDigits = "0123456789abcdef"

// putHex writes v as len(dst) lowercase hex digits, the last nibbles of v
// last.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// NewTraceID returns a new X-Ray trace ID,
// 1-<8 hex digits>-<24 hex digits>: the version 1, the Unix time of now in
// seconds, and 96 random bits.
//
// X-Ray reads the time as that of the original request, so pass the current
// time; it is a parameter so that tests can fix it. Times outside the range of
// a uint32 wrap around.
func NewTraceID(now time.Time) string {
	var b [traceIDLen]byte
	b[0], b[1], b[10] = '1', '-', '-'
	putHex(b[2:10], uint64(uint32(now.Unix())))
	putHex(b[11:19], uint64(rand.Uint32()))
	putHex(b[19:], rand.Uint64())
	return string(b[:])
}

// NewSpanID returns a new span (segment) ID: 16 lowercase hex digits, never
// all zeros.
func NewSpanID() string {
	v := rand.Uint64()
	for v == 0 {
		v = rand.Uint64()
	}
	var b [spanIDLen]byte
	putHex(b[:], v)
	return string(b[:])
}

// Span identifies the work of one invocation within a trace.
type Span struct {
	// TraceID is the X-Ray trace ID, as in Header.Root.
	TraceID string
	// SpanID is the ID of this span, 16 hex digits.
	SpanID string
	// ParentID is the ID of the span that called this one, or empty for the
	// root of a trace.
	ParentID string
	// Sampled is the sampling decision received with the trace.
	Sampled Sampling
}

// Header returns the header that continues the trace downstream: Root is
// the trace ID, Parent is s.SpanID, and Sampled is s.Sampled.
//
// Fields other than Root, Parent and Sampled, such as Lineage, are not kept
// in a Span, so they are not propagated.
func (s Span) Header() Header {
	return Header{Root: s.TraceID, Parent: s.SpanID, Sampled: s.Sampled}
}

// lambdaTraceKey is the context key under which aws-lambda-go stores the
// trace header the Lambda runtime received with the invocation. It is a plain
// string, so it cannot be behind a key type of our own.
const lambdaTraceKey = "x-amzn-trace-id"

// Start begins the span of an invocation and returns it; the span gets a new
// span ID. Its trace comes, in order of preference, from:
//
//  1. the trace header of the Lambda runtime, which aws-lambda-go puts in
//     ctx (Start reads it there rather than from the _X_AMZN_TRACE_ID
//     environment variable, which aws-lambda-go sets only when a process
//     runs one invocation at a time);
//  2. header, the X-Amzn-Trace-Id header of an HTTP request, which may be
//     empty;
//  3. a new trace ID made by [NewTraceID] with now.
//
// A header that does not parse is skipped. When the trace comes from a
// header, the span's ParentID and Sampled are that header's Parent and
// Sampled; a new trace has no parent and an unknown sampling decision.
//
// Start does not store the span in ctx: use [NewContext].
func Start(ctx context.Context, header string, now time.Time) Span {
	if v, ok := ctx.Value(lambdaTraceKey).(string); ok && v != "" {
		if h, err := ParseHeader(v); err == nil {
			return childOf(h)
		}
	}
	if header != "" {
		if h, err := ParseHeader(header); err == nil {
			return childOf(h)
		}
	}
	return Span{TraceID: NewTraceID(now), SpanID: NewSpanID()}
}

func childOf(h Header) Span {
	return Span{TraceID: h.Root, SpanID: NewSpanID(), ParentID: h.Parent, Sampled: h.Sampled}
}

// spanKey is the context key for a Span.
type spanKey struct{}

// NewContext returns a copy of ctx that carries s.
func NewContext(ctx context.Context, s Span) context.Context {
	return context.WithValue(ctx, spanKey{}, s)
}

// FromContext returns the Span stored in ctx by [NewContext], and whether
// there was one.
func FromContext(ctx context.Context) (Span, bool) {
	s, ok := ctx.Value(spanKey{}).(Span)
	return s, ok
}
