// Package flight collapses concurrent calls for one key into one: the
// single-flight that every cache and refresher in funcify shares, with one
// rule for cancellation.
//
// # The rule
//
// The first caller of a key (the leader) runs fn with its own context; the
// callers that arrive while fn runs (the waiters) wait for its outcome, each
// until its own context ends. Then:
//
//   - fn returned (success or failure) while the leader's context was live:
//     every waiter gets the same value and error.
//   - fn failed after the leader's context ended (its deadline passed or it
//     was cancelled mid-call): the outcome is the leader's alone. A waiter
//     whose context is still live takes over: one of them runs fn again with
//     its own context, and the others wait for that run. Another caller's
//     cancellation is never handed to a live caller.
//   - fn failed with an error marked by [LeadersOwn] (its failure came from
//     the leader's circumstances, such as a deadline too close for another
//     try, not from the state of what it fetched): as if the leader's
//     context had ended. The leader gets the error without the mark.
//   - a waiter's context ends: that waiter returns its context's cause at
//     once; the leader and the other waiters carry on.
//   - fn panics: the leader re-panics with the same value, after releasing
//     the key; the waiters get an error wrapping [ErrPanicked]. The panic is
//     a bug, not a state of the downstream, so waiters do not run fn again.
//
// A Group is safe for concurrent use. Its zero value is ready to use.
package flight

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrPanicked is wrapped by the error that waiters get when the leader's fn
// panicked.
var ErrPanicked = errors.New("flight: the shared call panicked")

// LeadersOwn marks err as the leader's own failure, which waiters with a
// live context must not inherit: they run fn again. Use it for a failure
// that the leader's own deadline caused before its context ended, such as
// a retry loop that gave up because the next try would not fit. It returns
// nil for a nil err.
func LeadersOwn(err error) error {
	if err == nil {
		return nil
	}
	return &ownError{err}
}

// ownError carries a LeadersOwn mark until lead takes it off.
type ownError struct{ err error }

func (e *ownError) Error() string { return e.err.Error() }
func (e *ownError) Unwrap() error { return e.err }

// Group runs at most one fn per key at a time and shares its outcome. The
// zero Group is ready to use.
type Group[V any] struct {
	mu    sync.Mutex // guards calls
	calls map[string]*call[V]
}

// call is one run of fn. v, err and abandoned are written before done is
// closed and only read after.
type call[V any] struct {
	done      chan struct{}
	v         V
	err       error
	abandoned bool // the leader's ctx ended before fn succeeded: waiters retry
	waiters   int  // callers that joined this run, guarded by Group.mu
}

// Do runs fn for key, or waits for the run of key under way, and returns
// its outcome under the rule of the package doc. shared reports whether the
// outcome came from another caller's run.
func (g *Group[V]) Do(ctx context.Context, key string, fn func(context.Context) (V, error)) (v V, shared bool, err error) {
	for {
		g.mu.Lock()
		if g.calls == nil {
			g.calls = map[string]*call[V]{}
		}
		c, ok := g.calls[key]
		if !ok {
			c = &call[V]{done: make(chan struct{})}
			g.calls[key] = c
			g.mu.Unlock()
			g.lead(ctx, key, c, fn)
			return c.v, false, c.err
		}
		c.waiters++
		g.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero V
			return zero, false, context.Cause(ctx)
		}
		if c.abandoned {
			if ctx.Err() != nil {
				// Never hand the leader's cancellation to a waiter:
				// this one ended too, by its own context.
				var zero V
				return zero, false, context.Cause(ctx)
			}
			continue
		}
		return c.v, true, c.err
	}
}

// lead runs fn for c and publishes its outcome, even when fn panics.
func (g *Group[V]) lead(ctx context.Context, key string, c *call[V], fn func(context.Context) (V, error)) {
	returned := false
	defer func() {
		if !returned {
			c.err = fmt.Errorf("%w (key %q)", ErrPanicked, key)
		}
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.v, c.err = fn(ctx)
	c.abandoned = c.err != nil && ctx.Err() != nil
	if own, ok := c.err.(*ownError); ok {
		c.err, c.abandoned = own.err, true
	}
	returned = true
}

// Waiting returns how many callers have joined the run of key under way as
// waiters, including any that gave up since (0 if none runs). Tests use it
// to know that a waiter has joined a run.
func (g *Group[V]) Waiting(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c.waiters
	}
	return 0
}

// Running reports whether a run of key is under way.
func (g *Group[V]) Running(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.calls[key]
	return ok
}
