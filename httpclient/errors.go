package httpclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/funcify/funcify/httperror"
)

// HTTPError is an answer other than 2xx to [GetJSON], [PostJSON] or
// [PostForm].
//
// Its DownstreamStatus is the downstream's status (breaker.DownstreamError),
// so a breaker counts 5xx answers and not 4xx. A handler that returns it
// answers its own caller 502 "upstream error" (HTTPStatus and
// PublicMessage, read by package httperror), never the downstream's status,
// body or URL: a downstream's 401 or 404 is not the caller's.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// Method and URL name the request; URL has no query string.
	Method, URL string
	// Body is the start of the answer's body, at most 1 KiB, for logs.
	Body string
}

func (e *HTTPError) Error() string {
	return "httpclient: " + e.Method + " " + e.URL + ": " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
}

// DownstreamStatus returns Status, the downstream's status.
func (e *HTTPError) DownstreamStatus() int { return e.Status }

// HTTPStatus returns 502, the status of funcify's answer to its own caller.
func (e *HTTPError) HTTPStatus() int { return http.StatusBadGateway }

// PublicMessage returns "upstream error".
func (e *HTTPError) PublicMessage() string { return "upstream error" }

// upstreamError is a call that got no usable answer from its downstream:
// the error of [Transport.RoundTrip], and of the helpers when the request
// failed or its answer could not be read or decoded. Its message and chain
// are err's, unchanged.
//
// It chooses the answer of a handler that returns it: the one an error in
// err's chain chooses, if any (an open circuit's 503 with Retry-After, retry
// giving up at the deadline, 503), else 504 "upstream timeout" for a timeout
// (the try's AttemptTimeout, the caller's deadline, a net.Error's), else 502
// "upstream error". Never err's text, which names the URL.
type upstreamError struct{ err error }

func (e *upstreamError) Error() string { return e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }

// answerer is an error that chooses its HTTP answer (see package httperror).
type answerer interface{ HTTPStatus() int }

// inner returns the error of e's chain that decides the answer, by the
// rules of package httperror (httperror.Decider), or nil: one whose status
// is not a client or server error (0 for none known, a 3xx) chooses
// nothing, and the answer's message and headers come from the error found.
func (e *upstreamError) inner() answerer {
	a, _ := httperror.Decider(e.err).(answerer)
	return a
}

// HTTPStatus returns the status of funcify's answer to its own caller.
func (e *upstreamError) HTTPStatus() int {
	if e.inner() != nil {
		return httperror.AnswerOf(e.err).Status
	}
	if timeout(e.err) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// PublicMessage returns the message of that answer.
func (e *upstreamError) PublicMessage() string {
	if e.inner() != nil {
		return httperror.AnswerOf(e.err).Message
	}
	if timeout(e.err) {
		return "upstream timeout"
	}
	return "upstream error"
}

// Header returns the headers of that answer, such as an open circuit's
// Retry-After, those an httperror.Error in the chain sets included.
func (e *upstreamError) Header() http.Header {
	if e.inner() != nil {
		return httperror.AnswerOf(e.err).Header
	}
	return nil
}

// timeout reports whether err is a call that ran out of time.
func timeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// upstream marks err, the failure of a call to a downstream, so that it
// answers as one (see upstreamError).
func upstream(err error) error {
	return &upstreamError{err: err}
}
