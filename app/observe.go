package app

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/funcify/funcify/event"
)

// Observer watches every invocation of an App: the metrics, the buffered
// debug logs and the spans of packages metrics, logging and an OpenTelemetry
// adapter plug in here, and so can a user's own.
//
// Begin is called when an invocation starts, once its payload is decoded and
// before anything routes or logs it; the context it returns is the one the
// invocation runs with, so that it can carry the observer's per-invocation
// state (never share that state between invocations: several may run at
// once). End is called once the answer is made, with the context Begin
// returned and inv filled in, also when the invocation does not return (a
// panic or a runtime.Goexit that escapes the app: inv.Err is then
// [ErrPanicked], and the panic goes on after End). End
// should take little time and no more than the invocation's deadline:
// Lambda freezes the process as soon as the answer is sent.
//
// Observers nest like middleware: the first given to [WithObserver] begins
// first and ends last.
type Observer interface {
	Begin(ctx context.Context, inv *Invocation) context.Context
	End(ctx context.Context, inv *Invocation)
}

// Invocation is what an [Observer] learns of one invocation. The app fills
// in the fields marked "at End" before it calls End; an observer must not
// keep inv after End returns.
type Invocation struct {
	// Start is when the invocation started.
	Start time.Time
	// ColdStart is true for the first invocation of the process.
	ColdStart bool
	// Kind is the event's kind: event.Unknown for a payload that is no
	// event of a known kind (a direct invoke or a rejected payload), and for
	// a request that [App.ServeHTTP] serves without a Lambda event.
	Kind event.Kind
	// Event is the decoded event, or nil when the payload was not one (and
	// in ServeHTTP without a Lambda event).
	Event *event.Event
	// HTTP is true for an HTTP request, through an event or ServeHTTP.
	HTTP bool

	// Method and Path are an HTTP request's method and decoded path, at
	// End; empty when the event was no valid HTTP request.
	Method, Path string
	// Route is, at End, the pattern that routed an HTTP request (such as
	// "POST /orders/{id}"), "" when no route took it; for any other event,
	// the route key it was routed by (an S3 bucket, a queue's name).
	Route string
	// Status is the HTTP status answered, at End; 0 for other events.
	Status int
	// Err is the error the invocation fails with, at End: nil for an HTTP
	// request, which is always answered (see Status), and for an event
	// whose handler succeeded.
	Err error
}

// ErrPanicked is an Observer's inv.Err when the invocation does not return
// (a panic or a runtime.Goexit escapes the app): the panic goes on after the
// observers' End.
var ErrPanicked = errors.New("app: the invocation panicked")

// WithObserver adds observers of every invocation (see [Observer]). An
// observer that also has a method Shutdown(ctx context.Context) gets it
// called on shutdown, as a hook of [App.OnShutdown] added when New runs.
func WithObserver(obs ...Observer) Option {
	return func(o *options) {
		for _, ob := range obs {
			if ob == nil {
				panic("app: WithObserver with a nil Observer")
			}
			o.observers = append(o.observers, ob)
		}
	}
}

// shutdowner is an Observer with work to do on shutdown.
type shutdowner interface{ Shutdown(ctx context.Context) }

// observed runs serve between the observers' Begin and End calls. Without
// observers it costs a length check.
func (a *App) observed(ctx context.Context, inv *Invocation, serve func(ctx context.Context, inv *Invocation) ([]byte, error)) ([]byte, error) {
	obs := a.opts.observers
	if len(obs) == 0 {
		return serve(ctx, nil)
	}
	ctx = context.WithValue(ctx, invocationKey{}, inv)
	for _, o := range obs {
		ctx = o.Begin(ctx, inv)
	}
	ended := false
	defer func() {
		if !ended { // a panic is on its way out
			inv.Err = ErrPanicked
			endAll(ctx, obs, inv)
		}
	}()
	out, err := serve(ctx, inv)
	if inv.Err == nil && !inv.HTTP {
		inv.Err = err
	}
	ended = true
	endAll(ctx, obs, inv)
	return out, err
}

// endAll calls the observers' End, the last one first.
func endAll(ctx context.Context, obs []Observer, inv *Invocation) {
	for i := len(obs) - 1; i >= 0; i-- {
		obs[i].End(ctx, inv)
	}
}

// invocationKey is the context key of the observed invocation, which the
// router fills the route of.
type invocationKey struct{}

// noteRoute records the pattern that routed r in the observed invocation
// of r's context, if any.
func noteRoute(r *http.Request) {
	if r.Pattern == "" {
		return
	}
	if inv, ok := r.Context().Value(invocationKey{}).(*Invocation); ok {
		inv.Route = r.Pattern
	}
}
