package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/slogtest"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/trace"
)

const (
	requestID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
	traceID   = "1-5759e988-bd862e3fe1be46a994272793"
	spanID    = "53995c3f42cd8ad8"
)

func invocation() context.Context {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
	ctx = logging.WithColdStart(ctx, false)
	return trace.NewContext(ctx, trace.Span{TraceID: traceID, SpanID: spanID})
}

// parseLine returns the single JSON line in buf.
func parseLine(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("output %q is not one JSON object: %v", buf.Bytes(), err)
	}
	return m
}

func TestSlogtest(t *testing.T) {
	var buf *bytes.Buffer
	slogtest.Run(t,
		func(*testing.T) slog.Handler {
			buf = new(bytes.Buffer)
			return logging.NewHandler(slog.NewJSONHandler(buf, nil))
		},
		func(t *testing.T) map[string]any {
			m := parseLine(t, buf)
			// slogtest logs without a context: nothing is added.
			for _, key := range []string{logging.RequestIDKey, logging.ColdStartKey, logging.TraceIDKey, logging.SpanIDKey} {
				if v, ok := m[key]; ok {
					t.Errorf("%s = %v, want no such attribute without an invocation", key, v)
				}
			}
			return m
		})
}

// ctxHandler calls h with ctx, standing in for a logger used with an
// invocation's context, which slogtest does not pass.
type ctxHandler struct {
	ctx context.Context
	h   slog.Handler
}

func (c ctxHandler) Enabled(_ context.Context, l slog.Level) bool  { return c.h.Enabled(c.ctx, l) }
func (c ctxHandler) Handle(_ context.Context, r slog.Record) error { return c.h.Handle(c.ctx, r) }
func (c ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{c.ctx, c.h.WithAttrs(as)}
}
func (c ctxHandler) WithGroup(name string) slog.Handler {
	return ctxHandler{c.ctx, c.h.WithGroup(name)}
}

func TestSlogtestWithInvocation(t *testing.T) {
	var buf *bytes.Buffer
	slogtest.Run(t,
		func(*testing.T) slog.Handler {
			buf = new(bytes.Buffer)
			return ctxHandler{invocation(), logging.NewHandler(slog.NewJSONHandler(buf, nil))}
		},
		func(t *testing.T) map[string]any {
			m := parseLine(t, buf)
			// Whatever groups the case opened, the invocation attributes
			// are at the top level.
			want := map[string]any{
				logging.RequestIDKey: requestID,
				logging.ColdStartKey: false,
				logging.TraceIDKey:   traceID,
				logging.SpanIDKey:    spanID,
			}
			for key, w := range want {
				if got := m[key]; got != w {
					t.Errorf("top-level %s = %v, want %v in %s", key, got, w, buf.Bytes())
				}
			}
			return m
		})
}
