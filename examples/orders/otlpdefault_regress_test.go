//go:build funcify.otel

package main

import (
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
)

// TestDefaultCollectorIsPlainHTTP: the README and otel.go say that
// without OTEL_EXPORTER_OTLP_ENDPOINT the spans go to
// http://localhost:4318, where the ADOT Lambda layer's collector listens
// (plain HTTP). otlptracehttp's default is https://localhost:4318: the TLS
// handshake fails against the layer's collector and no span is ever
// exported. This test plays the layer: a plain HTTP collector on
// localhost:4318.
func TestDefaultCollectorIsPlainHTTP(t *testing.T) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:4318")
	if err != nil {
		t.Skipf("port 4318 is taken: %v", err)
	}
	var posts atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.URL.Path == "/v1/traces" {
			posts.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	var out lockedBuffer
	invokeHealth(t, &out, "")
	if posts.Load() == 0 {
		t.Fatal("no span reached the plain-HTTP collector on localhost:4318 (the exporter's default is https)")
	}
}
