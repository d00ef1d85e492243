package app

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Error is an error with an HTTP answer: the status, a message safe to show
// the caller, the step where it happened and context for the caller. Its
// cause, Err, is logged and never shown.
type Error struct {
	// Status is the HTTP status; 0 means 500.
	Status int
	// Message is shown to the caller; empty means the status text.
	Message string
	// Step names where the request failed, such as "guard" or "parse";
	// empty means "handler".
	Step string
	// Ctx is shown to the caller in the envelope's "ctx" member.
	Ctx map[string]any
	// Err is the cause, for logs and errors.Is/As; never shown.
	Err error
	// Header holds headers the answer carries, such as the
	// WWW-Authenticate challenge of a 401.
	Header http.Header
}

// NewError returns an *Error with a status and a message for the caller.
func NewError(status int, message string) *Error {
	return &Error{Status: status, Message: message}
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("app: ")
	b.WriteString(e.step())
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.status()))
	b.WriteString(" ")
	b.WriteString(e.message())
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) status() int {
	if e.Status < 100 || e.Status > 999 {
		return http.StatusInternalServerError
	}
	return e.Status
}

func (e *Error) message() string {
	if e.Message != "" {
		return e.Message
	}
	if t := http.StatusText(e.status()); t != "" {
		return t
	}
	return "error"
}

func (e *Error) step() string {
	if e.Step != "" {
		return e.Step
	}
	return "handler"
}

// StatusOf returns the HTTP status err answers with: that of the first
// *Error in its chain, else 500.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.status()
	}
	return http.StatusInternalServerError
}

// public returns what the caller may see of err, with step as the default
// step. Anything that is not an *Error is an internal error whose text stays
// in the log.
func public(err error, step string) *Error {
	var e *Error
	if errors.As(err, &e) {
		out := *e
		if out.Step == "" {
			out.Step = step
		}
		return &out
	}
	return &Error{Status: http.StatusInternalServerError, Message: "internal error", Step: step}
}

// WriteError answers the request with err in the app's error envelope:
//
//	{"error": "<message>", "code": <status>, "step": "<where>", "ctx": {...}}
//
// or as problem details when the app was built [WithProblemDetails]. An
// *Error in err's chain gives the status, message, step and ctx; any other
// error answers 500 "internal error". Errors of status 500 and above are
// logged with their cause; the cause never reaches the caller.
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
	writeError(w, r, err, "handler")
}

func writeError(w http.ResponseWriter, r *http.Request, err error, step string) {
	a := appOf(w)
	e := public(err, step)
	for k, vs := range e.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if e.status() >= 500 {
		a.logger().LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("step", e.step()), slog.Int("status", e.status()), slog.String("error", err.Error()))
	}
	writeEnvelope(w, e, a != nil && a.opts.problem)
}

// writeEnvelope writes e as the response, keeping headers already set except
// Content-Length and Content-Encoding, which described another body: the
// envelope is written plain, and a compression middleware between w and
// funcify's writer labels it when it encodes it (see [WriteError]). Unlike
// net/http's http.Error, which keeps Content-Encoding for middleware that set
// it up front (go.dev/issue/66343), this drops it under any writer: kept, it
// mislabels the envelope under every other middleware that wraps the writer,
// a status recorder for logs included.
func writeEnvelope(w http.ResponseWriter, e *Error, problem bool) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	status := e.status()
	ctx := e.Ctx
	if ctx == nil {
		ctx = map[string]any{}
	}
	var body []byte
	var err error
	if problem {
		h.Set("Content-Type", "application/problem+json")
		title := http.StatusText(status)
		if title == "" {
			title = "Error"
		}
		body, err = json.Marshal(problemDetails{Type: "about:blank", Title: title, Status: status, Detail: e.message(), Step: e.step(), Ctx: ctx})
	} else {
		h.Set("Content-Type", "application/json")
		body, err = json.Marshal(envelope{Error: e.message(), Code: status, Step: e.step(), Ctx: ctx})
	}
	if err != nil {
		// The ctx held a value that cannot be encoded: answer without it.
		body = []byte(`{"error":"internal error","code":500,"step":"respond","ctx":{}}`)
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	w.Write(body)
}

type envelope struct {
	Error string         `json:"error"`
	Code  int            `json:"code"`
	Step  string         `json:"step"`
	Ctx   map[string]any `json:"ctx"`
}

type problemDetails struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Step   string         `json:"step"`
	Ctx    map[string]any `json:"ctx"`
}

// ErrNoRoute is matched by a [*RouteError]: no route takes the event.
var ErrNoRoute = errors.New("app: no route")

// RouteError fails an invocation that no route takes: an S3 event whose
// bucket has no route or whose records come from more than one bucket, or an
// event of a kind the app has no routes for. It matches [ErrNoRoute].
type RouteError struct {
	// Kind is the event's kind, such as "s3".
	Kind string
	// Key is the route key looked up, if any.
	Key string
	// Buckets lists the buckets of an S3 event whose records came from more
	// than one.
	Buckets []string
}

func (e *RouteError) Error() string {
	switch {
	case len(e.Buckets) > 1:
		return "app: no route: " + e.Kind + " event has records from more than one bucket: " + strings.Join(e.Buckets, ", ")
	case e.Key != "":
		return "app: no route: " + e.Kind + " route " + strconv.Quote(e.Key) + " is not registered"
	default:
		return "app: no route for " + e.Kind + " event"
	}
}

// Is reports whether target is ErrNoRoute.
func (e *RouteError) Is(target error) bool { return target == ErrNoRoute }
