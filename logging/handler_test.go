package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/trace"
)

const (
	testRequestID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
	testTraceID   = "1-5759e988-bd862e3fe1be46a994272793"
	testSpanID    = "53995c3f42cd8ad8"
)

// invocationContext returns a context as a Lambda handler sees it, with a
// span and a cold-start flag.
func invocationContext() context.Context {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: testRequestID})
	ctx = WithColdStart(ctx, true)
	return trace.NewContext(ctx, trace.Span{TraceID: testTraceID, SpanID: testSpanID})
}

// removeTime drops the time so that output is stable.
func removeTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// decode parses one JSON log line.
func decode(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("log line %q is not JSON: %v", line, err)
	}
	return m
}

func TestHandlerAddsInvocationAttrs(t *testing.T) {
	lc := &lambdacontext.LambdaContext{AwsRequestID: testRequestID}
	span := trace.Span{TraceID: testTraceID, SpanID: testSpanID, ParentID: "1111111111111111"}
	bg := context.Background()

	tests := []struct {
		name         string
		ctx          context.Context
		functionName string
		want         map[string]any
	}{
		{"no invocation", bg, "orders", map[string]any{}},
		{"lambda context", lambdacontext.NewContext(bg, lc), "orders",
			map[string]any{RequestIDKey: testRequestID, FunctionNameKey: "orders"}},
		{"lambda context, no function name", lambdacontext.NewContext(bg, lc), "",
			map[string]any{RequestIDKey: testRequestID}},
		{"lambda context without request ID", lambdacontext.NewContext(bg, &lambdacontext.LambdaContext{}), "orders",
			map[string]any{FunctionNameKey: "orders"}},
		{"nil lambda context", lambdacontext.NewContext(bg, nil), "orders", map[string]any{}},
		{"cold start", WithColdStart(bg, true), "orders", map[string]any{ColdStartKey: true}},
		{"warm start", WithColdStart(bg, false), "orders", map[string]any{ColdStartKey: false}},
		{"span", trace.NewContext(bg, span), "orders",
			map[string]any{TraceIDKey: testTraceID, SpanIDKey: testSpanID}},
		{"span without span ID", trace.NewContext(bg, trace.Span{TraceID: testTraceID}), "orders",
			map[string]any{TraceIDKey: testTraceID}},
		{"empty span", trace.NewContext(bg, trace.Span{}), "orders", map[string]any{}},
		{"full invocation", invocationContext(), "orders", map[string]any{
			RequestIDKey: testRequestID, FunctionNameKey: "orders", ColdStartKey: true,
			TraceIDKey: testTraceID, SpanIDKey: testSpanID,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := newHandler(slog.NewJSONHandler(&buf, nil), tt.functionName)
			slog.New(h).InfoContext(tt.ctx, "hello", "k", "v")

			got := decode(t, buf.Bytes())
			for _, key := range []string{slog.TimeKey, slog.LevelKey, slog.MessageKey, "k"} {
				if _, ok := got[key]; !ok {
					t.Errorf("record has no %q: %s", key, buf.Bytes())
				}
				delete(got, key)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("added attributes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHandlerOutput(t *testing.T) {
	// One exact line, to fix the order: the record's attributes, then the
	// invocation's.
	var buf bytes.Buffer
	h := newHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: removeTime}), "orders")
	slog.New(h).With("app", "shop").InfoContext(invocationContext(), "order placed", "order_id", 42)

	want := `{"level":"INFO","msg":"order placed","app":"shop","order_id":42,` +
		`"aws_request_id":"` + testRequestID + `","function_name":"orders","cold_start":true,` +
		`"trace_id":"` + testTraceID + `","span_id":"` + testSpanID + `"}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("output\ngot  %s\nwant %s", got, want)
	}
}

func TestHandlerGroups(t *testing.T) {
	invocation := `"aws_request_id":"` + testRequestID + `","cold_start":true,` +
		`"trace_id":"` + testTraceID + `","span_id":"` + testSpanID + `"`
	tests := []struct {
		name string
		log  func(l *slog.Logger, ctx context.Context)
		want string
	}{
		{"group with record attrs", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").InfoContext(ctx, "m", "a", 1)
		}, `{"level":"INFO","msg":"m","g":{"a":1},` + invocation + `}`},
		{"attrs before and in group", func(l *slog.Logger, ctx context.Context) {
			l.With("top", 0).WithGroup("g").With("a", 1).InfoContext(ctx, "m", "b", 2)
		}, `{"level":"INFO","msg":"m","top":0,"g":{"a":1,"b":2},` + invocation + `}`},
		{"nested groups", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").With("a", 1).WithGroup("h").With("b", 2).InfoContext(ctx, "m", "c", 3)
		}, `{"level":"INFO","msg":"m","g":{"a":1,"h":{"b":2,"c":3}},` + invocation + `}`},
		{"empty group omitted", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").InfoContext(ctx, "m")
		}, `{"level":"INFO","msg":"m",` + invocation + `}`},
		{"empty inner group omitted", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").With("a", 1).WithGroup("h").InfoContext(ctx, "m")
		}, `{"level":"INFO","msg":"m","g":{"a":1},` + invocation + `}`},
		{"empty group name ignored", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("").InfoContext(ctx, "m", "a", 1)
		}, `{"level":"INFO","msg":"m","a":1,` + invocation + `}`},
		{"group without invocation", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").InfoContext(context.Background(), "m", "a", 1)
		}, `{"level":"INFO","msg":"m","g":{"a":1}}`},
		{"sibling loggers do not share attrs", func(l *slog.Logger, ctx context.Context) {
			g := l.WithGroup("g").With("a", 1)
			_ = g.With("x", "leak")
			g.With("b", 2).InfoContext(ctx, "m")
		}, `{"level":"INFO","msg":"m","g":{"a":1,"b":2},` + invocation + `}`},
		{"LogValuer in group resolved", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").InfoContext(ctx, "m", "password", Secret("hunter2"))
		}, `{"level":"INFO","msg":"m","g":{"password":"[REDACTED]"},` + invocation + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := newHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: removeTime}), "")
			tt.log(slog.New(h), invocationContext())
			if got := strings.TrimSuffix(buf.String(), "\n"); got != tt.want {
				t.Errorf("output\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// countingHandler records what it is asked.
type countingHandler struct {
	level   slog.Level
	records []slog.Record
}

func (c *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= c.level }
func (c *countingHandler) Handle(_ context.Context, r slog.Record) error {
	c.records = append(c.records, r)
	return nil
}
func (c *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countingHandler) WithGroup(string) slog.Handler      { return c }

func TestHandlerEnabledDelegates(t *testing.T) {
	next := &countingHandler{level: slog.LevelWarn}
	h := NewHandler(next)
	for _, tt := range []struct {
		level slog.Level
		want  bool
	}{
		{slog.LevelDebug, false},
		{slog.LevelInfo, false},
		{slog.LevelWarn, true},
		{slog.LevelError, true},
	} {
		if got := h.Enabled(context.Background(), tt.level); got != tt.want {
			t.Errorf("Enabled(%v) = %v, want %v", tt.level, got, tt.want)
		}
	}
}

func TestHandlerNilContext(t *testing.T) {
	next := &countingHandler{}
	h := NewHandler(next)
	var ctx context.Context // nil: Handle may be called directly
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
	if err := h.Handle(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := next.records[0].NumAttrs(); got != 0 {
		t.Errorf("NumAttrs() = %d, want 0 for a nil context", got)
	}
}

func TestHandlerLeavesCallerRecordAlone(t *testing.T) {
	next := &countingHandler{}
	h := newHandler(next, "orders")
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
	for i := range 6 { // past the record's inline attributes
		r.AddAttrs(slog.Int("n", i))
	}
	ctx := invocationContext()
	for range 2 {
		if err := h.Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := r.NumAttrs(), 6; got != want {
		t.Errorf("caller's record has %d attrs, want %d", got, want)
	}
	for i, rec := range next.records {
		var keys []string
		rec.Attrs(func(a slog.Attr) bool { keys = append(keys, a.Key); return true })
		want := []string{"n", "n", "n", "n", "n", "n",
			RequestIDKey, FunctionNameKey, ColdStartKey, TraceIDKey, SpanIDKey}
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("record %d keys = %v, want %v", i, keys, want)
		}
	}
}

func TestNewHandlerNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("NewHandler(nil) did not panic")
		}
	}()
	NewHandler(nil)
}

func TestNewHandlerReadsFunctionName(t *testing.T) {
	h := NewHandler(&countingHandler{})
	if h.functionName != lambdacontext.FunctionName {
		t.Errorf("functionName = %q, want lambdacontext.FunctionName %q", h.functionName, lambdacontext.FunctionName)
	}
}

func TestWithAttrsEmptyReturnsReceiver(t *testing.T) {
	h := NewHandler(&countingHandler{})
	if got := h.WithAttrs(nil); got != h {
		t.Errorf("WithAttrs(nil) = %p, want the receiver %p", got, h)
	}
	if got := h.WithGroup(""); got != h {
		t.Errorf("WithGroup(\"\") = %p, want the receiver %p", got, h)
	}
}

func TestHandlerConcurrent(t *testing.T) {
	var w countingWriter
	logger := slog.New(newHandler(slog.NewJSONHandler(&w, nil), "orders")).WithGroup("g").With("a", 1)
	ctx := invocationContext()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			l := logger.With("worker", i)
			for range 100 {
				l.InfoContext(ctx, "m", "k", "v")
			}
		})
	}
	wg.Wait()
	if w.lines != 800 {
		t.Errorf("wrote %d lines, want 800", w.lines)
	}
}

// countingWriter counts writes. It does no locking of its own: slog's JSON
// handler serializes its writes, which -race checks.
type countingWriter struct{ lines int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.lines++
	return len(p), nil
}
