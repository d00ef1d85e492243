package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/internal/attempt"
)

// grantTimeout bounds each token request, and so does three quarters
// of the time left before the caller's deadline, if less (never under
// a second, package internal/attempt), the lease's duration for its
// holder, and a refresh's budget (see budgets). It is the Source's own
// bound, within the breaker, so that a provider that hangs fails the
// request while the caller still has time, and the breaker counts it.
const grantTimeout = 10 * time.Second

// errHeld says that the Source sends no token request: a Retry-After has
// not passed, or the breaker is open.
type errHeld struct {
	err   error
	until time.Time     // when a request may be sent again, if known
	left  time.Duration // until less the moment it was held back, if known
}

func (e *errHeld) Error() string { return e.err.Error() }
func (e *errHeld) Unwrap() error { return e.err }

// retryAfterAnswer is the answer of the error e holds when it carries a
// Retry-After (a provider's refusal); nil otherwise, and then e answers as
// the error it holds.
func (e *errHeld) retryAfterAnswer() interface{ HTTPStatus() int } {
	if e.left <= 0 {
		return nil
	}
	d, ok := httperror.Decider(e.err).(interface{ HTTPStatus() int })
	if !ok {
		return nil
	}
	if h, ok := d.(interface{ Header() http.Header }); !ok || h.Header().Get("Retry-After") == "" {
		return nil
	}
	return d
}

// HTTPStatus returns the status of the held error's answer when it
// carries a Retry-After, which [errHeld.Header] then tells from what is
// left of the hold; 0 otherwise (see package httperror: the held error
// answers).
func (e *errHeld) HTTPStatus() int {
	if d := e.retryAfterAnswer(); d != nil {
		return d.HTTPStatus()
	}
	return 0
}

// PublicMessage returns the held error's message.
func (e *errHeld) PublicMessage() string {
	if m, ok := e.retryAfterAnswer().(interface{ PublicMessage() string }); ok {
		return m.PublicMessage()
	}
	return ""
}

// Header returns Retry-After with what is left of the hold, in whole
// seconds rounded up and capped as the provider's own (a minute): not the
// delay the provider sent when the hold began.
func (e *errHeld) Header() http.Header {
	if e.retryAfterAnswer() == nil {
		return nil
	}
	d := min(e.left, maxAnswerRetryAfter)
	secs := (d + time.Second - 1) / time.Second
	return http.Header{"Retry-After": {strconv.FormatInt(int64(secs), 10)}}
}

// heldBack returns an *errHeld when no token request may be sent at now: a
// Retry-After has not passed (its error), or the breaker is open (its
// *breaker.OpenError and ErrUnavailable); nil otherwise.
func (s *Source) heldBack(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	err, until := s.lastErr, s.retryAt
	s.mu.Unlock()
	if err != nil && now.Before(until) {
		return &errHeld{err: err, until: until, left: until.Sub(now)}
	}
	if err := s.cfg.Breaker.Err(ctx); err != nil {
		// The breaker's refusal first: its answer (503 with the
		// stand-down left as Retry-After) is the caller's.
		return &errHeld{err: fmt.Errorf("%w: %w", err, ErrUnavailable)}
	}
	return nil
}

// fetch asks the provider for a token through the breaker, each request
// bounded as grantTimeout says, by limit if positive, and by end if set
// (see attempt).
func (s *Source) fetch(ctx context.Context, limit time.Duration, end time.Time) (*granted, error) {
	now := s.cfg.now()
	g, err := breaker.Execute(ctx, s.cfg.Breaker, func(ctx context.Context) (*granted, error) {
		return s.attempt(ctx, limit, end)
	})
	if err != nil {
		if errors.Is(err, breaker.ErrOpen) || errors.Is(err, breaker.ErrTrialLimit) {
			// The breaker's rejection first: its answer (503 with the
			// stand-down left as Retry-After) is the caller's.
			err = fmt.Errorf("%w: %w", err, ErrUnavailable)
		}
		if d := s.retryAfter(err); d > 0 {
			s.mu.Lock()
			s.retryAt, s.lastErr = now.Add(d), err
			s.mu.Unlock()
		}
		return nil, err
	}
	s.logger().DebugContext(ctx, "token: granted", "token_url", s.logURL, "client_id", s.cfg.ClientID, "token", g.tok)
	s.mu.Lock()
	s.lastErr, s.retryAt = nil, time.Time{}
	recovered := s.outage
	s.outage = false
	s.mu.Unlock()
	if recovered {
		s.logger().InfoContext(ctx, "token: the identity provider answers again", "token_url", s.logURL)
	}
	return g, nil
}

// shortAttempt is the failure of a token request that ran out of the share
// of the caller's time left that attempt gave it, while the caller's
// context was live: a timeout, which the breaker counts, and a failure of
// the caller's near deadline, which a concurrent caller with more time does
// not inherit.
type shortAttempt struct{ err error }

func (e *shortAttempt) Error() string { return e.err.Error() }
func (e *shortAttempt) Unwrap() error { return e.err }

// budgetAttempt is the failure of a token request that ran out of the
// bound its refresh's budget gave it (see attempt): a timeout of the
// Source's own, which the breaker counts, and a refresh cut off by its
// budget, which lengthens the next one's.
type budgetAttempt struct{ err error }

func (e *budgetAttempt) Error() string { return e.err.Error() }
func (e *budgetAttempt) Unwrap() error { return e.err }

// attempt sends one token request, bounded by grantTimeout, by limit if
// positive, and by three quarters of the time left before ctx's deadline
// (never under a second; with a second or less left, by the caller's
// deadline alone), the rule httpclient and jwtauth follow too. The bound
// is the Source's, inside the breaker: a provider that hangs fails the
// request with context.DeadlineExceeded, which the breaker counts, while
// the caller's ctx is still live. A refresh with a budget gives end, a
// little before the budget's end (see run.requestEnd): the request is
// bounded by it too when that leaves it attempt.Floor or more, so that a
// hang ends on this bound, which the breaker counts, before the budget
// cuts it off, which the breaker does not count. With less, the budget
// alone cuts the request off.
func (s *Source) attempt(ctx context.Context, limit time.Duration, end time.Time) (*granted, error) {
	now := time.Now()
	d := attempt.Bound(ctx, now, grantTimeout)
	short := d > 0 && d < grantTimeout // the bound comes from ctx's deadline
	if limit > 0 && (d == 0 || limit < d) {
		d, short = limit, false
	}
	inBudget := false
	if b := end.Sub(now); !end.IsZero() && b >= attempt.Floor && (d == 0 || b < d) {
		d, short, inBudget = b, false, true
	}
	actx := ctx
	if d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	g, err := s.grant(actx)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		switch {
		case short:
			return nil, &shortAttempt{err}
		case inBudget:
			return nil, &budgetAttempt{err}
		}
	}
	return g, err
}

// retryAfter returns the Retry-After of err, a *RetrieveError, capped at
// MaxRetryAfter; 0 if it has none.
func (s *Source) retryAfter(err error) time.Duration {
	var re *RetrieveError
	if !errors.As(err, &re) || re.RetryAfter <= 0 {
		return 0
	}
	return min(re.RetryAfter, s.cfg.MaxRetryAfter)
}
