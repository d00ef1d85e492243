package otelspan

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Transport returns an http.RoundTripper that makes a client span of every
// request it sends through base (nil means http.DefaultTransport), as a
// child of the span in the request's context, and propagates it to the
// server in both formats: W3C traceparent (and tracestate) and the X-Ray
// header X-Amzn-Trace-Id, whose Root is the span's trace ID and Parent the
// client span's ID. It sends a clone of the request: the caller's is not
// changed.
//
// Put it under httpclient's retries, as httpclient.Transport's Base, for a
// span per try, or around an httpclient.Transport for one span per call:
//
//	client := &http.Client{Transport: &httpclient.Transport{Base: otelspan.Transport(nil)}}
//
// The span is started with the provider of the span in the request's
// context (the invocation's, from an [Observer]), and with
// otel.GetTracerProvider() when the context has none. It ends when the
// answer's body has been read to its end or closed, or when the request
// fails. The result is safe for concurrent use.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct{ base http.RoundTripper }

// propagator writes the W3C headers.
var propagator propagation.TextMapPropagator = propagation.TraceContext{}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tp := otel.GetTracerProvider()
	if parent := trace.SpanFromContext(ctx); parent.SpanContext().IsValid() {
		tp = parent.TracerProvider()
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, methodAttrs(method)...)
	if u := req.URL; u != nil {
		attrs = append(attrs, semconv.URLFull(redactedURL(req)))
		if host := u.Hostname(); host != "" {
			attrs = append(attrs, semconv.ServerAddress(host))
		}
		if p := port(req); p > 0 {
			attrs = append(attrs, semconv.ServerPort(p))
		}
	}
	ctx, span := tp.Tracer(ScopeName).Start(ctx, methodName(method),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))

	out := req.Clone(ctx) // the headers are the caller's: write to a copy
	propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
	if sc := span.SpanContext(); sc.IsValid() {
		out.Header.Set("X-Amzn-Trace-Id", xrayHeader(sc))
	}

	resp, err := t.base.RoundTrip(out)
	if err != nil {
		// The error's type, not its text, which may hold the URL.
		typ := semconv.ErrorType(err).Value.AsString()
		span.SetAttributes(semconv.ErrorTypeKey.String(typ))
		span.SetStatus(codes.Error, typ)
		span.End()
		return nil, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode >= 400 {
		// A client span fails on 4xx as on 5xx: the call did not do
		// what it asked.
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
		span.SetStatus(codes.Error, "")
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		span.End()
		return resp, nil
	}
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

// spanBody ends its span once the body is read to its end or closed.
type spanBody struct {
	io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.end()
	}
	return n, err
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.end()
	return err
}

func (b *spanBody) end() { b.once.Do(func() { b.span.End() }) }

// redactedURL returns the request's URL without its user information and
// query, which may hold credentials or personal data.
func redactedURL(req *http.Request) string {
	u := *req.URL
	u.User = nil
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}

// port returns the port the request goes to, explicit or the scheme's.
func port(req *http.Request) int {
	if p := req.URL.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	switch strings.ToLower(req.URL.Scheme) {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}
