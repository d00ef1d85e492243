package retry

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/funcify/funcify/httperror"
)

// ErrDeadline is the [Error.Reason] when Do gave up because the next wait
// and try would not fit before ctx's deadline. It answers funcify's HTTP
// caller 503 "service unavailable" (see "HTTP answers" in the package
// documentation).
var ErrDeadline error = &unavailable{msg: "retry: deadline too close for another attempt"}

// ErrRetryAfterTooLong is the [Error.Reason] when Do gave up because fn
// asked, with [RetryAfter], for a delay longer than [WithMaxRetryAfter]
// allows, and ctx's deadline, if any, would have left room for it (else the
// Reason is [ErrDeadline]). It answers funcify's HTTP caller 503 "service
// unavailable".
var ErrRetryAfterTooLong error = &unavailable{msg: "retry: delay asked for is over the maximum"}

// unavailable is the type of ErrDeadline and ErrRetryAfterTooLong: Do gave
// up on a failure that it took for a passing one, so the answer to
// funcify's HTTP caller is 503.
type unavailable struct{ msg string }

func (u *unavailable) Error() string { return u.msg }

// HTTPStatus returns 503, the status of funcify's HTTP answer.
func (u *unavailable) HTTPStatus() int { return http.StatusServiceUnavailable }

// PublicMessage returns "service unavailable".
func (u *unavailable) PublicMessage() string { return "service unavailable" }

// Error is the error [Do] returns when fn did not succeed. errors.Is and
// errors.As see both Err and Reason through it.
type Error struct {
	// Attempts is how many times fn was called.
	Attempts int
	// Err is the last error fn returned. A [Permanent] wrapper around the
	// whole error is removed; one deeper in a chain is left in place.
	Err error
	// Reason is why Do gave up before fn's error said so: [ErrDeadline],
	// [ErrRetryAfterTooLong], or ctx's error when ctx was done after a try
	// or during a wait. It is nil
	// when fn's error was permanent or not retryable, or the tries ran out.
	Reason error

	// maxRetryAfter is the WithMaxRetryAfter cap of the Do that returned
	// e, which bounds the Retry-After of e's answer; capped says Do set it.
	maxRetryAfter time.Duration
	capped        bool
	ra            *RetryAfterError // the error deciding e's answer, if it is one: settled by Do, once
}

// Error returns, for instance,
// "retry: after 2 attempts, deadline too close for another attempt: <Err>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("retry: after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	if e.Reason != nil {
		b.WriteString(", ")
		b.WriteString(strings.TrimPrefix(e.Reason.Error(), "retry: "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Err and, if set, Reason.
func (e *Error) Unwrap() []error {
	switch {
	case e.Reason == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Reason}
	}
	return []error{e.Err, e.Reason}
}

// HTTPStatus returns 503 when the answer e calls for is that of a
// [*RetryAfterError] in e's chain (fn asked for a delay), so that e gives
// that answer with its Retry-After capped (see [Error.Header]); else 0,
// which chooses nothing and leaves the answer to the errors in e's chain.
func (e *Error) HTTPStatus() int {
	if e.retryAfter() == nil {
		return 0
	}
	return http.StatusServiceUnavailable
}

// PublicMessage returns "service unavailable" when [Error.HTTPStatus] is
// 503, else "".
func (e *Error) PublicMessage() string {
	if e.retryAfter() == nil {
		return ""
	}
	return "service unavailable"
}

// Header returns, when [Error.HTTPStatus] is 503, the Retry-After of the
// delay fn asked for, capped at the [WithMaxRetryAfter] of the Do that
// returned e ([DefaultMaxRetryAfter] unless set): a downstream that asks
// for hours, or years, does not get funcify's callers to stay away longer
// than Do itself would have waited. A cap of 0 gives no Retry-After.
func (e *Error) Header() http.Header {
	ra := e.retryAfter()
	if ra == nil {
		return nil
	}
	return (&RetryAfterError{Delay: min(ra.Delay, e.maxRetryAfter)}).Header()
}

// retryAfter returns the *RetryAfterError whose answer e calls for: the
// error of e's chain that decides its HTTP answer (httperror.Decider), if
// it is a *RetryAfterError. It returns nil when e was not returned by Do.
func (e *Error) retryAfter() *RetryAfterError {
	if !e.capped {
		return nil
	}
	return e.ra
}

// settle records, when Do returns e, the error that decides e's answer:
// once, so that answering errors nested in one another costs one walk each,
// not one per question asked of every level.
func (e *Error) settle(maxRetryAfter time.Duration) {
	e.maxRetryAfter, e.capped = maxRetryAfter, true
	e.ra, _ = httperror.Decider(errors.Join(e.Err, e.Reason)).(*RetryAfterError)
}

// Permanent marks err as not worth retrying: when fn returns it, or an
// error wrapping it, Do stops at once. Its message is err's, and errors.Is
// and errors.As see err through it. Permanent(nil) is nil, and marking an
// error twice changes nothing.
//
// Do removes the mark when it is the outermost wrapper of fn's error, so
// [Error.Err] is err itself, as in cenkalti/backoff.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*permanentError); ok {
		return err
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// RetryAfter returns err with the delay that the other side asked for, such
// as an HTTP Retry-After header parsed with [ParseRetryAfter]. When fn
// returns it, or an error wrapping it, Do waits for d instead of its own
// backoff, even beyond the backoff's maximum, unless the wait would not
// leave time for another try before ctx's deadline (then Do gives up at
// once with [ErrDeadline]) or d is longer than [WithMaxRetryAfter] allows
// (then Do gives up at once with [ErrRetryAfterTooLong]): the other side
// cannot hold a call for longer than that. A negative d counts as 0.
//
// RetryAfter does not make err retryable: the classifier set with
// [WithRetryIf] still decides. RetryAfter(d, nil) is nil.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &RetryAfterError{Delay: d, Err: err}
}

// RetryAfterError is an error with the delay that should pass before the
// next try. Its message is Err's. Use [RetryAfter] to make one.
//
// It answers funcify's HTTP caller 503 "service unavailable" with a
// Retry-After header of Delay in seconds, rounded up (none when Delay is not
// positive), whatever Err would answer: the other side said when to come
// back, and the caller is told so too. That header is capped: at the
// [WithMaxRetryAfter] of the Do that returned it inside an [*Error] (a
// minute by default), and at an hour in any case, so that a downstream's
// hostile or broken Retry-After (a day, year 9999) does not reach the
// caller as it is.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

// HTTPStatus returns 503, the status of funcify's HTTP answer.
func (e *RetryAfterError) HTTPStatus() int { return http.StatusServiceUnavailable }

// PublicMessage returns "service unavailable".
func (e *RetryAfterError) PublicMessage() string { return "service unavailable" }

// maxAnswerDelay is the longest Retry-After a RetryAfterError's answer
// carries on its own, whatever Delay says.
const maxAnswerDelay = time.Hour

// Header returns Retry-After with Delay in seconds, rounded up and at most
// 3600 (an hour), or nil when Delay is not positive. Returned by Do inside an
// [*Error], the answer's Retry-After is capped lower, at Do's
// [WithMaxRetryAfter] (see [Error.Header]).
func (e *RetryAfterError) Header() http.Header {
	if e.Delay <= 0 {
		return nil
	}
	d := min(e.Delay, maxAnswerDelay)
	secs := d / time.Second
	if d%time.Second != 0 {
		secs++
	}
	return http.Header{"Retry-After": {strconv.FormatInt(int64(secs), 10)}}
}

func (e *RetryAfterError) Error() string {
	if e.Err == nil {
		return "retry: retry after " + e.Delay.String()
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *RetryAfterError) Unwrap() error { return e.Err }
