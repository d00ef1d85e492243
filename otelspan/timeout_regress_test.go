package otelspan

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestReviewTimedOutInvocationSpan: an invocation cut short by its timeout
// never gets its End; Lambda then shuts the environment down (SIGTERM, the
// app's shutdown hooks). The Observer's Shutdown flushes only the spans that
// ended, so the span of the timed-out invocation (the one most worth
// seeing) is never exported. Package metrics writes a running
// invocation's metrics on Shutdown; the spans should likewise be ended (as
// failed) and exported.
func TestReviewTimedOutInvocationSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(keepExporter{exp}))
	o := New(tp, withEnv(lambdaEnv()))
	payload := httpV2("POST", "/orders", nil)
	inv := &appInvocation{Event: decodeEvent(t, payload), HTTP: true}
	inv.Kind = inv.Event.Kind
	_ = o.Begin(invokeCtx(t, xrayHeader1), inv)
	// The invocation times out here: End never comes.
	o.Shutdown(context.Background())
	if n := len(exp.GetSpans()); n != 1 {
		t.Errorf("after Shutdown the exporter has %d spans, want the timed-out invocation's", n)
	}
}
