package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

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
