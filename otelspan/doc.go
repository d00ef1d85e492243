// Package otelspan traces a funcify app with OpenTelemetry: a span per
// invocation, child spans for outgoing HTTP calls, and a flush of the spans
// before each invocation's answer leaves, within its deadline.
//
// It is an adapter: funcify's core packages do not import it, so a
// function that does not ask for spans links no OpenTelemetry code.
//
//	exp, err := otlptracehttp.New(ctx) // OTEL_EXPORTER_OTLP_ENDPOINT and the like
//	// ...
//	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
//	spans := otelspan.New(tp)
//	a := app.New(app.WithObserver(spans)) // Shutdown becomes a shutdown hook
//	client := &http.Client{Transport: &httpclient.Transport{Base: otelspan.Transport(nil)}}
//
// # The invocation's span
//
// [Observer.Begin] starts a span of kind Server for an HTTP request, a
// direct invoke, a schedule or an unknown payload, and Consumer for SQS,
// SNS, S3, EventBridge, Kinesis and DynamoDB Streams events, with the FaaS
// semantic conventions (faas.trigger, faas.invocation_id, faas.coldstart,
// faas.name, faas.version, cloud.provider, cloud.platform, cloud.region,
// aws.lambda.invoked_arn, cloud.account.id, and cloud.resource_id: the
// function's ARN qualified by the version that runs
// (AWS_LAMBDA_FUNCTION_VERSION) in place of the alias it was invoked by)
// and, for an HTTP event, http.request.method, url.path, url.scheme,
// server.address, user_agent.original and client.address; at its end
// http.route and http.response.status_code. An HTTP span is named
// "METHOD /route" (the path of the pattern that routed it, "METHOD" alone
// when none did); any other, after the function (AWS_LAMBDA_FUNCTION_NAME), or the event's kind
// when the name is unknown. An SQS batch's span links the traces its
// messages carry (their AWSTraceHeader).
//
// # The parent
//
// The parent is the X-Ray trace header the Lambda runtime passed with the
// invocation, which both runtime loops put in its context (and, when the
// process runs one invocation at a time, in _X_AMZN_TRACE_ID): the span
// gets Root's trace ID (its 32 hex digits, without the version and
// dashes), Parent as its parent span ID, and the sampling decision of
// Sampled=1. The X-Ray header is read with package
// [github.com/funcify/funcify/trace]; no X-Ray propagator is linked.
//
// A W3C traceparent header on an HTTP event of another trace is a link,
// or the parent when no X-Ray header came or with [PreferTraceparent] (the
// X-Ray context is then the link). X-Ray is the default because it is what
// Lambda always sends, and what ties the span to Lambda's own segments.
// Without either, a span already in the context is the parent.
//
// # Served as an http.Handler
//
// When app.App.ServeHTTP serves a request that came as no Lambda event (a
// local server, a container), the observer is not given the request: its
// headers are not read, neither traceparent nor X-Amzn-Trace-Id, and the
// span starts with the FaaS attributes alone. It gets its name,
// http.request.method, url.path, http.route and http.response.status_code
// at its end. Its parent, without an X-Ray header from the Lambda runtime
// (there is none outside Lambda), is the span in the request's context: put
// one there with a handler around the app, such as otelhttp.NewHandler (the
// app's span is then its child), or one that extracts the traceparent:
//
//	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
//		a.ServeHTTP(w, r.WithContext(ctx))
//	})
//
// Whether a span is recorded is the provider's sampler's decision. The
// SDK's default, ParentBased(AlwaysSample), follows Sampled: a function
// without X-Ray active tracing gets Sampled=0 from Lambda, and so records
// nothing unless its provider samples otherwise, for example with
// sdktrace.ParentBased(sdktrace.AlwaysSample(),
// sdktrace.WithRemoteParentNotSampled(sdktrace.AlwaysSample())).
//
// # Errors
//
// An invocation that fails (its error, or an HTTP answer of 5xx) ends with
// status Error and error.type set to the error's type (semconv.ErrorType:
// an ErrorType method, else the Go type's name; "panic" for a panic) or the
// status code. The error's text is never recorded: a message may carry a
// token, a customer's data or a downstream's answer. Record it yourself on
// trace.SpanFromContext(ctx) where you know it is safe.
//
// # The flush
//
// Lambda freezes the process as soon as the answer is sent, and a batch
// processor's goroutine does not run while it is frozen: spans left in its
// queue are sent late, or never when the environment is reclaimed. So
// [Observer.End] ends the span, then calls the provider's ForceFlush, with
// at most half the time the invocation has left and no more than
// [WithFlushTimeout]'s cap (a second by default): an exporter that hangs
// costs the invocation that much and never its deadline. [Observer.Shutdown]
// flushes and shuts the provider down within its context. A flush that
// fails or runs out of time is reported to OpenTelemetry's error handler
// (otel.Handle), as the SDK reports its own export errors; its default
// prints plain text to standard error, so a function that logs JSON sets
// one with otel.SetErrorHandler that logs through its logger, as
// examples/orders does.
//
// An invocation cut short by its timeout never reaches End: Lambda shuts
// the environment down, and package app runs [Observer.Shutdown], which
// first ends the spans of the invocations still running, with status Error
// and error.type "timeout", so that they are flushed with the rest. The
// observer keeps no timer per invocation: a span of an invocation that
// times out is sent only if the process gets to shut down (the app's
// shutdown hooks run on SIGTERM).
//
// # Outgoing calls
//
// [Transport] makes a Client span of every request, as a child of the span
// in the request's context, and sends both the W3C traceparent (and
// tracestate) and the X-Ray header X-Amzn-Trace-Id with the client span as
// the parent, on a clone of the request.
//
// # Concurrency
//
// An [Observer] and the RoundTripper [Transport] returns are safe for
// concurrent use: several invocations may run at once in one process
// (AWS_LAMBDA_MAX_CONCURRENCY), and each keeps its span in its own context
// (the spans not yet ended are also in a mutex-guarded list, for Shutdown).
// A flush sends every span ended so far, other invocations' included.
package otelspan
