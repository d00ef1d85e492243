package token

import (
	"context"
	"errors"
	"time"

	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/store"
)

// storeRetry is how long a Source goes on without a failed store
// before it tries it again.
const storeRetry = 10 * time.Second

// storeUsable reports whether the store may be tried: it has not failed
// within storeRetry.
func (s *Source) storeUsable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.storeDown || !s.cfg.now().Before(s.storeRetryAt)
}

// storeFailed records and logs, once until it works again, a failure of
// the store that is not the end of the caller's ctx.
func (s *Source) storeFailed(ctx context.Context, op string, err error) {
	s.mu.Lock()
	first := !s.storeDown
	s.storeDown = true
	s.storeRetryAt = s.cfg.now().Add(storeRetry)
	s.mu.Unlock()
	if first {
		s.logger().WarnContext(ctx, "token: the store failed; going on with memory and the token endpoint", "key", s.key, "op", op, "error", redact.Text(err))
	}
}

func (s *Source) storeWorks(ctx context.Context) {
	s.mu.Lock()
	was := s.storeDown
	s.storeDown = false
	s.mu.Unlock()
	if was {
		s.logger().InfoContext(ctx, "token: the store works again", "key", s.key)
	}
}

// oversized records that the store refused a write as too large: a
// configuration error (the token does not fit the store), logged once at
// Error. The store is not taken for down: it is still read, but this
// Source takes no lease and writes no token, which could not be shared.
func (s *Source) oversized(ctx context.Context, op string, err error) {
	s.mu.Lock()
	first := !s.oversize
	s.oversize = true
	s.mu.Unlock()
	if first {
		s.logger().ErrorContext(ctx, "token: the token does not fit the store; each instance grants its own: use a store or tier that holds it, or no EncryptionKey",
			"key", s.key, "op", op, "error", redact.Text(err))
	}
}

// fits reports whether the store has not refused a token as too large.
func (s *Source) fits() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.oversize
}

// tooLarge reports whether err says that a value can never fit the store:
// it matches store.ErrTooLarge (ssmstore over its tier, DynamoDB over
// 400 KB), or an error in its chain has a method TooLarge() bool that
// returns true (a user's store written before ErrTooLarge). Retrying would
// fail the same.
func tooLarge(err error) bool {
	if errors.Is(err, store.ErrTooLarge) {
		return true
	}
	var e interface{ TooLarge() bool }
	return errors.As(err, &e) && e.TooLarge()
}

// throttled reports whether err says that the store refused a write for
// the rate of writes to the key (another write of it under way, most
// likely another instance's lease): an error in its chain has a method
// Throttled() bool that returns true, as ssmstore.ErrThrottled has. The
// write did not take effect, and the store is not down.
func throttled(err error) bool {
	var e interface{ Throttled() bool }
	return errors.As(err, &e) && e.Throttled()
}

// timedOut reports whether err is a timeout: the end of a context's
// deadline, or an error with a method Timeout() bool that returns true.
func timedOut(err error) bool {
	var e interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &e) && e.Timeout()
}
