package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func newFunction() *function {
	return &function{
		store: &store{orders: make(map[string]order)},
		log:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
}

// TestHandle checks that each API's handler gives examples/orders' answer
// to its event for GET /orders/42 with an empty store, and that the other
// API's event gets no such answer (a row with the wrong BAREORDERS_API
// fails invokecpu's check).
func TestHandle(t *testing.T) {
	const want = `{"error":"order not found","code":404,"step":"handler","ctx":{}}`
	tests := []struct {
		api, file string
		wantOK    bool
	}{
		{"rest", "rest_v1.json", true},
		{"http", "http_v2.json", true},
		{"rest", "http_v2.json", false},
		{"http", "rest_v1.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.api+"/"+tt.file, func(t *testing.T) {
			payload, err := os.ReadFile("../../testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			h, err := newFunction().handler(tt.api)
			if err != nil {
				t.Fatal(err)
			}
			out, err := lambda.NewHandler(h).Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Body       string            `json:"body"`
			}
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("answer %s: %v", out, err)
			}
			ok := r.StatusCode == 404 && r.Body == want && r.Headers["Content-Type"] == "application/json"
			if ok != tt.wantOK {
				t.Errorf("got %d, %q, Content-Type %q; want 404, %q, application/json: %v, want %v",
					r.StatusCode, r.Body, r.Headers["Content-Type"], want, ok, tt.wantOK)
			}
		})
	}
}

// TestHandleLogs checks the one log line per invocation.
func TestHandleLogs(t *testing.T) {
	payload, err := os.ReadFile("../../testdata/http_v2.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	f := newFunction()
	f.log = slog.New(slog.NewJSONHandler(&buf, nil))
	h, err := f.handler("http")
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "r-1"})
	if _, err := lambda.NewHandler(h).Invoke(ctx, payload); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(lines), buf.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"msg": "request", "aws_request_id": "r-1", "method": "GET", "path": "/orders/42", "status": 404.0} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %v", k, line[k], want)
		}
	}
}

func TestHandlerUnknownAPI(t *testing.T) {
	for _, api := range []string{"", "REST", "v1"} {
		if _, err := newFunction().handler(api); err == nil || !strings.Contains(err.Error(), "BAREORDERS_API") {
			t.Errorf("handler(%q) = %v, want an error naming BAREORDERS_API", api, err)
		}
	}
}
