package httperror

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/funcify/funcify/internal/envelope"
)

// Error is an error with an HTTP answer: the status, a message safe to show
// the caller, the step where it happened and context for the caller. Its
// cause, Err, is logged and never shown.
//
// A field left empty is taken from the cause when the cause carries it:
// an Error{Step: "authenticate", Err: err} answers with err's status,
// message and headers (see [Write]), under its own step.
type Error struct {
	// Status is the HTTP status. 0 means the status Err carries (see
	// [Status]), else 500.
	Status int
	// Message is shown to the caller. Empty means the message Err
	// carries, else the status text.
	Message string
	// Step names where the request failed, such as "guard" or "parse".
	// Empty means the step of an Error in Err's chain, else the step the
	// request is at ([Settings.Step]), else "handler".
	Step string
	// Ctx is shown to the caller in the envelope's "ctx" member.
	Ctx map[string]any
	// Err is the cause, for logs and errors.Is/As; never shown.
	Err error
	// Header holds headers the answer carries, such as the
	// WWW-Authenticate challenge of a 401. Headers Err carries are added
	// under names Header does not set.
	Header http.Header
}

// New returns an *Error with a status and a message for the caller.
func New(status int, message string) *Error {
	return &Error{Status: status, Message: message}
}

// Error returns the step, the status, the message and the cause, for logs.
func (e *Error) Error() string {
	a := resolve(e)
	var b strings.Builder
	b.WriteString(a.step)
	if a.step == "" {
		b.WriteString("handler")
	}
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(a.status))
	b.WriteString(" ")
	b.WriteString(a.message)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus returns the status e answers with.
func (e *Error) HTTPStatus() int { return resolve(e).status }

// PublicMessage returns the message e shows the caller.
func (e *Error) PublicMessage() string { return resolve(e).message }

// The methods an error implements to choose its HTTP answer. They are
// looked for in the error's chain, as errors.As does; any package can
// implement them without importing this one.
type (
	// StatusCarrier is implemented by errors that choose the HTTP status
	// of the answer, such as 401 for a token that does not validate or
	// 503 for a circuit that is open. Only a client or server error (400
	// to 599) is honoured: a failure never answers 1xx, 2xx or 3xx, so an
	// error that carries such a status chooses none. (An [*Error]'s Status
	// is the author's explicit choice and is taken from 100 to 999.)
	StatusCarrier interface{ HTTPStatus() int }
	// HeaderCarrier is implemented by errors whose answer carries headers,
	// such as WWW-Authenticate or Retry-After. Only the headers of the
	// error that chose the status are used.
	HeaderCarrier interface{ Header() http.Header }
	// MessageCarrier is implemented by errors with a message safe to show
	// any caller. Only the message of the error that chose the status is
	// used; without one the caller sees the status text.
	MessageCarrier interface{ PublicMessage() string }
)

// answer is what an error resolves to.
type answer struct {
	status  int
	message string
	step    string // "" when no Error in the chain names one
	ctx     map[string]any
	header  http.Header // nil when none
	carried bool        // an error in the chain chose the status
	decider error       // the error that chose it, or nil
}

// maxChain bounds the walk down an error's chain, against cycles.
const maxChain = 64

// resolve walks err's chain in the order errors.As does and settles the
// answer: the first *Error with a Status, or the first other error with an
// HTTPStatus, chooses the status, and its message and headers; *Errors met
// on the way supply what they set, the outermost first.
func resolve(err error) answer {
	var a answer
	stack := make([]error, 0, 4)
	stack = append(stack, err)
	for n := 0; len(stack) > 0 && n < maxChain; n++ {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		if he, ok := e.(*Error); ok {
			if a.step == "" {
				a.step = he.Step
			}
			if a.ctx == nil {
				a.ctx = he.Ctx
			}
			if a.message == "" {
				a.message = he.Message
			}
			a.header = addHeaders(a.header, he.Header)
			if he.Status >= 100 && he.Status <= 999 {
				a.status, a.carried, a.decider = he.Status, true, he
				break
			}
		} else if sc, ok := e.(StatusCarrier); ok {
			if s := sc.HTTPStatus(); s >= 400 && s <= 599 {
				a.status, a.carried, a.decider = s, true, e
				if a.message == "" {
					if mc, ok := e.(MessageCarrier); ok {
						a.message = mc.PublicMessage()
					}
				}
				if hc, ok := e.(HeaderCarrier); ok {
					a.header = addHeaders(a.header, hc.Header())
				}
				break
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			stack = append(stack, u.Unwrap())
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			for i := len(errs) - 1; i >= 0; i-- {
				stack = append(stack, errs[i])
			}
		}
	}
	if !a.carried {
		a.status = http.StatusInternalServerError
		if a.message == "" {
			a.message = "internal error"
		}
	}
	if a.message == "" {
		a.message = http.StatusText(a.status)
		if a.message == "" {
			a.message = "error"
		}
	}
	return a
}

// addHeaders adds to dst, a copy made on first use, the values of the
// names in src that dst does not have.
func addHeaders(dst, src http.Header) http.Header {
	for k, vs := range src {
		k = http.CanonicalHeaderKey(k)
		if _, ok := dst[k]; ok || len(vs) == 0 {
			continue
		}
		if dst == nil {
			dst = make(http.Header, len(src))
		}
		dst[k] = append([]string(nil), vs...)
	}
	return dst
}

// Answer is the HTTP answer an error calls for, as [Write] gives it.
type Answer struct {
	Status  int            // the status, 500 when no error in the chain chooses one
	Message string         // the message the caller sees
	Step    string         // the step an [*Error] in the chain names, or ""
	Ctx     map[string]any // the ctx an [*Error] in the chain gives, or nil
	Header  http.Header    // the headers the answer carries, or nil
}

// AnswerOf returns the answer err calls for, by the rules of [Write],
// without writing it: for a Lambda authorizer, a CLI or a writer of one's
// own.
func AnswerOf(err error) Answer {
	a := resolve(err)
	return Answer{Status: a.status, Message: a.message, Step: a.step, Ctx: a.ctx, Header: a.header}
}

// Status returns the HTTP status err answers with: that of the first error
// in its chain that chooses one (an [*Error] with a Status, or a
// [StatusCarrier]), else 500.
func Status(err error) int { return resolve(err).status }

// Decider returns the error of err's chain that chooses the answer, by the
// rules of [Write]: the first, in the order errors.As walks the chain, that
// is an [*Error] with a Status or has an HTTPStatus from 400 to 599; nil
// when none does. An error that wraps others and answers as one of them
// (funcify's httpclient and retry errors) finds it with Decider.
func Decider(err error) error { return resolve(err).decider }

// HasStatus reports whether an error in err's chain chooses the status:
// an [*Error] with a Status, or a [StatusCarrier].
func HasStatus(err error) bool { return resolve(err).carried }

// Settings are what [Write] needs from the code that serves the request:
// funcify's app puts its own in every request's context.
type Settings struct {
	// ProblemDetails answers with RFC 9457 problem details
	// (application/problem+json) instead of the envelope.
	ProblemDetails bool
	// Logger logs errors of status 500 and above; nil means slog.Default().
	Logger *slog.Logger
	// Step is the step the request is at, for errors that name none;
	// empty means "handler".
	Step string
}

type settingsKey struct{}

// NewContext returns a copy of ctx that carries s. s must not be changed
// afterwards: funcify's app shares one Settings among all its requests. To
// answer part of an API otherwise, put a changed copy of [FromContext]'s in
// the request's context.
func NewContext(ctx context.Context, s *Settings) context.Context {
	return context.WithValue(ctx, settingsKey{}, s)
}

// FromContext returns a copy of the settings in ctx, if any.
func FromContext(ctx context.Context) (Settings, bool) {
	s, ok := ctx.Value(settingsKey{}).(*Settings)
	if !ok || s == nil {
		return Settings{}, false
	}
	return *s, true
}

// Write answers the request with err in funcify's error envelope:
//
//	{"error": "<message>", "code": <status>, "step": "<where>", "ctx": {...}}
//
// or as RFC 9457 problem details when r's context says so ([Settings]).
// The answer comes from err's chain: the first [*Error] with a Status, or
// the first error with an HTTPStatus method ([StatusCarrier]), chooses the
// status, and its public message ([MessageCarrier]) and headers
// ([HeaderCarrier]) go with it; *Errors on the way supply their message,
// step, ctx and headers, the outermost first. An error that chooses no
// status answers 500 "internal error": its text stays in the log. Errors of
// status 500 and above are logged, with their cause, on the logger of r's
// [Settings] with r's context.
//
// Headers already set are kept, except Content-Length and
// Content-Encoding, which described the body the handler meant to send: a
// handler that set "Content-Encoding: gzip" for a pre-compressed body, then
// failed, answers with a plain envelope, whatever middleware wraps w. A
// compression middleware must therefore set Content-Encoding when it starts
// encoding (on WriteHeader or the first Write), not before the handler
// runs: chi's Compress, klauspost/compress's gzhttp and NYTimes'
// gziphandler all do.
//
// Write needs nothing from w but the http.ResponseWriter methods: it works
// behind any middleware's writer.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	WriteAt(w, r, err, "")
}

// WriteAt is [Write] with step as the step the request is at: it names
// where err happened unless an [*Error] in err's chain names its own step.
// Empty means the step of r's [Settings], else "handler". Middleware that
// refuses a request calls it with its own step, such as "authenticate".
func WriteAt(w http.ResponseWriter, r *http.Request, err error, step string) {
	var s *Settings
	if v, ok := r.Context().Value(settingsKey{}).(*Settings); ok && v != nil {
		s = v
	} else {
		s = &Settings{}
	}
	a := resolve(err)
	switch {
	case a.step != "":
		step = a.step
	case step != "":
	case s.Step != "":
		step = s.Step
	default:
		step = "handler"
	}
	h := w.Header()
	for k, vs := range a.header {
		h[k] = vs
	}
	if a.status >= 500 {
		log := s.Logger
		if log == nil {
			log = slog.Default()
		}
		msg := "<nil>"
		if err != nil {
			msg = err.Error()
		}
		log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("step", step), slog.Int("status", a.status), slog.String("error", msg))
	}
	envelope.Write(w, envelope.Answer{Status: a.status, Message: a.message, Step: step, Ctx: a.ctx}, s.ProblemDetails)
}
