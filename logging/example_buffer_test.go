package logging_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/observe"
)

// textNoTime writes text lines without the time, so that the examples'
// output is stable.
func textNoTime(w io.Writer) slog.Handler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: withoutTime})
}

// textStable writes text lines without what changes from run to run: the
// time, the duration, the trace and whether the process is cold.
func textStable(w io.Writer) slog.Handler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "duration_ms", logging.ColdStartKey, logging.TraceIDKey, logging.SpanIDKey:
				if len(groups) == 0 {
					return slog.Attr{}
				}
			}
			return a
		},
	})
}

// The Debug lines of an invocation are written only when it answers 5xx
// (or fails, panics or logs an error): the request for order 17 answers
// 200, and its Debug lines are dropped.
func ExampleNewBuffer() {
	// In a function: logging.NewBuffer(os.Stdout, logging.BufferSettings{}).
	logs := logging.NewBuffer(os.Stdout, logging.BufferSettings{Handler: textStable})
	a := app.New(app.WithLogger(logs.Logger()), app.WithObserver(logs))
	log := logs.Logger()
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		log.DebugContext(r.Context(), "loading order", "id", r.PathValue("id"))
		if r.PathValue("id") == "18" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"id":"17"}`))
	})
	for _, id := range []string{"17", "18"} {
		a.Invoke(lambdaInvocation(), []byte(`{"version":"2.0","rawPath":"/orders/`+id+`","requestContext":{"http":{"method":"GET"}}}`))
	}
	// Output:
	// level=INFO msg="invocation end" event=apigateway-v2 method=GET path=/orders/17 status=200 aws_request_id=8476a536-e9f4-11e8-9739-2dfe598c3fcd
	// level=INFO msg="invocation end" event=apigateway-v2 method=GET path=/orders/18 status=500 aws_request_id=8476a536-e9f4-11e8-9739-2dfe598c3fcd
	// level=DEBUG msg="invocation start" event=apigateway-v2 method=GET path=/orders/18 aws_request_id=8476a536-e9f4-11e8-9739-2dfe598c3fcd
	// level=DEBUG msg="loading order" id=18 aws_request_id=8476a536-e9f4-11e8-9739-2dfe598c3fcd
}

// A Buffer is an observer: without an app, call Begin and End around each
// invocation. An Error line writes the lines held before it, then itself.
func ExampleBuffer_Begin() {
	logs := logging.NewBuffer(os.Stdout, logging.BufferSettings{Handler: textNoTime})
	log := logs.Logger()

	inv := &observe.Invocation{}
	ctx := logs.Begin(context.Background(), inv)
	log.DebugContext(ctx, "cache miss", "key", "o-17")
	log.InfoContext(ctx, "calling payments")
	log.ErrorContext(ctx, "payment failed", "status", 502)
	log.DebugContext(ctx, "retrying") // after an error, lines are written as they come
	inv.Err = errors.New("payment failed")
	logs.End(ctx, inv)

	log.DebugContext(context.Background(), "not in an invocation: at level INFO, not written")
	// Output:
	// level=INFO msg="calling payments"
	// level=DEBUG msg="cache miss" key=o-17
	// level=ERROR msg="payment failed" status=502
	// level=DEBUG msg=retrying
}

// With MaxBytes, an invocation holds that many bytes of lines at most; one
// line says how many were dropped.
func ExampleBufferSettings() {
	logs := logging.NewBuffer(os.Stdout, logging.BufferSettings{
		MaxBytes: 100,
		Info:     true, // hold Info lines too
		Handler:  textNoTime,
	})
	log := logs.Logger()

	inv := &observe.Invocation{HTTP: true}
	ctx := logs.Begin(context.Background(), inv)
	for _, step := range []string{"parse", "validate", "price", "reserve", "charge"} {
		log.InfoContext(ctx, "step", "name", step)
	}
	inv.Status = http.StatusServiceUnavailable
	logs.End(ctx, inv)
	// Output:
	// level=INFO msg=step name=parse
	// level=INFO msg=step name=validate
	// level=INFO msg=step name=price
	// level=WARN msg="log lines dropped" dropped=2 max_bytes=100
}

// A sampled invocation logs at Debug in full, as lines come; SampleRate 1
// samples every one. In a function, set FUNCIFY_LOG_SAMPLE_RATE (0.01 for
// one invocation in a hundred) or SampleRate.
func ExampleBufferSettings_sampling() {
	logs := logging.NewBuffer(os.Stdout, logging.BufferSettings{SampleRate: 1, Handler: textNoTime})
	log := logs.Logger()

	inv := &observe.Invocation{}
	ctx := logs.Begin(context.Background(), inv)
	log.DebugContext(ctx, "cache miss", "key", "o-17")
	logs.End(ctx, inv)
	// Output:
	// level=DEBUG msg="cache miss" key=o-17
}
