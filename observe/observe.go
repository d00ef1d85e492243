// Package observe defines how a Lambda function's invocations are watched:
// an [Observer] is told when each invocation begins and ends, with what
// funcify's app learned of it ([Invocation]: its event, route, status and
// error). Package app calls the observers given to app.WithObserver; the
// metrics, the buffered debug logs and the OpenTelemetry spans plug in
// there, and so can a user's own. This package imports only funcify's
// package event, so that an observer need not import app.
package observe

import (
	"context"
	"errors"
	"time"

	"github.com/funcify/funcify/event"
)

// Observer watches every invocation of a funcify app: the metrics, the buffered
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
// Observers nest like middleware: the first given to app.WithObserver begins
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
