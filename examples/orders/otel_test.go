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

	var out lockedBuffer
	obs, err := newObservers(&out)
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(newStore(), obs...)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	ctx = context.WithValue(ctx, "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
	if _, err := a.Invoke(ctx, v2Event(exchange{"GET", "/health", "", nil})); err != nil {
		t.Fatal(err)
	}
	if posts.Load() == 0 || bytes.Load() == 0 {
		t.Fatalf("no span reached the collector before Invoke returned (%d posts)", posts.Load())
	}
}
