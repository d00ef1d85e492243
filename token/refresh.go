package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/internal/flight"
	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/retry"
)

const (
	// failureBackoff is how long a Source that serves a valid token after a
	// failed refresh waits before it tries again, unless Retry-After says
	// longer.
	failureBackoff = 5 * time.Second
	// cutOffBackoff is how long a Source serving a valid token waits
	// before it tries again after a refresh cut off by its budget or by
	// the caller's context: not an outage, but a provider that hangs would
	// otherwise take the budget of every call.
	cutOffBackoff = 2 * time.Second
	// slowAfter is how many refreshes cut off by their budget in a row
	// make the Source log, once, that the provider or the store is slow.
	slowAfter = 3
)

// budgets bound a refresh while the current token is still valid (and so
// does half the time left before the caller's deadline, if less): the
// caller is served that token whatever happens, so a provider or store
// that hangs must not take its time. The first refresh gets the first
// budget; each refresh cut off by its budget gives the next one the next
// budget, up to the last; a new token starts again from the first. So a
// provider that answers in 4 s, slow but within grantTimeout, is not cut
// off for ever while the token is valid. The token request is bounded
// inside the budget (see Source.attempt): it ends on its own timeout, which
// the breaker counts, a little before the budget's end, less StoreTimeout
// with a Store (the writes that follow), so that a provider that hangs
// opens the breaker even while a valid token is served; when that would
// leave the request less than internal/attempt.Floor (a budget under about
// 1.1 s, 2.1 s with a Store by default: a caller with less than about 2.2
// or 4.2 s left), the budget alone cuts it off, which the breaker does not
// count, as it does not count a request that its caller's own near
// deadline ends.
var budgets = [...]time.Duration{3 * time.Second, 6 * time.Second, 12 * time.Second}

// slow refreshes the token, or serves the current one while another caller
// refreshes it, or waits for that caller's refresh. The refresh is shared
// under the rule of package internal/flight: a caller whose context ends
// stops waiting at once, and when the refreshing caller's context ends, or
// its refresh failed for lack of time before its deadline, a waiting caller
// whose context is live refreshes in its place.
func (s *Source) slow(ctx context.Context) (*Token, error) {
	e := s.cur.Load()
	now := s.cfg.now()
	if e != nil && now.Before(e.refreshAt) {
		return e.tok, nil
	}
	if e != nil && now.Before(e.validUntil) && s.refreshes.Running(s.key) {
		return e.tok, nil // a refresh is under way; this one still serves
	}
	tok, _, err := s.refreshes.Do(ctx, s.key, s.lead)
	switch {
	case err == nil:
		return tok, nil
	case attempt.EndedByCaller(ctx, err):
		return nil, fmt.Errorf("token: wait for the token: %w", err)
	case errors.Is(err, flight.ErrPanicked):
		return nil, fmt.Errorf("token: refresh: %w", err)
	}
	return nil, err
}

// lead is the refresh that one caller makes for all (see slow), with its
// own ctx. While the token in memory is valid, the refresh runs within its
// budget; without one, for as long as ctx lets it, and a failure that
// came of ctx's near deadline is left to a waiting caller with more time
// (flight.LeadersOwn).
func (s *Source) lead(ctx context.Context) (*Token, error) {
	// A refresh that ended since the caller's checks in slow may have
	// left a token that is not due.
	e := s.cur.Load()
	now := s.cfg.now()
	if e != nil && now.Before(e.refreshAt) {
		return e.tok, nil
	}
	if e != nil && now.Before(e.validUntil) {
		// The caller is served e whatever happens: the refresh may take
		// only part of its time. The budget cancels bctx rather than
		// give it a deadline, so that a request it cuts off is the
		// caller's doing, which the breaker does not count; a token
		// request gets a bound of its own inside the budget when there
		// is room (see attempt), so that a hang is counted.
		b := s.budget(ctx)
		bctx, cancel := context.WithCancelCause(ctx)
		t := time.AfterFunc(b, func() { cancel(errBudget) })
		defer func() {
			t.Stop()
			cancel(nil)
		}()
		return s.refresh(bctx, run{from: e, end: time.Now().Add(b)})
	}
	tok, err := s.refresh(ctx, run{from: e})
	if err != nil && ctx.Err() == nil && leadersOwn(err) {
		err = flight.LeadersOwn(err)
	}
	return tok, err
}

// errBudget is the cause of a refresh cut off by its budget.
var errBudget = errors.New("token: the refresh took longer than its budget while a valid token is served")

// budget returns how long a refresh made now while a valid token is
// served may take: the budget the refreshes cut off in a row have come
// to, and at most half the time left before ctx's deadline.
func (s *Source) budget(ctx context.Context) time.Duration {
	s.mu.Lock()
	d := budgets[min(s.cutOffs, len(budgets)-1)]
	s.mu.Unlock()
	if deadline, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(deadline)/2)
	}
	return d
}

// run is what a refresh knows of how it began.
type run struct {
	from *entry    // the token in memory when it began; nil: none
	end  time.Time // the end of its budget; zero: no budget
}

// budgetSlack is how long before what is left of its budget for it a
// token request bounded by the budget ends, so that its own timeout comes
// first whatever the order in which the two timers fire.
const budgetSlack = 100 * time.Millisecond

// requestEnd returns when a token request of r must end on its own bound:
// margin (the store writes that follow the grant) and budgetSlack before
// the end of r's budget; zero if r has none.
func (r run) requestEnd(margin time.Duration) time.Time {
	if r.end.IsZero() {
		return time.Time{}
	}
	return r.end.Add(-margin - budgetSlack)
}

// leadersOwn reports whether err, the failure of a refresh whose ctx is
// live, came from that ctx's near deadline rather than from the provider:
// the token request ran out of the share of the time left that attempt
// gave it, or the HTTP client's retries stopped because the next would not
// fit (retry.ErrDeadline, as httpclient.Transport returns). A caller with
// more time may succeed.
func leadersOwn(err error) bool {
	var short *shortAttempt
	return errors.As(err, &short) || errors.Is(err, retry.ErrDeadline)
}

// refresh gets a token newer than r.from: from the store, or from the
// provider.
func (s *Source) refresh(ctx context.Context, r run) (*Token, error) {
	if s.cfg.Store != nil && s.storeUsable() {
		if tok, done, err := s.shared(ctx, r); done {
			return tok, err
		}
	}
	if err := s.heldBack(ctx, s.cfg.now()); err != nil {
		return s.failed(ctx, r, r.from, err)
	}
	g, err := s.fetch(ctx, 0, r.requestEnd(0))
	if err != nil {
		return s.failed(ctx, r, r.from, err)
	}
	return s.adopt(g).tok, nil
}

// failed handles a failed refresh r: e is served if still valid, else
// err is returned. A refresh cut off by ctx (the caller's, or the budget)
// is not the provider's failure: it is not logged as one, and e, if valid,
// is served again for cutOffBackoff before the next try; a cut-off by the
// budget lengthens the next budget, and the slowAfter-th in a row is
// logged once. So is a token request that ran out of its bound within the
// budget (a *budgetAttempt), which the breaker has counted. Otherwise a valid e is served until the next try, after
// failureBackoff, the Retry-After, or the end of what held the Source
// back, and the outage is logged once.
func (s *Source) failed(ctx context.Context, r run, e *entry, err error) (*Token, error) {
	now := s.cfg.now()
	valid := e != nil && now.Before(e.validUntil)
	if attempt.EndedByCaller(ctx, err) {
		if errors.Is(context.Cause(ctx), errBudget) {
			s.cutOff(ctx, e)
		}
		if valid {
			s.later(r, e, now.Add(cutOffBackoff))
			return e.tok, nil
		}
		return nil, fmt.Errorf("token: %w", context.Cause(ctx))
	}
	if _, ok := errors.AsType[*budgetAttempt](err); ok && valid {
		// The breaker has counted it; for the Source it is a refresh
		// cut off by its budget, as above.
		s.cutOff(ctx, e)
		s.later(r, e, now.Add(cutOffBackoff))
		return e.tok, nil
	}
	if !valid {
		return nil, err
	}
	next := now.Add(failureBackoff)
	if held, ok := err.(*errHeld); ok && !held.until.IsZero() {
		next = held.until
	} else if d := s.retryAfter(err); d > 0 {
		next = now.Add(d)
	}
	s.later(r, e, next)
	s.mu.Lock()
	first := !s.outage
	s.outage = true
	s.mu.Unlock()
	if first {
		level := slog.LevelWarn
		if re, ok := errors.AsType[*RetrieveError](err); ok && !unavailableStatus(re.StatusCode) {
			level = slog.LevelError
		}
		s.logger().Log(ctx, level, "token: refresh failed; serving the cached token while it is valid",
			"token_url", s.logURL, "error", redact.Text(err), "expiry", e.tok.Expiry)
	}
	return e.tok, nil
}

// cutOff counts a refresh cut off by its budget while e was served, and
// logs the slowAfter-th in a row, once: refreshes that keep running out of
// their budget are thrown away, and the token is then refreshed only once
// it is no longer valid, with every caller waiting.
func (s *Source) cutOff(ctx context.Context, e *entry) {
	s.mu.Lock()
	s.cutOffs++
	n := s.cutOffs
	s.mu.Unlock()
	if n == slowAfter && e != nil {
		s.logger().WarnContext(ctx, "token: refreshes keep running out of their time budget; the identity provider or the store is slow, and the token may be refreshed only once it is no longer valid, with callers waiting",
			"token_url", s.logURL, "cut_offs", n, "budget", budgets[len(budgets)-1], "expiry", e.tok.Expiry)
	}
}
