//go:build funcify.otel

package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTracingExportErrorsLogged: an export that fails (here a collector
// that refuses the spans) is reported through the function's logger, as a
// JSON line, not by OpenTelemetry's default error handler, which prints
// plain text to standard error among the function's JSON lines.
func TestTracingExportErrorsLogged(t *testing.T) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused", http.StatusBadRequest) // not retried by the exporter
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	var out lockedBuffer
	invokeHealth(t, &out, "")
	found := false
	lines := out.lines(t) // fails on a line that is not JSON
	for _, m := range lines {
		if m["message"] == "spans not exported" && m["level"] == "WARN" {
			found = true
		}
	}
	if !found {
		t.Errorf("no line reports the failed export: %v", lines)
	}
}
