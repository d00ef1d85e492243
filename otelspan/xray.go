package otelspan

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel/trace"

	funcifytrace "github.com/funcify/funcify/trace"
)

// lambdaTraceKey is the context key under which aws-lambda-go, and
// funcify's runtimeapi after it, put the invocation's X-Ray trace header. It
// is a plain string, so it cannot be behind a key type of our own.
const lambdaTraceKey = "x-amzn-trace-id"

// runtimeHeader returns the X-Ray trace header the Lambda runtime passed
// with the invocation of ctx, or "" when there is none. The context is where
// both runtime loops put it; _X_AMZN_TRACE_ID is read only when envOK says
// the process runs one invocation at a time, since with several at once the
// variable belongs to none of them.
func runtimeHeader(ctx context.Context, getenv func(string) string, envOK bool) string {
	if v, ok := ctx.Value(lambdaTraceKey).(string); ok && v != "" {
		return v
	}
	if envOK {
		return getenv("_X_AMZN_TRACE_ID")
	}
	return ""
}

// fromXRay returns the span context of an X-Ray trace header: the trace ID
// is Root's 32 hex digits without its version and dashes, the span ID is
// Parent, and the span is sampled when Sampled=1. It reports false for a
// header that does not parse or has no Parent: such a header names no span
// to be the child of.
func fromXRay(header string) (trace.SpanContext, bool) {
	if header == "" {
		return trace.SpanContext{}, false
	}
	h, err := funcifytrace.ParseHeader(header)
	if err != nil || h.Parent == "" {
		return trace.SpanContext{}, false
	}
	var tid trace.TraceID
	var sid trace.SpanID
	// Root is 1-<8 hex digits>-<24 hex digits>, as ParseHeader checked.
	if _, err := hex.Decode(tid[:4], []byte(h.Root[2:10])); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(tid[4:], []byte(h.Root[11:])); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(sid[:], []byte(h.Parent)); err != nil {
		return trace.SpanContext{}, false
	}
	var flags trace.TraceFlags
	if h.Sampled == funcifytrace.SampledYes {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true})
	return sc, sc.IsValid()
}

// xrayHeader returns the X-Ray trace header that makes sc the parent of a
// downstream call: Root from sc's trace ID, Parent its span ID, and Sampled
// its sampling flag.
func xrayHeader(sc trace.SpanContext) string {
	tid, sid := sc.TraceID(), sc.SpanID()
	var root [35]byte // 1-<8 hex digits>-<24 hex digits>
	root[0], root[1], root[10] = '1', '-', '-'
	hex.Encode(root[2:10], tid[:4])
	hex.Encode(root[11:], tid[4:])
	h := funcifytrace.Header{Root: string(root[:]), Parent: hex.EncodeToString(sid[:]), Sampled: funcifytrace.SampledNo}
	if sc.IsSampled() {
		h.Sampled = funcifytrace.SampledYes
	}
	return h.String()
}
