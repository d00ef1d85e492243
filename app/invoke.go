package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/internal/envelope"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/trace"
)

// coldStart is true until the process's first invocation begins.
var coldStart atomic.Bool

func init() { coldStart.Store(true) }

func defaultLogger() *slog.Logger { return logging.New(os.Stdout) }

func (a *App) logger() *slog.Logger {
	if a == nil {
		return slog.Default()
	}
	return a.opts.logger
}

// Invoke handles one invocation: it decodes payload once, runs the pipeline
// and returns the response in the shape the event's source expects. It
// implements aws-lambda-go's lambda.Handler and is safe for concurrent use.
//
// An HTTP event always gets an HTTP response, errors included, as an error
// envelope. Valid JSON of no known kind goes to the direct-invoke route,
// if [HandleInvoke] registered one. Any other payload that is not an event
// of a known kind, an event no route takes and a failing non-HTTP handler
// fail the invocation with an error (an [*event.Error], a [*RouteError] or
// the handler's error), which Lambda records as a function error.
func (a *App) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	// Load first: after the first invocation the flag is only read, so
	// concurrent invocations do not contend on writing it.
	cold := coldStart.Load() && coldStart.Swap(false)
	ctx = logging.WithColdStart(ctx, cold)
	ev, err := event.Decode(payload)
	if len(a.opts.observers) == 0 {
		return a.invoke(ctx, payload, ev, err, start, nil)
	}
	inv := &Invocation{Start: start, ColdStart: cold, Event: ev}
	if ev != nil {
		inv.Kind, inv.HTTP = ev.Kind, ev.Kind.IsHTTP()
	}
	return a.observed(ctx, inv, func(ctx context.Context, inv *Invocation) ([]byte, error) {
		return a.invoke(ctx, payload, ev, err, start, inv)
	})
}

// invoke serves the event ev decoded from payload, or the payload that did
// not decode (with err), filling in inv for the observers when not nil.
func (a *App) invoke(ctx context.Context, payload []byte, ev *event.Event, err error, start time.Time, inv *Invocation) ([]byte, error) {
	log := a.logger()
	if err != nil {
		if out, ok, err := a.invokeUnknown(ctx, payload, err, start, inv); ok {
			return out, err // a direct invoke (see HandleInvoke)
		}
		ctx = trace.NewContext(ctx, trace.Start(ctx, "", start))
		// Its one line, with what an end line has that it can know.
		log.LogAttrs(ctx, slog.LevelError, "invocation rejected", slog.String("event", event.Unknown.String()),
			slog.Int("bytes", len(payload)), slog.String("error", err.Error()), durationMS(start))
		return nil, err
	}
	ctx = event.NewContext(ctx, ev)
	if ev.Kind.IsHTTP() {
		return a.invokeHTTP(ctx, ev, start, inv)
	}
	return a.invokeEvent(ctx, ev, start, inv)
}

func (a *App) invokeHTTP(ctx context.Context, ev *event.Event, start time.Time, inv *Invocation) ([]byte, error) {
	log := a.logger()
	w := getWriter()
	defer putWriter(w)
	h := a.httpHandler()

	r, err := newRequest(ev)
	if err != nil {
		ctx = trace.NewContext(ctx, trace.Start(ctx, "", start))
		log.LogAttrs(ctx, slog.LevelDebug, "invocation start", slog.String("event", ev.Kind.String()))
		log.LogAttrs(ctx, slog.LevelWarn, "bad request", slog.String("error", err.Error()))
		envelope.Write(w, envelope.Answer{Status: http.StatusBadRequest, Message: "bad request", Step: "request"}, a.opts.problem)
	} else {
		span := trace.Start(ctx, r.Header.Get("X-Amzn-Trace-Id"), start)
		ctx = trace.NewContext(ctx, span)
		r = r.WithContext(httperror.NewContext(ctx, a.respond))
		if log.Enabled(ctx, slog.LevelDebug) {
			log.LogAttrs(ctx, slog.LevelDebug, "invocation start", slog.String("event", ev.Kind.String()),
				slog.String("method", r.Method), slog.String("path", r.URL.Path))
		}
		h.ServeHTTP(w, r)
		if r.Method == http.MethodHead {
			w.body.Reset() // as net/http: a HEAD answer has headers only
		}
	}

	albMulti := false
	if alb, ok := ev.Value.(*events.ALBTargetGroupRequest); ok {
		albMulti = alb.MultiValueHeaders != nil
	}
	out := w.encode(make([]byte, 0, 256+w.body.Len()*4/3), ev, albMulti)
	status := w.status
	if status == 0 {
		status = http.StatusOK // as encode answered: the handler wrote nothing
	}
	if inv != nil {
		inv.Status = status
		if r != nil {
			inv.Method, inv.Path = r.Method, r.URL.Path
		}
	}
	if log.Enabled(ctx, slog.LevelInfo) {
		// The one line an invocation writes at Info: each line is a write
		// to standard output, a system call.
		method, path := "", ""
		if r != nil {
			method, path = r.Method, r.URL.Path
		}
		log.LogAttrs(ctx, slog.LevelInfo, "invocation end", slog.String("event", ev.Kind.String()),
			slog.String("method", method), slog.String("path", path), slog.Int("status", status), durationMS(start))
	}
	return out, nil
}

// durationMS is the log attribute for the time since start, in milliseconds.
func durationMS(start time.Time) slog.Attr {
	return slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)
}
