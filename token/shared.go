package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	randv2 "math/rand/v2"
	"time"

	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/store"
)

const (
	// leaseSkew is how much further than LeaseDuration from now a stored
	// lease may end and still be honoured: a lease ending later comes from
	// a skewed clock or a bad writer, and is ignored.
	leaseSkew = 5 * time.Second
	// leasePoll is how long a Source serving its token while another
	// instance holds the lease waits before it looks at the store again.
	leasePoll = time.Second
)

// Waits between lease writes that conflict: the first, doubled after each
// conflict up to the last, each drawn at random from its second half.
const (
	conflictWait    = 20 * time.Millisecond
	conflictWaitMax = 500 * time.Millisecond
)

// shared refreshes through the store: it serves a newer stored token, or
// takes the lease and grants, or serves the current token while another
// instance holds the lease, or waits for it. It reports done false, with
// no token and no error, when the caller should grant on its own: the
// store failed, its lease writes kept conflicting until the lease wait's
// end (or half the caller's time), or it cannot hold the token.
func (s *Source) shared(ctx context.Context, r run) (tok *Token, done bool, err error) {
	waitUntil := time.Now().Add(s.cfg.LeaseWait)
	// Lease writes that keep conflicting (or meet a throttle) are tried
	// again until the lease wait's end, or until half the caller's time
	// is gone if sooner: then the caller grants on its own, with time
	// left to do it.
	conflictUntil := waitUntil
	if dl, ok := ctx.Deadline(); ok {
		if half := time.Now().Add(time.Until(dl) / 2); half.Before(conflictUntil) {
			conflictUntil = half
		}
	}
	poll, backoff := 20*time.Millisecond, conflictWait
	for {
		it, rec, err := s.read(ctx)
		if err != nil {
			if attempt.EndedByCaller(ctx, err) {
				return s.callerEnded(ctx, r, r.from)
			}
			s.storeFailed(ctx, "get", err)
			return nil, false, nil
		}
		s.storeWorks(ctx)
		now := s.cfg.now()
		cur := r.from
		if cur != nil && !now.Before(cur.validUntil) {
			cur = nil
		}
		g, terr := s.token(rec)
		switch {
		case terr == nil && (cur == nil || g.tok.AccessToken != cur.tok.AccessToken):
			// A token this instance has not seen: plan its own moment.
			ne := s.newEntry(g)
			if now.Before(ne.refreshAt) {
				s.keep(ne)
				return ne.tok, true, nil
			}
			if now.Before(ne.validUntil) {
				cur = ne
			}
		case terr != nil && !errors.Is(terr, errNoToken):
			s.logger().WarnContext(ctx, "token: ignoring the stored token", "key", s.key, "error", terr.Error())
		}
		if rec.leasedBy(s.id, now, s.cfg.LeaseDuration+leaseSkew) {
			if cur != nil {
				s.later(r, cur, now.Add(leasePoll))
				return cur.tok, true, nil
			}
			if !sleep(ctx, poll, waitUntil) {
				if ctx.Err() != nil {
					return nil, true, fmt.Errorf("token: wait for another instance's token: %w", context.Cause(ctx))
				}
				return nil, true, fmt.Errorf("%w: another instance holds the refresh lease and no token came within %v", ErrUnavailable, s.cfg.LeaseWait)
			}
			poll = min(2*poll, 200*time.Millisecond)
			continue
		}
		// Taking the lease is two writes (take, then the token or a
		// release): none when no request may be sent, or when the
		// token cannot be stored.
		if err := s.heldBack(ctx, now); err != nil {
			tok, err := s.failed(ctx, r, cur, err)
			return tok, true, err
		}
		if !s.fits() {
			return nil, false, nil
		}
		ttl := time.Duration(0)
		if terr == nil {
			ttl = g.tok.Expiry.Sub(now)
		}
		l, err := s.takeLease(ctx, it, rec, now, ttl)
		switch {
		case err == nil:
			tok, err := s.grantLeased(ctx, r, l, cur)
			return tok, true, err
		case errors.Is(err, store.ErrConflict), throttled(err):
			// Another instance wrote first, or is writing (a store
			// refused the write while another of the key was under
			// way, and has already waited on its own): look again,
			// after a jittered wait, until the lease wait's end;
			// then grant without the store rather than keep writing
			// into it.
			if throttled(err) {
				backoff = conflictWaitMax
			}
			if !sleep(ctx, backoff/2+randv2.N(backoff/2), conflictUntil) {
				if ctx.Err() != nil {
					return s.callerEnded(ctx, r, cur)
				}
				return nil, false, nil
			}
			backoff = min(2*backoff, conflictWaitMax)
			continue
		case tooLarge(err):
			s.oversized(ctx, "lease", err)
			return nil, false, nil
		}
		return s.leaseUnknown(ctx, r, l, cur, err)
	}
}

// callerEnded handles a store call or wait of refresh r cut off by the
// end of ctx, while e was the token to serve (see failed).
func (s *Source) callerEnded(ctx context.Context, r run, e *entry) (*Token, bool, error) {
	tok, err := s.failed(ctx, r, e, fmt.Errorf("token: %w", context.Cause(ctx)))
	return tok, true, err
}

// read reads the Source's record from the store.
func (s *Source) read(ctx context.Context) (store.Item, *record, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	defer cancel()
	it, err := s.cfg.Store.Get(ctx, s.key)
	if err != nil {
		return it, nil, err
	}
	rec, err := decodeRecord(it.Value)
	if err != nil {
		s.logger().WarnContext(ctx, "token: ignoring the stored record", "key", s.key, "error", err.Error())
	}
	return it, rec, nil
}

// write writes rec over version, to live ttl.
func (s *Source) write(ctx context.Context, version int64, rec *record, ttl time.Duration) (int64, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	defer cancel()
	return s.cfg.Store.CompareAndSet(ctx, s.key, version, b, max(ttl, s.cfg.LeaseDuration))
}

// sleep waits d, or until the real time until, or the end of ctx, and
// reports whether it waited d whole.
func sleep(ctx context.Context, d time.Duration, until time.Time) bool {
	if left := time.Until(until); left < d {
		if left <= 0 {
			return false
		}
		d = left
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return time.Now().Before(until)
	case <-ctx.Done():
		return false
	}
}
