package otelspan

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/funcify/funcify/app"
)

// BenchmarkBeginEnd: what the observer adds to an HTTP invocation (its
// span, attributes and end), the export excluded.
func BenchmarkBeginEnd(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	o := New(tp, withEnv(lambdaEnv()), WithFlushTimeout(0))
	ev := decodeEvent(b, httpV2("POST", "/orders/42", map[string]string{"host": "api.example.com", "user-agent": "curl/8.5"}))
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", xrayHeader1) //nolint:staticcheck // the key aws-lambda-go uses
	b.ReportAllocs()
	for b.Loop() {
		inv := &app.Invocation{Kind: ev.Kind, Event: ev, HTTP: true}
		c := o.Begin(ctx, inv)
		inv.Method, inv.Path, inv.Route, inv.Status = "POST", "/orders/42", "POST /orders/{id}", 201
		o.End(c, inv)
	}
}
