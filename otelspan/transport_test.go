package otelspan

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcify/funcify/httpclient"
	funcifytrace "github.com/funcify/funcify/trace"
)

// parentCtx returns a context with a recording span of tp, with a
// tracestate, as an invocation's.
func parentCtx(t *testing.T, tp trace.TracerProvider) (context.Context, trace.Span) {
	state, err := trace.ParseTraceState("vendor=abc")
	if err != nil {
		t.Fatal(err)
	}
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled, TraceState: state, Remote: true})
	return tp.Tracer("test").Start(trace.ContextWithRemoteSpanContext(context.Background(), remote), "invocation")
}

func TestTransportPropagates(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	ctx, parent := parentCtx(t, tp)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/a?key=secret", nil)
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-00000000-000000000000000000000001")
	resp, err := Transport(nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.GetSpans()) != 0 {
		t.Error("the client span ended before its body was read")
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	if req.Header.Get("Traceparent") != "" || req.Header.Get("X-Amzn-Trace-Id") != "Root=1-00000000-000000000000000000000001" {
		t.Errorf("the caller's request was changed: %v", req.Header)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent.SpanContext().SpanID() || s.Name != "GET" {
		t.Errorf("span %q of kind %v and parent %v, want a GET client span under %v", s.Name, s.SpanKind, s.Parent.SpanID(), parent.SpanContext().SpanID())
	}
	sc := s.SpanContext
	if want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"; got.Get("Traceparent") != want {
		t.Errorf("traceparent %q, want %q", got.Get("Traceparent"), want)
	}
	if got.Get("Tracestate") != "vendor=abc" {
		t.Errorf("tracestate %q, want vendor=abc", got.Get("Tracestate"))
	}
	x, err := funcifytrace.ParseHeader(got.Get("X-Amzn-Trace-Id"))
	if err != nil || x.Root != "1-01020300-000000000000000000000000" || x.Parent != sc.SpanID().String() || x.Sampled != funcifytrace.SampledYes {
		t.Errorf("X-Amzn-Trace-Id %q (%v), want the client span's", got.Get("X-Amzn-Trace-Id"), err)
	}
	checkAttrs(t, s, map[string]any{"http.request.method": "GET", "http.response.status_code": int64(200),
		"url.full": srv.URL + "/a", "server.address": "127.0.0.1"})
}

// TestTransportPerTry: under httpclient's retries, each try is a span of
// its own, a 503 try failing.
func TestTransportPerTry(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var n atomic.Int32
	var mu sync.Mutex
	var traceparents []string // guarded by mu
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparents = append(traceparents, r.Header.Get("Traceparent"))
		mu.Unlock()
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	ctx, _ := parentCtx(t, tp)
	client := &http.Client{Transport: &httpclient.Transport{Base: Transport(nil)}}
	if _, err := httpclient.GetJSON[map[string]any](ctx, client, srv.URL); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want one per try, 2", len(spans))
	}
	if spans[0].Status.Code != codes.Error || spans[1].Status.Code != codes.Unset {
		t.Errorf("statuses %v, %v; want error, unset", spans[0].Status, spans[1].Status)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(traceparents) != 2 || traceparents[0] == traceparents[1] {
		t.Errorf("traceparents %q, want one per try", traceparents)
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: refused for https://user:pw@example.com")
}

func TestTransportError(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx, _ := parentCtx(t, tp)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://user:pw@example.com/x", nil)
	if _, err := Transport(failingTransport{}).RoundTrip(req); err == nil {
		t.Fatal("RoundTrip succeeded")
	}
	s := onlySpan(t, exp)
	if s.Status.Code != codes.Error || s.Status.Description != "*errors.errorString" {
		t.Errorf("status %v, want an error with the error's type", s.Status)
	}
	checkAttrs(t, s, map[string]any{"url.full": "https://example.com/x", "server.port": int64(443)})
}

// TestTransportWithoutSpan: without a span in the context, the request is
// sent as it is, with no trace headers (the global provider is a no-op).
func TestTransportWithoutSpan(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	resp, err := (&http.Client{Transport: Transport(nil)}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("Traceparent") != "" || got.Get("X-Amzn-Trace-Id") != "" {
		t.Errorf("trace headers without a trace: %v", got)
	}
}
