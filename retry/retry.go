package retry

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"time"
)

// Defaults used when the matching option is not given.
const (
	// DefaultMaxTries is how many times Do calls fn at most: pyfuncify's
	// default of one try and one retry.
	DefaultMaxTries = 2
	// DefaultInitialDelay caps the random delay before the second try.
	DefaultInitialDelay = 100 * time.Millisecond
	// DefaultMaxDelay caps the random delay before any try.
	DefaultMaxDelay = 5 * time.Second
	// DefaultMaxRetryAfter is the longest delay asked for with [RetryAfter]
	// (a server's Retry-After) that Do waits: a longer one ends the retries.
	// A minute covers the usual throttles while keeping a server from
	// holding a call, or an instance, for hours.
	DefaultMaxRetryAfter = time.Minute
)

// An Option changes how [Do] retries. Options hold no state of their own,
// so one Option value may be shared by concurrent calls.
type Option func(config) config

// WithMaxTries sets how many times Do calls fn at most, the first call
// included. n < 1 means 1: a single try and no retry. The default is
// [DefaultMaxTries].
func WithMaxTries(n int) Option {
	return func(c config) config { c.maxTries = max(n, 1); return c }
}

// WithBackoff sets the exponential backoff: the delay before try k+1 is a
// uniformly random duration in [0, min(maxDelay, initial*2^(k-1))] ("full
// jitter"). A negative initial counts as 0, which retries without waiting
// (handy in a caller's tests), and maxDelay is raised to initial if it is
// smaller. The defaults are [DefaultInitialDelay] and [DefaultMaxDelay].
func WithBackoff(initial, maxDelay time.Duration) Option {
	return func(c config) config {
		c.initial = max(initial, 0)
		c.max = max(maxDelay, c.initial)
		return c
	}
}

// WithMaxRetryAfter sets the longest delay asked for with [RetryAfter] that
// Do waits before the next try. When fn asks for a longer one, Do does not
// try again sooner than asked, nor wait that long: it gives up at once with
// an error that matches [ErrRetryAfterTooLong], or [ErrDeadline] when the
// delay would not fit before ctx's deadline either (see [Do]). The default is
// [DefaultMaxRetryAfter]; a negative d counts as 0, which still honours a
// delay of 0.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(c config) config { c.maxRetryAfter = max(d, 0); return c }
}

// WithRetryIf sets the classifier that decides whether a failed try is
// worth another one. Do consults it only for an error that is not
// [Permanent], while ctx is not done and tries remain; so the classifier
// need not check for those. The default, a nil f, retries every such error.
//
// An HTTP client would typically retry 5xx responses, 429 and network
// errors, and not other 4xx responses.
func WithRetryIf(f func(err error) bool) Option {
	return func(c config) config { c.retryIf = f; return c }
}

// WithOnRetry sets a function that Do calls before it waits to try again,
// for logging: attempt is the number of the try that failed (1 for the
// first), err its error and delay the wait that follows. It is not called
// when Do gives up.
func WithOnRetry(f func(attempt int, err error, delay time.Duration)) Option {
	return func(c config) config { c.onRetry = f; return c }
}

// WithMinAttemptTime sets the least time Do expects a try to take when it
// decides whether another one fits before ctx's deadline. Do also uses the
// duration of the slowest try so far, whichever is longer. The default is
// 0: only what the tries took is counted. A negative d counts as 0.
func WithMinAttemptTime(d time.Duration) Option {
	return func(c config) config { c.minAttempt = max(d, 0); return c }
}

// clock is the time source of Do. Tests replace the real one with a fake
// through withClock, so that no test sleeps.
type clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// withClock makes Do read the time from c and wait on c.After.
func withClock(c clock) Option {
	return func(cfg config) config { cfg.clock = c; return cfg }
}

// withRand makes Do draw its jitter from f, which returns a number in
// [0, 1]: the delay is f() times the current cap, so f returning 1 gives the
// cap itself.
func withRand(f func() float64) Option {
	return func(c config) config { c.rand = f; return c }
}

// config is passed to and returned from an Option by value, so that Do's
// copy stays on the stack.
type config struct {
	maxTries      int
	initial       time.Duration
	max           time.Duration
	minAttempt    time.Duration
	maxRetryAfter time.Duration // the longest RetryAfter delay Do waits
	retryIf       func(error) bool
	onRetry       func(attempt int, err error, delay time.Duration)
	clock         clock          // nil: the real clock
	rand          func() float64 // nil: math/rand/v2
}

// Do calls fn until it succeeds, returns a [Permanent] error, the classifier
// set with [WithRetryIf] rejects its error, the tries run out, or another
// try would not fit before ctx's deadline. It returns fn's value on success.
//
// Between tries Do waits with exponential backoff and full jitter (see
// [WithBackoff]), or for the delay that fn asked for with [RetryAfter]. It
// never waits past ctx's deadline: when the wait plus the expected duration
// of the next try (the slowest try so far, or [WithMinAttemptTime] if
// longer) would end at or after the deadline, it gives up at once with
// [ErrDeadline]. Nor does it wait longer than [WithMaxRetryAfter] allows
// ([DefaultMaxRetryAfter]) for a delay fn asked for: it gives up at once
// with [ErrRetryAfterTooLong]. The deadline is checked first, so a delay
// over the cap that would not fit before ctx's deadline either gives
// [ErrDeadline]: [ErrRetryAfterTooLong] tells of a delay that the deadline
// left room for, or of a ctx without one. Either way Do gives up without
// waiting. When ctx is done, after a try or during a wait, it gives up at
// once with ctx's error.
//
// Every error Do returns is an [*Error] holding the number of tries and the
// last error of fn, with the zero T; errors.Is and errors.As see the last
// error through it.
//
// Do starts no goroutine, is safe for concurrent use, and with no options
// and a first try that succeeds, allocates nothing.
func Do[T any](ctx context.Context, fn func(ctx context.Context) (T, error), opts ...Option) (T, error) {
	c := config{maxTries: DefaultMaxTries, initial: DefaultInitialDelay, max: DefaultMaxDelay, maxRetryAfter: DefaultMaxRetryAfter}
	for _, o := range opts {
		if o != nil {
			c = o(c)
		}
	}
	deadline, hasDeadline := ctx.Deadline()
	var slowest, remaining time.Duration
	for attempt := 1; ; attempt++ {
		var start time.Time
		if hasDeadline {
			start = c.now()
		}
		v, err := fn(ctx)
		if err == nil {
			return v, nil
		}
		if hasDeadline {
			now := c.now()
			slowest = max(slowest, now.Sub(start))
			remaining = deadline.Sub(now)
		}
		if stop := c.pause(ctx, attempt, err, hasDeadline, remaining, slowest); stop != nil {
			stop.settle(c.maxRetryAfter)
			var zero T
			return zero, stop
		}
	}
}

// pause decides whether to try again after the failed try number attempt
// and, if so, waits. It returns nil to try again, or else the *Error for Do
// to return. remaining is the time left before ctx's deadline, if it has
// one, and slowest the duration of the slowest try so far.
func (c *config) pause(ctx context.Context, attempt int, err error, hasDeadline bool, remaining, slowest time.Duration) *Error {
	if p, ok := errors.AsType[*permanentError](err); ok {
		if err == error(p) {
			err = p.err
		}
		return &Error{Attempts: attempt, Err: err}
	}
	if cerr := ctx.Err(); cerr != nil {
		return &Error{Attempts: attempt, Err: err, Reason: cerr}
	}
	if attempt >= c.maxTries || (c.retryIf != nil && !c.retryIf(err)) {
		return &Error{Attempts: attempt, Err: err}
	}
	delay, asked := c.delay(attempt, err)
	if hasDeadline {
		next := max(slowest, c.minAttempt)
		if delay >= remaining || next >= remaining-delay {
			return &Error{Attempts: attempt, Err: err, Reason: ErrDeadline}
		}
	}
	if asked && delay > c.maxRetryAfter {
		return &Error{Attempts: attempt, Err: err, Reason: ErrRetryAfterTooLong}
	}
	if c.onRetry != nil {
		c.onRetry(attempt, err, delay)
	}
	if cerr := c.wait(ctx, delay); cerr != nil {
		return &Error{Attempts: attempt, Err: err, Reason: cerr}
	}
	return nil
}

// delay returns the wait after the failed try number attempt: the one that
// err asks for, with asked true, or else a random one below the backoff's
// cap.
func (c *config) delay(attempt int, err error) (d time.Duration, asked bool) {
	if ra, ok := errors.AsType[*RetryAfterError](err); ok {
		return max(ra.Delay, 0), true
	}
	return c.jitter(c.ceiling(attempt)), false
}

// ceiling returns min(c.max, c.initial*2^(attempt-1)) without overflow.
func (c *config) ceiling(attempt int) time.Duration {
	d := c.initial
	for i := 1; i < attempt && d > 0; i++ {
		if d > c.max/2 {
			return c.max
		}
		d *= 2
	}
	return min(d, c.max)
}

// jitter returns a uniformly random duration in [0, ceiling].
func (c *config) jitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	if c.rand != nil {
		f := min(max(c.rand(), 0), 1)
		return time.Duration(f * float64(ceiling))
	}
	if ceiling == math.MaxInt64 {
		return time.Duration(rand.Int64())
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func (c *config) now() time.Time {
	if c.clock != nil {
		return c.clock.Now()
	}
	return time.Now()
}

// wait waits for d or until ctx is done, and returns ctx's error if it is.
func (c *config) wait(ctx context.Context, d time.Duration) error {
	if d > 0 {
		if c.clock != nil {
			select {
			case <-ctx.Done():
			case <-c.clock.After(d):
			}
		} else {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
	return ctx.Err()
}
