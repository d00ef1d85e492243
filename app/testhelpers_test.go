package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// quietApp returns an App that logs into buf (nil: discard).
func quietApp(buf *bytes.Buffer, opts ...Option) *App {
	var w io.Writer = io.Discard
	if buf != nil {
		w = buf
	}
	return New(append([]Option{WithLogger(slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)...)
}

func invokeCtx() context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
}

// response is the union of every HTTP response shape.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription *string             `json:"statusDescription"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

func invoke(t testing.TB, a *App, payload []byte) response {
	t.Helper()
	out, err := a.Invoke(invokeCtx(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var r response
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return r
}

// serveLocal serves a on a loopback port through the local server until the
// test ends, and returns the listener's address.
func serveLocal(t *testing.T, a *App) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not return")
		}
	})
	return ln.Addr()
}
