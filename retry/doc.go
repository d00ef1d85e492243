// Package retry calls a function again when it fails, waiting between tries
// with exponential backoff and full jitter, and never waiting past the
// deadline of its context: in a Lambda function, the invocation's deadline.
//
//	quote, err := retry.Do(ctx, func(ctx context.Context) (Quote, error) {
//		return fetchQuote(ctx, symbol)
//	}, retry.WithMaxTries(3))
//	if err != nil {
//		var rerr *retry.Error
//		errors.As(err, &rerr)
//		slog.ErrorContext(ctx, "quote", "attempts", rerr.Attempts, "err", rerr.Err)
//	}
//
// # Tries and delays
//
// [Do] calls fn at most [DefaultMaxTries] times (pyfuncify's default: one
// try and one retry) unless [WithMaxTries] says otherwise. Before try k+1 it
// waits a uniformly random duration in [0, min(max, initial*2^(k-1))], with
// initial and max set by [WithBackoff] (100 ms and 5 s by default). The
// randomness, "full jitter", keeps the many instances of a function that hit
// the same failure from retrying in step.
//
// # Which errors are retried
//
// Every error is retried unless:
//   - it is, or wraps, an error marked with [Permanent];
//   - ctx is done, whether fn returned ctx's error or another one;
//   - the classifier set with [WithRetryIf] returns false for it.
//
// An error made with [RetryAfter] sets the next wait itself, such as the
// delay of an HTTP Retry-After header read with [ParseRetryAfter]. That
// delay is capped: one longer than [WithMaxRetryAfter] allows (a minute,
// [DefaultMaxRetryAfter]) ends the retries at once, with an error that
// matches [ErrRetryAfterTooLong], rather than trying again sooner than the
// server asked or letting it hold the call for hours.
//
// # Deadlines
//
// Waiting for a try that will be cut short by the deadline only burns the
// invocation's time. Before each wait Do estimates the next try as the
// slowest try so far, or the time set with [WithMinAttemptTime] if that is
// longer, and when the wait plus that estimate would reach ctx's deadline it
// gives up at once, without waiting, with an error that matches
// [ErrDeadline]. If ctx is cancelled during a wait, Do returns at once with
// an error that matches both ctx's error and fn's last error.
//
// # Errors
//
// When fn does not succeed, Do returns an [*Error] with the number of tries,
// fn's last error and, when Do rather than fn's error ended it, the reason.
// errors.Is and errors.As see fn's error through it.
//
// # HTTP answers
//
// A handler of funcify's app (or any server using package httperror) that
// returns Do's error answers its caller with what the error carries,
// looked for as errors.As does, fn's last error first, then Do's reason:
//   - an answer fn's error chooses itself (an HTTPStatus method), such as
//     httpclient's 502 for a downstream's bad answer or breaker's 503;
//   - an error made with [RetryAfter]: 503 "service unavailable" with a
//     Retry-After header of its delay, rounded up to whole seconds and
//     capped at [WithMaxRetryAfter] (a minute by default): a downstream's
//     Retry-After that Do would not wait for (a day, year 9999) does not
//     reach the caller either (a [RetryAfterError] returned without Do caps
//     it at an hour);
//   - [ErrDeadline] or [ErrRetryAfterTooLong]: 503 "service unavailable".
//     Do gave up early, on a failure it took for a passing one, so the
//     caller may try again later; 504 would say that a downstream did not
//     answer in time, which the last try need not show;
//   - anything else, such as a plain error of fn or ctx's: 500, its text
//     kept for the log.
//
// # Concurrency
//
// Do is safe for concurrent use, shares no state between calls and starts no
// goroutine; an [Option] may be reused by any number of calls. fn and the
// functions given to options must be safe for concurrent use if Do is called
// concurrently with them.
package retry
