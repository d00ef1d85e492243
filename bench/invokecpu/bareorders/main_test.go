package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestIsHTTPAPI(t *testing.T) {
	tests := []struct {
		payload string
		want    bool
	}{
		{`{"version":"2.0","rawPath":"/"}`, true},
		{"{\n  \"version\" :\t\"2.0\"}", true},
		{`{"version":"1.0","path":"/"}`, false},
		{`{"path":"/","httpMethod":"GET"}`, false},
		{`{"version":2.0}`, false},
		{`{"version"`, false},
	}
	for _, tt := range tests {
		if got := isHTTPAPI([]byte(tt.payload)); got != tt.want {
			t.Errorf("isHTTPAPI(%s) = %v, want %v", tt.payload, got, tt.want)
		}
	}
}

// TestHandle checks that both fixtures get examples/orders' answer to
// GET /orders/42 with an empty store.
func TestHandle(t *testing.T) {
	const want = `{"error":"order not found","code":404,"step":"handler","ctx":{}}`
	f := &function{
		store: &store{orders: make(map[string]order)},
		log:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	for _, file := range []string{"rest_v1.json", "http_v2.json"} {
		t.Run(file, func(t *testing.T) {
			payload, err := os.ReadFile("../../testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.handle(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var status int
			var body, contentType string
			switch r := out.(type) {
			case events.APIGatewayProxyResponse:
				status, body, contentType = r.StatusCode, r.Body, r.Headers["Content-Type"]
				if file != "rest_v1.json" {
					t.Errorf("a REST API response to %s", file)
				}
			case events.APIGatewayV2HTTPResponse:
				status, body, contentType = r.StatusCode, r.Body, r.Headers["Content-Type"]
				if file != "http_v2.json" {
					t.Errorf("an HTTP API response to %s", file)
				}
			default:
				b, _ := json.Marshal(out)
				t.Fatalf("answer %s of type %T", b, out)
			}
			if status != 404 || body != want || contentType != "application/json" {
				t.Errorf("got %d, %q, Content-Type %q; want 404, %q, application/json", status, body, contentType, want)
			}
		})
	}
}
