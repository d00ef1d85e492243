package otelspan

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/event"
)

const (
	xrayRoot    = "1-5759e988-bd862e3fe1be46a994272793"
	xrayParent  = "53995c3f42cd8ad8"
	xrayHeader1 = "Root=" + xrayRoot + ";Parent=" + xrayParent + ";Sampled=1"
	wantTraceID = "5759e988bd862e3fe1be46a994272793"
	functionARN = "arn:aws:lambda:eu-west-1:123456789012:function:orders:live"
	// functionVersionARN is the function's ARN of functionARN with its
	// alias replaced by the version lambdaEnv sets.
	functionVersionARN = "arn:aws:lambda:eu-west-1:123456789012:function:orders:7"
)

// lambdaEnv is the environment of a Lambda function, for withEnv.
func lambdaEnv(extra ...string) func(string) string {
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":    "orders",
		"AWS_LAMBDA_FUNCTION_VERSION": "7",
		"AWS_REGION":                  "eu-west-1",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return func(k string) string { return env[k] }
}

// invokeCtx is the context a runtime loop gives an invocation: a deadline,
// the Lambda context and the X-Ray header under aws-lambda-go's key.
func invokeCtx(t *testing.T, xray string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-1", InvokedFunctionArn: functionARN})
	if xray != "" {
		ctx = context.WithValue(ctx, "x-amzn-trace-id", xray) //nolint:staticcheck // the key aws-lambda-go uses
	}
	return ctx
}

func httpV2(method, path string, headers map[string]string) []byte {
	h := ""
	for k, v := range headers {
		if h != "" {
			h += ","
		}
		h += fmt.Sprintf("%q:%q", k, v)
	}
	return fmt.Appendf(nil, `{"version":"2.0","rawPath":%q,"headers":{%s},"requestContext":{"domainName":"api.example.com",`+
		`"http":{"method":%q,"path":%q,"sourceIp":"203.0.113.9","userAgent":"curl/8.5"}}}`, path, h, method, path)
}

func newMemory(t *testing.T, opts ...Option) (*Observer, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return New(tp, append([]Option{withEnv(lambdaEnv())}, opts...)...), exp
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value)
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func checkAttrs(t *testing.T, s tracetest.SpanStub, want map[string]any) {
	t.Helper()
	got := attrs(s)
	for k, w := range want {
		v, ok := got[attribute.Key(k)]
		if !ok {
			t.Errorf("span %q has no %s, want %v", s.Name, k, w)
			continue
		}
		if v.AsInterface() != w {
			t.Errorf("span %q: %s = %v, want %v", s.Name, k, v.AsInterface(), w)
		}
	}
}

func onlySpan(t *testing.T, exp *tracetest.InMemoryExporter) tracetest.SpanStub {
	t.Helper()
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	return spans[0]
}

func TestHTTPSpan(t *testing.T) {
	o, exp := newMemory(t)
	a := newApp(o)
	a.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !trace.SpanFromContext(r.Context()).SpanContext().IsValid() {
			t.Error("the handler's context has no span")
		}
		w.WriteHeader(http.StatusCreated)
	})
	if _, err := a.Invoke(invokeCtx(t, xrayHeader1), httpV2("POST", "/orders/42", map[string]string{"host": "api.example.com"})); err != nil {
		t.Fatal(err)
	}
	s := onlySpan(t, exp)
	if s.Name != "POST /orders/{id}" {
		t.Errorf("name %q, want %q", s.Name, "POST /orders/{id}")
	}
	if s.SpanKind != trace.SpanKindServer {
		t.Errorf("kind %v, want server", s.SpanKind)
	}
	if got := s.Parent.TraceID().String(); got != wantTraceID {
		t.Errorf("trace ID %s, want %s", got, wantTraceID)
	}
	if got := s.SpanContext.TraceID().String(); got != wantTraceID {
		t.Errorf("span's trace ID %s, want %s", got, wantTraceID)
	}
	if got := s.Parent.SpanID().String(); got != xrayParent || !s.Parent.IsRemote() || !s.Parent.IsSampled() {
		t.Errorf("parent %s (remote %v, sampled %v), want %s remote and sampled", got, s.Parent.IsRemote(), s.Parent.IsSampled(), xrayParent)
	}
	checkAttrs(t, s, map[string]any{
		"faas.trigger": "http", "faas.invocation_id": "req-1",
		"faas.name": "orders", "faas.version": "7", "cloud.provider": "aws", "cloud.platform": "aws_lambda",
		"cloud.region": "eu-west-1", "cloud.resource_id": functionVersionARN, "cloud.account.id": "123456789012",
		"http.request.method": "POST", "url.path": "/orders/42", "http.route": "/orders/{id}",
		"http.response.status_code": int64(201), "url.scheme": "https", "server.address": "api.example.com",
		"user_agent.original": "curl/8.5", "client.address": "203.0.113.9",
	})
	if _, ok := attrs(s)["faas.coldstart"]; !ok {
		t.Error("no faas.coldstart")
	}
	if s.Status.Code != codes.Unset {
		t.Errorf("status %v, want unset", s.Status)
	}
}

func TestSQSSpan(t *testing.T) {
	o, exp := newMemory(t)
	a := newApp(o)
	app.HandleSQS(a, "orders", func(ctx context.Context, m sqsMessage) error { return nil })
	const other = "Root=1-6759e988-bd862e3fe1be46a994272794;Parent=1111111111111111;Sampled=1"
	payload := `{"Records":[{"messageId":"m1","body":"{}","attributes":{"AWSTraceHeader":"` + other + `"},` +
		`"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:123456789012:orders","awsRegion":"eu-west-1"}]}`
	if _, err := a.Invoke(invokeCtx(t, xrayHeader1), []byte(payload)); err != nil {
		t.Fatal(err)
	}
	s := onlySpan(t, exp)
	if s.SpanKind != trace.SpanKindConsumer {
		t.Errorf("kind %v, want consumer", s.SpanKind)
	}
	if s.Name != "orders" {
		t.Errorf("name %q, want the function's, orders", s.Name)
	}
	checkAttrs(t, s, map[string]any{"faas.trigger": "pubsub", "messaging.system": "aws_sqs",
		"messaging.batch.message_count": int64(1), "messaging.operation.type": "process", "messaging.destination.name": "orders"})
	if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID().String() != "6759e988bd862e3fe1be46a994272794" {
		t.Errorf("links %v, want one to the message's trace", s.Links)
	}
}

func TestFailingInvocation(t *testing.T) {
	o, exp := newMemory(t)
	a := newApp(o)
	app.HandleInvoke(a, func(ctx context.Context, in map[string]int) (int, error) {
		return 0, fmt.Errorf("charge: %w", &secretError{token: "sk_live_123"})
	})
	if _, err := a.Invoke(invokeCtx(t, xrayHeader1), []byte(`{"n":1}`)); err == nil {
		t.Fatal("Invoke succeeded")
	}
	s := onlySpan(t, exp)
	if s.Status.Code != codes.Error {
		t.Errorf("status %v, want error", s.Status)
	}
	if s.SpanKind != trace.SpanKindServer {
		t.Errorf("kind %v, want server for a direct invoke", s.SpanKind)
	}
	checkAttrs(t, s, map[string]any{"error.type": "*otelspan.secretError", "faas.trigger": "other"})
	for _, kv := range s.Attributes {
		if strings.Contains(kv.Value.Emit(), "sk_live") {
			t.Errorf("attribute %s holds the error's text", kv.Key)
		}
	}
	if strings.Contains(s.Status.Description, "sk_live") || len(s.Events) != 0 {
		t.Errorf("the error's text is recorded: status %q, events %v", s.Status.Description, s.Events)
	}
}

type secretError struct{ token string }

func (e *secretError) Error() string { return "declined for " + e.token }

func TestHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   codes.Code
	}{{200, codes.Unset}, {404, codes.Unset}, {500, codes.Error}, {503, codes.Error}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			o, exp := newMemory(t)
			a := newApp(o)
			a.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.status) })
			a.Invoke(invokeCtx(t, xrayHeader1), httpV2("GET", "/x", nil))
			s := onlySpan(t, exp)
			if s.Status.Code != tc.want {
				t.Errorf("status %v, want %v", s.Status.Code, tc.want)
			}
		})
	}
}

// TestUnroutedHTTP: a request no route took is named after its method.
func TestUnroutedHTTP(t *testing.T) {
	o, exp := newMemory(t)
	a := newApp(o)
	a.Invoke(invokeCtx(t, ""), httpV2("GET", "/nowhere", nil))
	s := onlySpan(t, exp)
	if s.Name != "GET" {
		t.Errorf("name %q, want GET", s.Name)
	}
	if _, ok := attrs(s)["http.route"]; ok {
		t.Error("an unrouted request has http.route")
	}
	if s.Parent.IsValid() {
		t.Errorf("parent %v without any trace header", s.Parent)
	}
}

func TestParent(t *testing.T) {
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, tc := range []struct {
		name        string
		opts        []Option
		env         []string
		ctxHeader   string
		traceparent string
		wantParent  string // trace ID, span ID
		wantLink    string // trace ID, or ""
	}{
		{name: "x-ray", ctxHeader: xrayHeader1, wantParent: wantTraceID + " " + xrayParent},
		{name: "x-ray and traceparent", ctxHeader: xrayHeader1, traceparent: traceparent,
			wantParent: wantTraceID + " " + xrayParent, wantLink: "0af7651916cd43dd8448eb211c80319c"},
		{name: "prefer traceparent", opts: []Option{PreferTraceparent()}, ctxHeader: xrayHeader1, traceparent: traceparent,
			wantParent: "0af7651916cd43dd8448eb211c80319c b7ad6b7169203331", wantLink: wantTraceID},
		{name: "traceparent alone", traceparent: traceparent, wantParent: "0af7651916cd43dd8448eb211c80319c b7ad6b7169203331"},
		{name: "environment, one at a time", env: []string{"_X_AMZN_TRACE_ID", xrayHeader1}, wantParent: wantTraceID + " " + xrayParent},
		{name: "environment, several at once", env: []string{"_X_AMZN_TRACE_ID", xrayHeader1, "AWS_LAMBDA_MAX_CONCURRENCY", "4"}},
		{name: "context before environment", ctxHeader: "Root=1-6759e988-bd862e3fe1be46a994272794;Parent=1111111111111111;Sampled=1",
			env: []string{"_X_AMZN_TRACE_ID", xrayHeader1}, wantParent: "6759e988bd862e3fe1be46a994272794 1111111111111111"},
		{name: "malformed", ctxHeader: "Root=nonsense"},
		{name: "no parent field", ctxHeader: "Root=" + xrayRoot + ";Sampled=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
			o := New(tp, append([]Option{withEnv(lambdaEnv(tc.env...))}, tc.opts...)...)
			a := newApp(o)
			var h map[string]string
			if tc.traceparent != "" {
				h = map[string]string{"traceparent": tc.traceparent}
			}
			a.Invoke(invokeCtx(t, tc.ctxHeader), httpV2("GET", "/", h))
			s := onlySpan(t, exp)
			got := ""
			if s.Parent.IsValid() {
				got = s.Parent.TraceID().String() + " " + s.Parent.SpanID().String()
			}
			if got != tc.wantParent {
				t.Errorf("parent %q, want %q", got, tc.wantParent)
			}
			link := ""
			if len(s.Links) > 0 {
				link = s.Links[0].SpanContext.TraceID().String()
			}
			if link != tc.wantLink || len(s.Links) > 1 {
				t.Errorf("links %v, want %q", s.Links, tc.wantLink)
			}
		})
	}
}

// TestUnsampledParent: Sampled=0 is kept, and the SDK's default sampler
// follows it.
func TestUnsampledParent(t *testing.T) {
	o, exp := newMemory(t)
	a := newApp(o)
	a.Invoke(invokeCtx(t, "Root="+xrayRoot+";Parent="+xrayParent+";Sampled=0"), httpV2("GET", "/", nil))
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("got %d spans of an unsampled trace, want 0", n)
	}
}

func TestXRayRoundTrip(t *testing.T) {
	sc, ok := fromXRay(xrayHeader1)
	if !ok {
		t.Fatal("fromXRay failed")
	}
	if got, want := xrayHeader(sc), xrayHeader1; got != want {
		t.Errorf("xrayHeader = %q, want %q", got, want)
	}
}

func FuzzXRay(f *testing.F) {
	f.Add(xrayHeader1)
	f.Add("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000")
	f.Add("Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=?")
	f.Fuzz(func(t *testing.T, h string) {
		sc, ok := fromXRay(h)
		if !ok {
			return
		}
		again, ok := fromXRay(xrayHeader(sc))
		if !ok || !again.Equal(sc) {
			t.Errorf("%q: round trip gives %v, want %v", h, again, sc)
		}
	})
}

// blockingProvider is an SDK provider whose ForceFlush hangs: until its
// context is done, or, with ignoreCtx, until the test ends.
type blockingProvider struct {
	*sdktrace.TracerProvider
	ignoreCtx bool
	release   chan struct{}
	deadline  chan time.Time // the flush context's deadline
	ctxs      chan context.Context
}

func (p *blockingProvider) ForceFlush(ctx context.Context) error {
	d, _ := ctx.Deadline()
	p.deadline <- d
	p.ctxs <- ctx
	if p.ignoreCtx {
		<-p.release
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestFlushBounded: a flush that hangs is cut at half the time the
// invocation has left (or the cap), and End returns even when the provider
// ignores its context.
func TestFlushBounded(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignoreCtx=%v", ignore), func(t *testing.T) {
			p := &blockingProvider{TracerProvider: sdktrace.NewTracerProvider(), ignoreCtx: ignore, release: make(chan struct{}),
				deadline: make(chan time.Time, 1), ctxs: make(chan context.Context, 1)}
			defer close(p.release)
			o := New(p, withEnv(lambdaEnv()), WithFlushTimeout(time.Hour))
			a := newApp(o)
			a.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {})
			ctx, cancel := context.WithTimeout(invokeCtx(t, xrayHeader1), 200*time.Millisecond)
			defer cancel()
			deadline, _ := ctx.Deadline()
			a.Invoke(ctx, httpV2("GET", "/", nil))
			flushDeadline := <-p.deadline
			if flushDeadline.IsZero() || !flushDeadline.Before(deadline) {
				t.Errorf("the flush's deadline %v is not before the invocation's %v", flushDeadline, deadline)
			}
			if fctx := <-p.ctxs; fctx.Err() == nil {
				t.Error("Invoke returned while the flush's context was still live")
			}
		})
	}
}

// TestFlushCap: without a deadline, the cap bounds the flush.
func TestFlushCap(t *testing.T) {
	p := &blockingProvider{TracerProvider: sdktrace.NewTracerProvider(), release: make(chan struct{}),
		deadline: make(chan time.Time, 1), ctxs: make(chan context.Context, 1)}
	defer close(p.release)
	o := New(p, withEnv(lambdaEnv()), WithFlushTimeout(20*time.Millisecond))
	start := time.Now()
	ctx := o.Begin(context.Background(), &appInvocation{Start: start})
	o.End(ctx, &appInvocation{Start: start})
	if d := <-p.deadline; d.IsZero() || d.After(time.Now()) {
		t.Errorf("flush deadline %v, want one that has passed when End returns", d)
	}
}

// TestFlushOff: WithFlushTimeout(0) does not flush.
func TestFlushOff(t *testing.T) {
	p := &blockingProvider{TracerProvider: sdktrace.NewTracerProvider(), release: make(chan struct{}),
		deadline: make(chan time.Time, 1), ctxs: make(chan context.Context, 1)}
	o := New(p, withEnv(lambdaEnv()), WithFlushTimeout(0))
	ctx := o.Begin(context.Background(), &appInvocation{})
	o.End(ctx, &appInvocation{})
	select {
	case <-p.deadline:
		t.Error("End flushed")
	default:
	}
}

// TestShutdownBounded: Shutdown returns once its context is done, and
// shuts a provider down.
func TestShutdownBounded(t *testing.T) {
	p := &blockingProvider{TracerProvider: sdktrace.NewTracerProvider(), ignoreCtx: true, release: make(chan struct{}),
		deadline: make(chan time.Time, 1), ctxs: make(chan context.Context, 1)}
	defer close(p.release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	New(p).Shutdown(ctx)
	if ctx.Err() == nil {
		t.Error("Shutdown returned before its context was done, with a flush that hangs")
	}

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(keepExporter{exp}))
	o := New(tp, WithFlushTimeout(0))
	span := o.Begin(context.Background(), &appInvocation{})
	o.End(span, &appInvocation{})
	o.Shutdown(context.Background())
	if n := len(exp.GetSpans()); n != 1 {
		t.Errorf("after Shutdown the exporter has %d spans, want 1", n)
	}
	if _, s := tp.Tracer("x").Start(context.Background(), "late"); s.IsRecording() {
		t.Error("the provider records after Shutdown")
	}
}

type appInvocation = app.Invocation

type sqsMessage = events.SQSMessage

// keepExporter keeps its spans on Shutdown, where InMemoryExporter drops
// them.
type keepExporter struct{ *tracetest.InMemoryExporter }

func (keepExporter) Shutdown(context.Context) error { return nil }

// newApp returns an app observed by o, logging nowhere.
func newApp(o *Observer) *app.App {
	return app.New(app.WithObserver(o), app.WithLogger(slog.New(slog.DiscardHandler)))
}

func appHandleSQS(a *app.App) {
	app.HandleSQS(a, "orders", func(ctx context.Context, m sqsMessage) error { return nil })
}

// TestFlushTooLate: an invocation past its deadline does not flush.
func TestFlushTooLate(t *testing.T) {
	p := &blockingProvider{TracerProvider: sdktrace.NewTracerProvider(), release: make(chan struct{}),
		deadline: make(chan time.Time, 1), ctxs: make(chan context.Context, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	deadline, _ := ctx.Deadline()
	o := New(p, withEnv(lambdaEnv()), withClock(func() time.Time { return deadline.Add(time.Millisecond) }))
	ctx = o.Begin(ctx, &appInvocation{})
	o.End(ctx, &appInvocation{})
	select {
	case <-p.deadline:
		t.Error("End flushed after the deadline")
	default:
	}
}

// TestPanicSpan: an invocation whose panic escapes the app (inv.Err is
// observe.ErrPanicked) ends with error.type panic.
func TestPanicSpan(t *testing.T) {
	o, exp := newMemory(t)
	inv := &appInvocation{Start: time.Now()}
	ctx := o.Begin(invokeCtx(t, xrayHeader1), inv)
	inv.Err = app.ErrPanicked
	o.End(ctx, inv)
	s := onlySpan(t, exp)
	if s.Status.Code != codes.Error || attrs(s)["error.type"].AsString() != "panic" {
		t.Errorf("status %v, error.type %v; want error, panic", s.Status, attrs(s)["error.type"])
	}
}

// TestServeHTTPSpan: an app served as an http.Handler has spans too.
func TestServeHTTPSpan(t *testing.T) {
	o, exp := newMemory(t)
	a := newApp(o)
	a.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(a)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/items/7")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := onlySpan(t, exp)
	if s.Name != "GET /items/{id}" || s.SpanKind != trace.SpanKindServer {
		t.Errorf("span %q of kind %v, want a server span GET /items/{id}", s.Name, s.SpanKind)
	}
	checkAttrs(t, s, map[string]any{"faas.trigger": "http", "http.response.status_code": int64(200), "url.path": "/items/7"})
}

func decodeEvent(tb testing.TB, payload []byte) *event.Event {
	ev, err := event.Decode(payload)
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// TestParentInContext: without a trace header, a span already in the
// context (an outer server's) is the parent.
func TestParentInContext(t *testing.T) {
	o, exp := newMemory(t)
	outer, span := o.tp.Tracer("outer").Start(context.Background(), "outer")
	ctx := o.Begin(outer, &appInvocation{Start: time.Now(), HTTP: true})
	o.End(ctx, &appInvocation{HTTP: true, Method: "GET", Status: 200})
	span.End()
	s := exp.GetSpans()[0]
	if s.Parent.SpanID() != span.SpanContext().SpanID() {
		t.Errorf("parent %v, want the outer span %v", s.Parent.SpanID(), span.SpanContext().SpanID())
	}
}

// TestServeHTTPTraceparent: served as an http.Handler without a Lambda
// event, the app's span does not read the request's traceparent itself; a
// handler around the app that extracts it into the context makes it the
// parent, as the package documentation says.
func TestServeHTTPTraceparent(t *testing.T) {
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	o, exp := newMemory(t)
	a := newApp(o)
	a.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {})
	serve := func(h http.Handler) tracetest.SpanStub {
		t.Helper()
		exp.Reset()
		req := httptest.NewRequest("GET", "/items/7", nil)
		req.Header.Set("Traceparent", traceparent)
		h.ServeHTTP(httptest.NewRecorder(), req)
		return onlySpan(t, exp)
	}

	if s := serve(a); s.Parent.IsValid() {
		t.Errorf("the app alone made the traceparent %v the parent; the documentation says it does not", s.Parent)
	}
	extract := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		a.ServeHTTP(w, r.WithContext(ctx))
	})
	s := serve(extract)
	if got := s.Parent.TraceID().String(); got != "0af7651916cd43dd8448eb211c80319c" || s.Parent.SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("parent %v, want the traceparent's span", s.Parent)
	}
	checkAttrs(t, s, map[string]any{"http.request.method": "GET", "url.path": "/items/7", "http.route": "/items/{id}"})
}
