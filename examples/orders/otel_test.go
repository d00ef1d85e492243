//go:build funcify.otel

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// TestTracing (built with -tags funcify.otel): the function's span reaches
// the OTLP collector OTEL_EXPORTER_OTLP_ENDPOINT names before the
// invocation returns, though Lambda said Sampled=0.
func TestTracing(t *testing.T) {
	var posts, bytes atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.URL.Path == "/v1/traces" {
			n, _ := io.Copy(io.Discard, r.Body)
			posts.Add(1)
			bytes.Add(n)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	invokeHealth(t, new(lockedBuffer), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
	if posts.Load() == 0 || bytes.Load() == 0 {
		t.Fatalf("no span reached the collector before Invoke returned (%d posts)", posts.Load())
	}
}

// invokeHealth builds the function with its observers writing to out and
// invokes GET /health once as Lambda would, with the X-Ray trace header
// traceHeader unless it is empty.
func invokeHealth(t *testing.T, out *lockedBuffer, traceHeader string) {
	t.Helper()
	obs, err := newObservers(out)
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(newStore(), obs...)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	if traceHeader != "" {
		ctx = context.WithValue(ctx, "x-amzn-trace-id", traceHeader)
	}
	if _, err := a.Invoke(ctx, v2Event(exchange{"GET", "/health", "", nil})); err != nil {
		t.Fatal(err)
	}
}
