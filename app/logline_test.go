package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestOneLinePerInvocationAtInfo: at Info, the default level, an invocation
// writes one log line, each line being a write to standard output: the
// end line, with what the start line (now at Debug) had: the event's kind,
// an HTTP request's method and path, its status and the duration.
func TestOneLinePerInvocationAtInfo(t *testing.T) {
	var logs bytes.Buffer
	a := New(WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) { return nil, nil })

	lines := func(t *testing.T) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			out = append(out, m)
		}
		logs.Reset()
		return out
	}
	check := func(t *testing.T, got []map[string]any, want map[string]any) {
		t.Helper()
		msg := "invocation end"
		if m, ok := want["msg"]; ok {
			msg = m.(string)
		}
		if len(got) != 1 || got[0]["msg"] != msg {
			t.Fatalf("got %d lines %v, want the one line %q", len(got), got, msg)
		}
		for k, v := range want {
			if got[0][k] != v {
				t.Errorf("%s: got %v, want %v", k, got[0][k], v)
			}
		}
		if _, ok := got[0]["duration_ms"]; !ok {
			t.Errorf("no duration_ms in %v", got[0])
		}
	}
	t.Run("event", func(t *testing.T) {
		invoke(t, a, makeEvent(t, "v2", req{method: "GET", path: "/orders/7"}))
		check(t, lines(t), map[string]any{"event": "apigateway-v2", "method": "GET", "path": "/orders/7", "status": 200.0})
	})
	t.Run("ServeHTTP", func(t *testing.T) {
		a.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/8", nil))
		check(t, lines(t), map[string]any{"event": "http", "method": "GET", "path": "/orders/8", "status": 200.0})
	})
	t.Run("s3", func(t *testing.T) {
		if _, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices.x", "k"})); err != nil {
			t.Fatal(err)
		}
		check(t, lines(t), map[string]any{"event": "s3", "route": "invoices"})
	})
	// A payload that is no event, and no route takes, is rejected: its
	// one line is at Error, with the kind and the duration too.
	for name, payload := range map[string]string{"not JSON": `{"hello":`, "unknown kind": `{"hello":"world"}`} {
		t.Run(name, func(t *testing.T) {
			if _, err := a.Invoke(invokeCtx(), []byte(payload)); err == nil {
				t.Fatal("no error")
			}
			check(t, lines(t), map[string]any{"msg": "invocation rejected", "level": "ERROR", "event": "unknown", "bytes": float64(len(payload))})
		})
	}
}
