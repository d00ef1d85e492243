package app

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/funcify/funcify/httperror"
)

// Error is an error with an HTTP answer: the status, a message safe to show
// the caller, the step where it happened and context for the caller. Its
// cause, Err, is logged and never shown. It is [httperror.Error]; see there
// for how empty fields are taken from the cause.
type Error = httperror.Error

// NewError returns an *Error with a status and a message for the caller.
func NewError(status int, message string) *Error {
	return httperror.New(status, message)
}

// StatusOf returns the HTTP status err answers with: that of the first
// error in its chain that chooses one (an *Error with a Status, or an error
// with an HTTPStatus() int method), else 500.
func StatusOf(err error) int { return httperror.Status(err) }

// WriteError answers the request with err in the app's error envelope:
//
//	{"error": "<message>", "code": <status>, "step": "<where>", "ctx": {...}}
//
// or as problem details when the app was built [WithProblemDetails]. It is
// [httperror.Write]: the status, message and headers come from err's chain
// (an *Error, or any error with HTTPStatus() int and optionally Header()
// http.Header and PublicMessage() string); any other error answers 500
// "internal error". Errors of status 500 and above are logged with their
// cause; the cause never reaches the caller.
//
// The app's settings (problem details, logger, step) travel in the
// request's context, so WriteError answers the same behind any
// middleware's writer, and in a handler the app serves through
// [App.ServeHTTP] as through a Lambda event.
//
// Headers already set are kept, except Content-Length and Content-Encoding,
// which described the body the handler meant to send: a handler that set
// "Content-Encoding: gzip" for a pre-compressed body, then failed, answers
// with a plain envelope, whatever middleware wraps w. A compression
// middleware added with [App.Use] must therefore set Content-Encoding when
// it starts encoding (on WriteHeader or the first Write), not before the
// handler runs: chi's Compress, klauspost/compress's gzhttp and NYTimes'
// gziphandler all do, and the envelope is then compressed and labelled as
// any answer. One that sets it up front would have the envelope compressed
// but unlabelled.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	httperror.Write(w, r, err)
}

// ErrNoRoute is matched by a [*RouteError]: no route takes the event.
var ErrNoRoute = errors.New("app: no route")

// RouteError fails a non-HTTP invocation that no route takes: an event
// whose route key has no route (an S3 event's bucket), an S3 event whose
// records come from more than one bucket, or an event of a kind the app does
// not route. It matches [ErrNoRoute].
type RouteError struct {
	// Kind is the name of the event's kind, such as "s3".
	Kind string
	// Key is the route key looked up, if the event has one.
	Key string
	// Buckets lists the buckets of an S3 event whose records came from more
	// than one.
	Buckets []string
	// Sources lists the sources (queues, topics, tables, streams, rules)
	// of an event whose records came from more than one, or whose source
	// has no name where the kind expects one ("" in the list).
	Sources []string
}

func (e *RouteError) Error() string {
	switch {
	case len(e.Buckets) > 1:
		return "app: no route: " + e.Kind + " event has records from more than one bucket: " + strings.Join(e.Buckets, ", ")
	case len(e.Sources) > 1:
		return "app: no route: " + e.Kind + " event has records from more than one source: " + strings.Join(e.Sources, ", ")
	case e.Key != "":
		return "app: no route: " + e.Kind + " route " + strconv.Quote(e.Key) + " is not registered"
	default:
		return "app: no route for " + e.Kind + " event"
	}
}

// Is reports whether target is ErrNoRoute.
func (e *RouteError) Is(target error) bool { return target == ErrNoRoute }
