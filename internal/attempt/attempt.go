// Package attempt sets the time bound of one try of an outbound call inside
// the caller's deadline, and whether a call's error is its caller's doing:
// the rules that httpclient, jwtauth, token and breaker share.
//
// A try needs a bound of its own, shorter than the caller's deadline, so that
// a downstream that hangs ends the try while the caller still has time: the
// try's own timeout then counts as the downstream's failure in a breaker,
// while the caller's ended context never does. But a try cut off very soon
// tells of the caller's lack of time more than of the downstream, so below
// [Floor] the try gets no bound of its own, and its end does not count.
package attempt

import (
	"context"
	"errors"
	"time"
)

// Floor is the least bound [Bound] gives a try.
const Floor = time.Second

// Bound returns the timeout of a try that starts at now under ctx, at most
// limit:
//   - limit when ctx has no deadline;
//   - 3/4 of the time left when that is less than limit (the caller keeps a
//     quarter to answer), but never less than Floor;
//   - 0, meaning no bound of the try's own, when Floor or less is left: the
//     caller's deadline ends the try, and that is not the downstream's fault.
func Bound(ctx context.Context, now time.Time, limit time.Duration) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return limit
	}
	left := deadline.Sub(now)
	if left <= Floor {
		return 0
	}
	return min(limit, max(left/4*3, Floor))
}

// Ended reports whether ctx has ended by now: it is done, or its deadline
// has passed. A client that sets a socket deadline from ctx's (go-redis
// with ContextTimeoutEnabled) fails with an i/o timeout at that deadline,
// often before ctx's own timer has marked it done: that failure is still
// the caller's deadline, not the server's.
func Ended(ctx context.Context, now time.Time) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && !now.Before(deadline)
}

// EndedByCaller reports whether err is the end of a call that ctx, the
// caller's context, cut off: ctx is done and err is its error or its cause
// (net/http returns [context.Cause] for a context cancelled with one). Such
// an error says nothing of the downstream: a breaker does not count it, and
// a log does not call it the downstream's failure.
func EndedByCaller(ctx context.Context, err error) bool {
	cerr := ctx.Err()
	if err == nil || cerr == nil {
		return false
	}
	return errors.Is(err, cerr) || errors.Is(err, context.Cause(ctx))
}

// Pause waits d, unless ctx ends first or its deadline is less than d
// away, and reports whether it waited d whole: a wait between tries that
// would outlast the caller is not begun.
func Pause(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
