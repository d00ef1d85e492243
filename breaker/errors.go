package breaker

import (
	"net/http"
	"strconv"
	"time"
)

// The errors of a call that the breaker rejects, without calling it, answer
// funcify's HTTP caller (see package httperror) 503 "service unavailable":
// the downstream is resting, and the caller may try again later. They
// implement HTTPStatus, PublicMessage and, for an [*OpenError] that knows
// when its circuit lets a trial through, Header with Retry-After. Their
// text, which names no downstream, is for logs.
var (
	// ErrOpen rejects a call while the circuit is open. Execute and Do
	// return it inside an [*OpenError], which tells how long the
	// stand-down has left: test with errors.Is(err, ErrOpen).
	ErrOpen error = &rejection{msg: "breaker: circuit open"}
	// ErrTrialLimit rejects a call while the circuit is half-open and all
	// its trial slots are taken. It matches ErrOpen.
	ErrTrialLimit error = &rejection{msg: "breaker: circuit open: trial calls in flight", parent: ErrOpen}
)

// rejection is the type of ErrOpen and ErrTrialLimit.
type rejection struct {
	msg    string
	parent error // ErrOpen for ErrTrialLimit, so that it matches ErrOpen
}

func (r *rejection) Error() string { return r.msg }

// Unwrap returns ErrOpen for ErrTrialLimit, and nil for ErrOpen.
func (r *rejection) Unwrap() error { return r.parent }

// HTTPStatus returns 503, the status of funcify's HTTP answer.
func (r *rejection) HTTPStatus() int { return http.StatusServiceUnavailable }

// PublicMessage returns "service unavailable".
func (r *rejection) PublicMessage() string { return "service unavailable" }

// OpenError is the error of a call rejected because its circuit is open and
// its stand-down (Settings.OpenFor) not over. It matches [ErrOpen] with
// errors.Is, and its message is ErrOpen's. It answers funcify's HTTP caller
// 503 "service unavailable" with a Retry-After header of the stand-down's
// seconds left, rounded up.
//
// A call rejected by a half-open circuit whose trial slots are taken gets
// [ErrTrialLimit] itself: a trial may end at any moment, so no wait is
// known.
type OpenError struct {
	// RetryAfter is what is left of the stand-down, as this breaker knows
	// it: after it, the next call is a trial. With a Store, it is reckoned
	// from the circuit this breaker read, at most Staleness old, and this
	// breaker's OpenFor. It is never more than OpenFor: a circuit opened,
	// by the clock of the instance that opened it, after this breaker's
	// now stands down from when this breaker first saw it.
	RetryAfter time.Duration
}

func (e *OpenError) Error() string { return ErrOpen.Error() }

// Unwrap returns ErrOpen.
func (e *OpenError) Unwrap() error { return ErrOpen }

// HTTPStatus returns 503, the status of funcify's HTTP answer.
func (e *OpenError) HTTPStatus() int { return http.StatusServiceUnavailable }

// PublicMessage returns "service unavailable".
func (e *OpenError) PublicMessage() string { return "service unavailable" }

// Header returns Retry-After with RetryAfter in seconds, rounded up, or nil
// when RetryAfter is not positive.
func (e *OpenError) Header() http.Header {
	if e.RetryAfter <= 0 {
		return nil
	}
	secs := e.RetryAfter / time.Second
	if e.RetryAfter%time.Second != 0 {
		secs++
	}
	return http.Header{"Retry-After": {strconv.FormatInt(int64(secs), 10)}}
}
