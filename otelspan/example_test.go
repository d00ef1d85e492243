package otelspan_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/httpclient"
	"github.com/funcify/funcify/otelspan"
)

// lambdaCtx is the context a runtime loop gives an invocation.
func lambdaCtx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
		InvokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:orders",
	})
	// Where aws-lambda-go and funcify's runtime put the X-Ray header.
	ctx = context.WithValue(ctx, "x-amzn-trace-id", //nolint:staticcheck // the key aws-lambda-go uses
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	return ctx, cancel
}

const createOrder = `{"version":"2.0","rawPath":"/orders/42","requestContext":{"http":{"method":"POST"}}}`

// Example traces an app: in a function, the provider exports through
// otlptracehttp, with a batch span processor; here it keeps the spans in
// memory.
func Example() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	spans := otelspan.New(tp)
	a := app.New(app.WithObserver(spans), app.WithLogger(slog.New(slog.DiscardHandler)))
	a.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})

	ctx, cancel := lambdaCtx()
	defer cancel()
	a.Invoke(ctx, []byte(createOrder))

	// The span was flushed before Invoke returned.
	s := exp.GetSpans()[0]
	fmt.Println(s.Name, s.SpanKind)
	fmt.Println("trace", s.SpanContext.TraceID(), "parent", s.Parent.SpanID())
	for _, kv := range s.Attributes {
		switch kv.Key {
		case "faas.trigger", "faas.invocation_id", "cloud.account.id", "http.route", "http.response.status_code":
			fmt.Println(kv.Key, kv.Value.Emit())
		}
	}
	// Output:
	// POST /orders/{id} server
	// trace 5759e988bd862e3fe1be46a994272793 parent 53995c3f42cd8ad8
	// faas.trigger http
	// faas.invocation_id 8476a536-e9f4-11e8-9739-2dfe598c3fcd
	// cloud.account.id 123456789012
	// http.route /orders/{id}
	// http.response.status_code 201
}

// ExampleNew shows the setup of a function that exports its spans with
// OTLP over HTTP:
//
//	exp, err := otlptracehttp.New(ctx) // reads OTEL_EXPORTER_OTLP_ENDPOINT
//	if err != nil { ... }
//	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
//	a := app.New(app.WithObserver(otelspan.New(tp)))
//
// The observer's Shutdown flushes and shuts the provider down when Lambda
// shuts the function down.
func ExampleNew() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	a := app.New(app.WithObserver(otelspan.New(tp)), app.WithLogger(slog.New(slog.DiscardHandler)))
	app.HandleInvoke(a, func(ctx context.Context, in map[string]int) (int, error) { return in["n"] * 2, nil })

	ctx, cancel := lambdaCtx()
	defer cancel()
	out, _ := a.Invoke(ctx, []byte(`{"n":21}`))
	fmt.Println(string(out), len(exp.GetSpans()), "span")
	// Output: 42 1 span
}

// ExampleTransport: the client spans of a handler's calls, one per try
// with httpclient's retries above (or one per call around httpclient's
// Transport), and the headers the downstream gets.
func ExampleTransport() {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("traceparent:", strings.HasPrefix(r.Header.Get("Traceparent"), "00-5759e988bd862e3fe1be46a994272793-"))
		fmt.Println("X-Amzn-Trace-Id:", strings.HasPrefix(r.Header.Get("X-Amzn-Trace-Id"), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent="))
		io.WriteString(w, `{"stock":3}`)
	}))
	defer down.Close()

	// A span per try: under the retries.
	perTry := &http.Client{Transport: &httpclient.Transport{Base: otelspan.Transport(nil)}}
	// A span per call: around them.
	perCall := &http.Client{Transport: otelspan.Transport(&httpclient.Transport{})}

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	a := app.New(app.WithObserver(otelspan.New(tp)), app.WithLogger(slog.New(slog.DiscardHandler)))
	a.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, client := range []*http.Client{perTry, perCall} {
			if _, err := httpclient.GetJSON[map[string]int](r.Context(), client, down.URL+"/stock/42"); err != nil {
				http.Error(w, "upstream error", http.StatusBadGateway)
				return
			}
		}
	})
	ctx, cancel := lambdaCtx()
	defer cancel()
	a.Invoke(ctx, []byte(createOrder))
	for _, s := range exp.GetSpans() {
		fmt.Println(s.SpanKind, s.Name)
	}
	// Output:
	// traceparent: true
	// X-Amzn-Trace-Id: true
	// traceparent: true
	// X-Amzn-Trace-Id: true
	// client GET
	// client GET
	// server POST /orders/{id}
}

// ExamplePreferTraceparent: with callers instrumented with OpenTelemetry,
// their traceparent is the parent, and the runtime's X-Ray context a link.
func ExamplePreferTraceparent() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	a := app.New(app.WithObserver(otelspan.New(tp, otelspan.PreferTraceparent())), app.WithLogger(slog.New(slog.DiscardHandler)))
	a.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {})

	ctx, cancel := lambdaCtx()
	defer cancel()
	a.Invoke(ctx, []byte(`{"version":"2.0","rawPath":"/","headers":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},"requestContext":{"http":{"method":"GET"}}}`))
	s := exp.GetSpans()[0]
	fmt.Println("parent", s.Parent.TraceID(), s.Parent.SpanID())
	fmt.Println("link", s.Links[0].SpanContext.TraceID())
	// Output:
	// parent 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331
	// link 5759e988bd862e3fe1be46a994272793
}

// ExampleWithFlushTimeout: a provider that exports synchronously needs no
// flush at the end of each invocation.
func ExampleWithFlushTimeout() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	spans := otelspan.New(tp, otelspan.WithFlushTimeout(0))
	a := app.New(app.WithObserver(spans), app.WithLogger(slog.New(slog.DiscardHandler)))
	ctx, cancel := lambdaCtx()
	defer cancel()
	a.Invoke(ctx, []byte(createOrder))
	fmt.Println(len(exp.GetSpans()), "span", exp.GetSpans()[0].Name)
	// Output: 1 span POST
}

// ExampleObserver_Shutdown: app calls Shutdown when Lambda shuts the
// function down; it flushes what is left and shuts the provider down within
// its context.
func ExampleObserver_Shutdown() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	spans := otelspan.New(tp, otelspan.WithFlushTimeout(0))
	ctx := spans.Begin(context.Background(), &app.Invocation{Start: time.Now()})
	spans.End(ctx, &app.Invocation{})
	fmt.Println(len(exp.GetSpans()), "spans exported before Shutdown")

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	spans.Shutdown(ctx)
	_, late := tp.Tracer("x").Start(context.Background(), "late")
	fmt.Println("recording after Shutdown:", late.IsRecording())
	// Output:
	// 0 spans exported before Shutdown
	// recording after Shutdown: false
}
