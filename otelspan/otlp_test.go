package otelspan

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/funcify/funcify/httpclient"
	funcifytrace "github.com/funcify/funcify/trace"
)

// receiver is an OTLP/HTTP endpoint in the test: it accepts protobuf
// POST /v1/traces and keeps the spans. With hang set it never answers:
// it tells arrived, waits for the exporter to give up, then tells cut.
type receiver struct {
	*httptest.Server
	hang         bool
	arrived, cut chan struct{}
	arrivedOnce  sync.Once
	cutOnce      sync.Once
	mu           sync.Mutex // guards spans
	spans        []*tracepb.Span
}

func newReceiver(t *testing.T, hang bool) *receiver {
	rc := &receiver{hang: hang, arrived: make(chan struct{}), cut: make(chan struct{})}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "not an OTLP/HTTP protobuf export", http.StatusNotFound)
		return
	}
	if rc.hang {
		// Read the body first: only then does the server notice that
		// the client has gone (net/http watches the connection once the
		// body is read).
		io.Copy(io.Discard, r.Body)
		rc.arrivedOnce.Do(func() { close(rc.arrived) })
		<-r.Context().Done()
		rc.cutOnce.Do(func() { close(rc.cut) })
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			rc.spans = append(rc.spans, ss.GetSpans()...)
		}
	}
	rc.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// received returns the spans received so far.
func (rc *receiver) received() []*tracepb.Span {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*tracepb.Span(nil), rc.spans...)
}

// newOTLP returns an observer exporting through otlptracehttp and a batch
// span processor to rc. The batch's own timer is an hour: only the
// observer's flush sends spans in time.
func newOTLP(t *testing.T, rc *receiver, opts ...Option) *Observer {
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(rc.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Hour)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		tp.Shutdown(ctx)
	})
	return New(tp, append([]Option{withEnv(lambdaEnv())}, opts...)...)
}

func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			v := kv.GetValue()
			switch {
			case v.GetStringValue() != "":
				return v.GetStringValue()
			case v.GetIntValue() != 0:
				return fmt.Sprint(v.GetIntValue())
			}
			return fmt.Sprint(v.GetBoolValue())
		}
	}
	return ""
}

// downstream is a server the handler calls; it keeps the trace headers of
// every request.
type downstream struct {
	*httptest.Server
	mu      sync.Mutex // guards headers
	headers []http.Header
}

func newDownstream(t *testing.T) *downstream {
	d := &downstream{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.headers = append(d.headers, r.Header.Clone())
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"stock":3}`)
	}))
	t.Cleanup(d.Close)
	return d
}

// TestOTLPThroughApp: an invocation's server span, with the X-Ray parent
// and its attributes, and the client span of the call its handler makes
// reach the OTLP receiver before Invoke returns, and the downstream got
// traceparent and X-Amzn-Trace-Id naming the client span.
func TestOTLPThroughApp(t *testing.T) {
	rc := newReceiver(t, false)
	down := newDownstream(t)
	o := newOTLP(t, rc)
	client := &http.Client{Transport: &httpclient.Transport{Base: Transport(nil)}}
	a := newApp(o)
	a.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := httpclient.GetJSON[map[string]int](r.Context(), client, down.URL+"/stock/"+r.PathValue("id")+"?token=secret"); err != nil {
			t.Errorf("GetJSON: %v", err)
		}
		w.WriteHeader(http.StatusCreated)
	})
	if _, err := a.Invoke(invokeCtx(t, xrayHeader1), httpV2("POST", "/orders/42", nil)); err != nil {
		t.Fatal(err)
	}
	spans := rc.received() // no waiting: the flush came before Invoke returned
	var server, clientSpan *tracepb.Span
	for _, s := range spans {
		switch s.GetKind() {
		case tracepb.Span_SPAN_KIND_SERVER:
			server = s
		case tracepb.Span_SPAN_KIND_CLIENT:
			clientSpan = s
		}
	}
	if server == nil || clientSpan == nil || len(spans) != 2 {
		t.Fatalf("received %d spans (server %v, client %v), want a server and a client span", len(spans), server != nil, clientSpan != nil)
	}
	if got := hex.EncodeToString(server.GetTraceId()); got != wantTraceID {
		t.Errorf("server span's trace ID %s, want %s", got, wantTraceID)
	}
	if got := hex.EncodeToString(server.GetParentSpanId()); got != xrayParent {
		t.Errorf("server span's parent %s, want %s", got, xrayParent)
	}
	if server.GetName() != "POST /orders/{id}" {
		t.Errorf("server span's name %q", server.GetName())
	}
	for k, want := range map[string]string{"faas.trigger": "http", "faas.invocation_id": "req-1", "faas.name": "orders",
		"cloud.resource_id": functionVersionARN, "aws.lambda.invoked_arn": functionARN, "cloud.account.id": "123456789012", "http.route": "/orders/{id}",
		"http.response.status_code": "201", "http.request.method": "POST", "url.path": "/orders/42"} {
		if got := attr(server, k); got != want {
			t.Errorf("server span: %s = %q, want %q", k, got, want)
		}
	}
	if !equalBytes(clientSpan.GetParentSpanId(), server.GetSpanId()) || !equalBytes(clientSpan.GetTraceId(), server.GetTraceId()) {
		t.Error("the client span is not the server span's child")
	}
	if got := attr(clientSpan, "url.full"); strings.Contains(got, "secret") || !strings.HasSuffix(got, "/stock/42") {
		t.Errorf("client span's url.full %q, want the URL without its query", got)
	}
	if got := attr(clientSpan, "http.response.status_code"); got != "200" {
		t.Errorf("client span's status %q, want 200", got)
	}

	down.mu.Lock()
	defer down.mu.Unlock()
	if len(down.headers) != 1 {
		t.Fatalf("downstream got %d requests, want 1", len(down.headers))
	}
	h := down.headers[0]
	traceID, spanID := hex.EncodeToString(clientSpan.GetTraceId()), hex.EncodeToString(clientSpan.GetSpanId())
	if got, want := h.Get("Traceparent"), "00-"+traceID+"-"+spanID+"-01"; got != want {
		t.Errorf("traceparent %q, want %q", got, want)
	}
	x, err := funcifytrace.ParseHeader(h.Get("X-Amzn-Trace-Id"))
	if err != nil {
		t.Fatalf("X-Amzn-Trace-Id %q: %v", h.Get("X-Amzn-Trace-Id"), err)
	}
	if x.Root != xrayRoot || x.Parent != spanID || x.Sampled != funcifytrace.SampledYes {
		t.Errorf("X-Amzn-Trace-Id %q, want Root=%s;Parent=%s;Sampled=1", h.Get("X-Amzn-Trace-Id"), xrayRoot, spanID)
	}
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }

// TestOTLPSQS: an SQS batch's span is a Consumer span, exported before
// Invoke returns.
func TestOTLPSQS(t *testing.T) {
	rc := newReceiver(t, false)
	a := newApp(newOTLP(t, rc))
	appHandleSQS(a)
	payload := `{"Records":[{"messageId":"m1","body":"{}","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:123456789012:orders","awsRegion":"eu-west-1"}]}`
	if _, err := a.Invoke(invokeCtx(t, xrayHeader1), []byte(payload)); err != nil {
		t.Fatal(err)
	}
	spans := rc.received()
	if len(spans) != 1 || spans[0].GetKind() != tracepb.Span_SPAN_KIND_CONSUMER {
		t.Fatalf("received %v, want one consumer span", spans)
	}
	if got := attr(spans[0], "faas.trigger"); got != "pubsub" {
		t.Errorf("faas.trigger %q, want pubsub", got)
	}
}

// TestOTLPFailure: a failing invocation's span has status Error.
func TestOTLPFailure(t *testing.T) {
	rc := newReceiver(t, false)
	a := newApp(newOTLP(t, rc))
	a.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	a.Invoke(invokeCtx(t, xrayHeader1), httpV2("GET", "/", nil))
	spans := rc.received()
	if len(spans) != 1 {
		t.Fatalf("received %d spans, want 1", len(spans))
	}
	if spans[0].GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR || attr(spans[0], "error.type") != "500" {
		t.Errorf("status %v, error.type %q; want an error, 500", spans[0].GetStatus(), attr(spans[0], "error.type"))
	}
}

// TestOTLPHangingReceiver: with a receiver that never answers, Invoke
// returns all the same: the flush is cut before the invocation's deadline
// (its context's deadline comes first), and the export request is
// abandoned.
func TestOTLPHangingReceiver(t *testing.T) {
	rc := newReceiver(t, true)
	o := newOTLP(t, rc, WithFlushTimeout(time.Hour))
	var flushDeadline time.Time
	inner := o.flush
	o.flush = func(ctx context.Context) error {
		flushDeadline, _ = ctx.Deadline()
		return inner(ctx)
	}
	a := newApp(o)
	a.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {})
	ctx, cancel := context.WithTimeout(invokeCtx(t, xrayHeader1), 500*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	a.Invoke(ctx, httpV2("GET", "/", nil))
	// Invoke returned. The export had reached the receiver, and it was
	// given up by the exporter: its request's context ended.
	<-rc.arrived
	<-rc.cut
	if flushDeadline.IsZero() || !flushDeadline.Before(deadline) {
		t.Errorf("flush deadline %v, want one before the invocation's %v", flushDeadline, deadline)
	}
}

// TestOTLPConcurrent: invocations at once each get their own span, with
// their own parent, and their calls their own client spans.
func TestOTLPConcurrent(t *testing.T) {
	rc := newReceiver(t, false)
	down := newDownstream(t)
	a := newApp(newOTLP(t, rc))
	client := &http.Client{Transport: Transport(nil)}
	a.HandleFunc("GET /{n}", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, down.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			parent := fmt.Sprintf("%016x", i+1)
			a.Invoke(invokeCtx(t, "Root="+xrayRoot+";Parent="+parent+";Sampled=1"), httpV2("GET", fmt.Sprint("/", i), nil))
		})
	}
	wg.Wait()
	spans := rc.received()
	servers := map[string]string{} // span ID -> parent
	var clients []*tracepb.Span
	for _, s := range spans {
		switch s.GetKind() {
		case tracepb.Span_SPAN_KIND_SERVER:
			servers[hex.EncodeToString(s.GetSpanId())] = hex.EncodeToString(s.GetParentSpanId())
		case tracepb.Span_SPAN_KIND_CLIENT:
			clients = append(clients, s)
		}
	}
	if len(servers) != n || len(clients) != n {
		t.Fatalf("got %d server and %d client spans, want %d of each", len(servers), len(clients), n)
	}
	parents := map[string]bool{}
	for _, p := range servers {
		parents[p] = true
	}
	if len(parents) != n {
		t.Errorf("server spans have %d distinct parents, want %d", len(parents), n)
	}
	children := map[string]bool{}
	for _, c := range clients {
		children[hex.EncodeToString(c.GetParentSpanId())] = true
	}
	for id := range servers {
		if !children[id] {
			t.Errorf("server span %s has no client span", id)
		}
	}
}
