package otelspan

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcify/funcify/event"
	"github.com/funcify/funcify/internal/live"
	"github.com/funcify/funcify/observe"
)

// ScopeName is the instrumentation scope of the spans this package makes.
const ScopeName = "github.com/funcify/funcify/otelspan"

// DefaultFlushTimeout caps the flush at the end of an invocation when
// [WithFlushTimeout] does not set another cap.
const DefaultFlushTimeout = time.Second

// Observer makes a span of every invocation of a funcify app and flushes
// the spans before the invocation's answer leaves; see the package
// documentation. It implements [observe.Observer] and has the Shutdown
// method that app.WithObserver registers as a shutdown hook. It is safe for
// concurrent use: the per-invocation state lives in the context, and the
// set of spans not yet ended is guarded by a mutex.
type Observer struct {
	tp     trace.TracerProvider
	tracer trace.Tracer
	// flush and shutdown are the provider's ForceFlush and Shutdown, nil
	// when it has none (a no-op provider).
	flush, shutdown func(context.Context) error

	flushTimeout      time.Duration
	preferTraceparent bool
	// envTrace: _X_AMZN_TRACE_ID may be read, the process running one
	// invocation at a time.
	envTrace bool
	getenv   func(string) string
	now      func() time.Time

	// fixed are the attributes every span gets, from the environment.
	fixed   []attribute.KeyValue
	name    string // the function's name, or ""
	version string // the function's version, or ""

	mu   sync.Mutex            // guards live
	live live.List[trace.Span] // the spans begun and not ended
}

// liveSpan is an invocation's span, the value Begin puts in its context.
// It is in the Observer's live list until End or Shutdown ends it,
// whichever comes first.
type liveSpan struct{ link live.Link[trace.Span] }

// Option configures an [Observer].
type Option func(*Observer)

// WithFlushTimeout caps the flush that ends each invocation at d (default
// [DefaultFlushTimeout]); the flush never gets more than half the time the
// invocation has left, whatever d is. Zero or less turns the flush off, for
// a provider that exports synchronously (sdktrace.WithSyncer) or a process
// that is not frozen between requests.
func WithFlushTimeout(d time.Duration) Option {
	return func(o *Observer) { o.flushTimeout = d }
}

// PreferTraceparent makes a W3C traceparent header on an HTTP request the
// parent of the invocation's span, ahead of the X-Ray trace header that the
// Lambda runtime passes; the X-Ray context is then a link. Without it the
// X-Ray context is the parent and a traceparent of another trace a link.
// Use it when the callers are instrumented with OpenTelemetry and X-Ray
// active tracing is off.
func PreferTraceparent() Option {
	return func(o *Observer) { o.preferTraceparent = true }
}

// withEnv makes the observer read its environment through getenv, for
// tests.
func withEnv(getenv func(string) string) Option {
	return func(o *Observer) { o.getenv = getenv }
}

// withClock sets the clock that bounds the flush, for tests.
func withClock(now func() time.Time) Option {
	return func(o *Observer) { o.now = now }
}

// New returns an Observer that starts its spans with tp, usually an SDK
// *sdktrace.TracerProvider with a batch span processor. At the end of each
// invocation it calls tp's ForceFlush(ctx) error, and on shutdown its
// Shutdown(ctx) error, when tp has them (the SDK's does). A nil tp means
// otel.GetTracerProvider().
//
// New reads the function's name, version and region from the Lambda
// environment (AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION,
// AWS_REGION), and whether the process runs one invocation at a time
// (AWS_LAMBDA_MAX_CONCURRENCY unset or 1).
func New(tp trace.TracerProvider, opts ...Option) *Observer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	o := &Observer{tp: tp, flushTimeout: DefaultFlushTimeout, getenv: os.Getenv, now: time.Now}
	for _, opt := range opts {
		opt(o)
	}
	o.tracer = tp.Tracer(ScopeName)
	if f, ok := tp.(interface{ ForceFlush(context.Context) error }); ok {
		o.flush = f.ForceFlush
	}
	if s, ok := tp.(interface{ Shutdown(context.Context) error }); ok {
		o.shutdown = s.Shutdown
	}
	n, err := strconv.Atoi(o.getenv("AWS_LAMBDA_MAX_CONCURRENCY"))
	o.envTrace = err != nil || n <= 1

	o.name = o.getenv("AWS_LAMBDA_FUNCTION_NAME")
	o.fixed = []attribute.KeyValue{semconv.CloudProviderAWS, semconv.CloudPlatformAWSLambda}
	if o.name != "" {
		o.fixed = append(o.fixed, semconv.FaaSName(o.name))
	}
	o.version = o.getenv("AWS_LAMBDA_FUNCTION_VERSION")
	if o.version != "" {
		o.fixed = append(o.fixed, semconv.FaaSVersion(o.version))
	}
	if v := o.getenv("AWS_REGION"); v != "" {
		o.fixed = append(o.fixed, semconv.CloudRegion(v))
	}
	return o
}

// spanKey is the context key of the invocation's span, kept apart from
// trace.SpanFromContext so that End finds its own span whatever other
// observers put in the context.
type spanKey struct{}

// Begin starts the invocation's span and returns ctx with it, where
// trace.SpanFromContext, [Transport] and the user's own instrumentation
// find it.
func (o *Observer) Begin(ctx context.Context, inv *observe.Invocation) context.Context {
	attrs := make([]attribute.KeyValue, 0, 24)
	attrs = append(attrs, o.fixed...)
	attrs = append(attrs, trigger(inv), semconv.FaaSColdstart(inv.ColdStart))
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		if lc.AwsRequestID != "" {
			attrs = append(attrs, semconv.FaaSInvocationID(lc.AwsRequestID))
		}
		if arn := lc.InvokedFunctionArn; arn != "" {
			attrs = append(attrs, semconv.CloudResourceID(resourceID(arn, o.version)), semconv.AWSLambdaInvokedARN(arn))
			// arn:aws:lambda:<region>:<account>:function:<name>[:<alias>]
			if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 && parts[4] != "" {
				attrs = append(attrs, semconv.CloudAccountID(parts[4]))
			}
		}
	}

	kind := trace.SpanKindServer
	name := o.name
	var links []trace.Link
	var incoming trace.SpanContext // a W3C traceparent on an HTTP request
	req, isHTTP := httpRequest(inv.Event)
	if isHTTP {
		attrs = appendRequest(attrs, req)
		name = methodName(req.method)
		incoming = trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), req.header))
	} else if inv.Event != nil {
		switch inv.Kind {
		case event.SQS, event.SNS, event.S3, event.EventBridge, event.Kinesis, event.DynamoDBStream:
			kind = trace.SpanKindConsumer
			attrs = append(attrs, semconv.MessagingOperationTypeProcess)
		}
		attrs, links = appendMessaging(attrs, links, inv.Event)
	}
	if name == "" {
		name = inv.Kind.String()
	}

	// The parent: the runtime's X-Ray context, or the request's
	// traceparent (first with PreferTraceparent); the other one, if it is
	// of another trace, is a link.
	xray, hasXRay := fromXRay(runtimeHeader(ctx, o.getenv, o.envTrace))
	parent, other := xray, incoming
	if o.preferTraceparent && incoming.IsValid() || !hasXRay {
		parent, other = incoming, xray
	}
	if other.IsValid() && (!parent.IsValid() || other.TraceID() != parent.TraceID()) {
		links = append(links, trace.Link{SpanContext: other})
	}
	// Without either, a span already in ctx is the parent: that of a
	// server that mounts the app (see app.App.ServeHTTP), say.
	pctx := ctx
	if parent.IsValid() {
		pctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	}
	start := inv.Start
	if start.IsZero() {
		start = o.now()
	}
	_, span := o.tracer.Start(pctx, name,
		trace.WithSpanKind(kind), trace.WithAttributes(attrs...), trace.WithLinks(links...), trace.WithTimestamp(start))
	ls := &liveSpan{link: live.Link[trace.Span]{Value: span}}
	// Shutdown ends it if End never comes.
	o.mu.Lock()
	o.live.Push(&ls.link)
	o.mu.Unlock()
	ctx = trace.ContextWithSpan(ctx, span)
	return context.WithValue(ctx, spanKey{}, ls)
}

// End records what the invocation answered, ends its span, then flushes
// the provider within the invocation's deadline (see [WithFlushTimeout]).
// It does nothing for a span that [Observer.Shutdown] ended already.
func (o *Observer) End(ctx context.Context, inv *observe.Invocation) {
	ls, ok := ctx.Value(spanKey{}).(*liveSpan)
	if !ok {
		return
	}
	o.mu.Lock()
	running := o.live.Remove(&ls.link) // false: Shutdown ended it, or an earlier End
	o.mu.Unlock()
	if !running {
		return
	}
	span := ls.link.Value
	if span.IsRecording() {
		o.record(span, inv)
	}
	span.End()
	if o.flush != nil && o.flushTimeout > 0 {
		o.flushWithin(ctx)
	}
}

// resourceID returns the function's ARN for cloud.resource_id: the invoked
// ARN with its qualifier (an alias, or a version) replaced by version, the
// version that runs, as the FaaS semantic conventions ask, since one
// environment serves every alias of its version. Without a version it is
// the unqualified ARN. An ARN of another shape is returned as it is.
func resourceID(invoked, version string) string {
	// arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
	end, colons := len(invoked), 0
	for i := 0; i < len(invoked); i++ {
		if invoked[i] == ':' {
			colons++
			if colons == 7 {
				end = i
				break
			}
		}
	}
	if colons < 6 || !strings.HasPrefix(invoked, "arn:") {
		return invoked
	}
	fn := invoked[:end]
	if version == "" {
		return fn
	}
	if len(invoked) == len(fn)+1+len(version) && invoked[len(fn)+1:] == version {
		return invoked // qualified by the version already
	}
	return fn + ":" + version
}

// record sets the attributes, name and status an invocation has at its end.
func (o *Observer) record(span trace.Span, inv *observe.Invocation) {
	if inv.HTTP {
		if inv.Method != "" {
			route := ""
			if inv.Route != "" {
				route = routePath(inv.Route)
				span.SetAttributes(semconv.HTTPRoute(route))
			}
			span.SetAttributes(methodAttrs(inv.Method)...)
			if inv.Path != "" {
				span.SetAttributes(semconv.URLPath(inv.Path))
			}
			name := methodName(inv.Method)
			if route != "" {
				name += " " + route
			}
			span.SetName(name)
		}
		if inv.Status != 0 {
			span.SetAttributes(semconv.HTTPResponseStatusCode(inv.Status))
		}
	} else if inv.Route != "" && (inv.Kind == event.SQS || inv.Kind == event.SNS) {
		// The route key of a queue or topic is its name.
		span.SetAttributes(semconv.MessagingDestinationName(inv.Route))
	}
	switch {
	case inv.Err != nil:
		// The error's type, never its text: an error message may carry a
		// token, a customer's data or a downstream's answer.
		typ := errorType(inv.Err)
		span.SetAttributes(semconv.ErrorTypeKey.String(typ))
		span.SetStatus(codes.Error, typ)
	case inv.HTTP && inv.Status >= 500:
		// A 4xx is the client's failure, not the server span's.
		s := strconv.Itoa(inv.Status)
		span.SetAttributes(semconv.ErrorTypeKey.String(s))
		span.SetStatus(codes.Error, "")
	}
}

// errorType names err for error.type: "panic" for a panic that escaped the
// app, else what semconv.ErrorType makes of it (an ErrorType method, or the
// type's name).
func errorType(err error) string {
	if errors.Is(err, observe.ErrPanicked) {
		return "panic"
	}
	return semconv.ErrorType(err).Value.AsString()
}

// flushWithin flushes the provider, giving it at most half the time the
// invocation has left and no more than the flush timeout: the other half is
// for the answer to leave. A provider that does not return in time is left
// behind: End never waits past the bound, whatever the provider does.
func (o *Observer) flushWithin(ctx context.Context) {
	bound := o.flushTimeout
	if deadline, ok := ctx.Deadline(); ok {
		left := deadline.Sub(o.now())
		if left <= 0 {
			return // too late: the answer is already overdue
		}
		bound = min(bound, left/2)
	}
	// The invocation's context may be cancelled (a client gone away in
	// ServeHTTP) while its spans are still worth sending.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	o.bounded(fctx, o.flush)
}

// bounded runs f(ctx) and returns its error, or ctx's once ctx is done,
// whichever is first. Errors go to OpenTelemetry's error handler
// (otel.Handle), as the SDK reports its own.
func (o *Observer) bounded(ctx context.Context, f func(context.Context) error) {
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		otel.Handle(err)
	}
}

// timeoutErrorType is the error.type of a span that Shutdown ends: that of
// an invocation still running when the process shuts down. "timeout" is the
// example the semantic conventions give for error.type.
const timeoutErrorType = "timeout"

// Shutdown ends the spans of the invocations that began and have not ended,
// then flushes the provider's spans and shuts it down, within ctx: it
// returns once ctx is done even if the provider has not. app.WithObserver
// registers it as a shutdown hook. Spans started afterwards are dropped.
//
// In Lambda, an invocation still running at shutdown is one cut short by
// its timeout: Lambda then shuts the environment down and the invocation's
// End never comes. Its span, the one most worth seeing, ends with status
// Error and error.type "timeout", at the time of Shutdown (its
// duration is thus a little longer than the invocation's), and is flushed
// with the others. An End that still comes afterwards does nothing.
func (o *Observer) Shutdown(ctx context.Context) {
	o.mu.Lock()
	cut := o.live.TakeAll()
	o.mu.Unlock()
	for _, span := range cut {
		span.SetAttributes(semconv.ErrorTypeKey.String(timeoutErrorType))
		span.SetStatus(codes.Error, "the invocation did not end before shutdown")
		span.End()
	}
	if o.flush != nil {
		o.bounded(ctx, o.flush)
	}
	if o.shutdown != nil && ctx.Err() == nil {
		o.bounded(ctx, o.shutdown)
	}
}

// trigger returns the faas.trigger of an invocation.
func trigger(inv *observe.Invocation) attribute.KeyValue {
	switch inv.Kind {
	case event.SQS, event.SNS, event.EventBridge, event.Kinesis:
		return semconv.FaaSTriggerPubSub
	case event.S3, event.DynamoDBStream:
		return semconv.FaaSTriggerDatasource
	case event.Schedule:
		return semconv.FaaSTriggerTimer
	}
	if inv.HTTP {
		return semconv.FaaSTriggerHTTP
	}
	return semconv.FaaSTriggerOther
}

// methodName returns the method as a span name shows it: "HTTP" for a
// method semantic conventions do not name.
func methodName(m string) string {
	if knownMethods[m] {
		return m
	}
	return "HTTP"
}

// methodAttrs returns http.request.method for m, with
// http.request.method_original for a method of its own.
func methodAttrs(m string) []attribute.KeyValue {
	if knownMethods[m] {
		return []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(m)}
	}
	return []attribute.KeyValue{semconv.HTTPRequestMethodOther, semconv.HTTPRequestMethodOriginal(m)}
}

// appendRequest appends the HTTP server attributes of r.
func appendRequest(attrs []attribute.KeyValue, r request) []attribute.KeyValue {
	if r.method != "" {
		attrs = append(attrs, methodAttrs(r.method)...)
	}
	if r.path != "" {
		attrs = append(attrs, semconv.URLPath(r.path))
	}
	if r.scheme != "" {
		attrs = append(attrs, semconv.URLScheme(r.scheme))
	}
	if r.host != "" {
		host := r.host
		if h, port, ok := strings.Cut(host, ":"); ok && !strings.Contains(port, ":") {
			host = h
			if p, err := strconv.Atoi(port); err == nil {
				attrs = append(attrs, semconv.ServerPort(p))
			}
		}
		attrs = append(attrs, semconv.ServerAddress(host))
	}
	if r.userAgent != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(r.userAgent))
	}
	if r.client != "" {
		attrs = append(attrs, semconv.ClientAddress(r.client))
	}
	return attrs
}

// maxLinks bounds the links a batch's span gets from its messages' trace
// headers.
const maxLinks = 32

// appendMessaging appends the attributes of a messaging event, and links to
// the traces its SQS messages carry (their AWSTraceHeader attribute).
func appendMessaging(attrs []attribute.KeyValue, links []trace.Link, ev *event.Event) ([]attribute.KeyValue, []trace.Link) {
	switch v := ev.Value.(type) {
	case *events.SQSEvent:
		attrs = append(attrs, semconv.MessagingSystemAWSSQS, semconv.MessagingBatchMessageCount(len(v.Records)))
		for i := range v.Records {
			if len(links) == maxLinks {
				break
			}
			if sc, ok := fromXRay(v.Records[i].Attributes["AWSTraceHeader"]); ok {
				links = append(links, trace.Link{SpanContext: sc})
			}
		}
	case *events.SNSEvent:
		attrs = append(attrs, semconv.MessagingSystemAWSSNS, semconv.MessagingBatchMessageCount(len(v.Records)))
	case *events.KinesisEvent:
		attrs = append(attrs, semconv.MessagingBatchMessageCount(len(v.Records)))
	case *events.DynamoDBEvent:
		attrs = append(attrs, semconv.MessagingBatchMessageCount(len(v.Records)))
	}
	return attrs, links
}
