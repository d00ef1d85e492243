package otelspan

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcify/funcify/event"
)

// TestTimedOutInvocationSpan: an invocation cut short by its timeout
// never gets its End; Lambda then shuts the environment down (SIGTERM, the
// app's shutdown hooks). The Observer's Shutdown flushes only the spans that
// ended, so the span of the timed-out invocation (the one most worth
// seeing) is never exported. Package metrics writes a running
// invocation's metrics on Shutdown; the spans should likewise be ended (as
// failed) and exported.
func TestTimedOutInvocationSpan(t *testing.T) {
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

// TestShutdownEndsLiveSpans: Shutdown ends, as timed out, only the spans
// whose End has not come; an End that comes after it changes nothing.
func TestShutdownEndsLiveSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(keepExporter{exp}))
	o := New(tp, withEnv(lambdaEnv()), WithFlushTimeout(0))
	done := &appInvocation{Kind: event.Unknown}
	o.End(o.Begin(invokeCtx(t, xrayHeader1), done), done)
	cut := &appInvocation{Kind: event.Unknown}
	cutCtx := o.Begin(invokeCtx(t, xrayHeader1), cut)
	o.Shutdown(context.Background())
	cut.Err = errors.New("late")
	o.End(cutCtx, cut)

	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2", len(spans))
	}
	ended, timedOut := spans[0], spans[1]
	if ended.Status.Code != codes.Unset {
		t.Errorf("the ended invocation's status %v, want unset", ended.Status)
	}
	if _, ok := attrs(ended)["error.type"]; ok {
		t.Error("the ended invocation's span has an error.type")
	}
	if timedOut.Status.Code != codes.Error {
		t.Errorf("the timed-out invocation's status %v, want error", timedOut.Status)
	}
	if got := attrs(timedOut)["error.type"].AsString(); got != "timeout" {
		t.Errorf("the timed-out invocation's error.type %q, want timeout", got)
	}
}

// TestShutdownConcurrent: invocations that begin and end while Shutdown
// runs each export their span at most once (run with -race).
func TestShutdownConcurrent(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(keepExporter{exp}))
	o := New(tp, withEnv(lambdaEnv()), WithFlushTimeout(0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				inv := &appInvocation{Kind: event.Unknown}
				o.End(o.Begin(context.Background(), inv), inv)
			}
		})
	}
	o.Shutdown(context.Background())
	wg.Wait()
	seen := make(map[trace.SpanID]bool)
	for _, s := range exp.GetSpans() {
		id := s.SpanContext.SpanID()
		if seen[id] {
			t.Fatalf("span %s exported twice", id)
		}
		seen[id] = true
	}
}
