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
// instance holds the lease, or waits for it. It reports false when the
// caller should grant on its own: the store failed, its lease writes kept
// conflicting until the lease wait's end (or half the caller's time), or it
// cannot hold the token.
func (s *Source) shared(ctx context.Context, r run) (tok *Token, err error, done bool) {
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
				return s.failedCtx(ctx, r, r.from)
			}
			s.storeFailed(ctx, "get", err)
			return nil, nil, false
		}
		s.storeWorks(ctx)
		now := s.cfg.Now()
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
				return ne.tok, nil, true
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
				return cur.tok, nil, true
			}
			if !sleep(ctx, poll, waitUntil) {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("token: wait for another instance's token: %w", context.Cause(ctx)), true
				}
				return nil, fmt.Errorf("%w: another instance holds the refresh lease and no token came within %v", ErrUnavailable, s.cfg.LeaseWait), true
			}
			poll = min(2*poll, 200*time.Millisecond)
			continue
		}
		// Taking the lease is two writes (take, then the token or a
		// release): none when no request may be sent, or when the
		// token cannot be stored.
		if err := s.heldBack(ctx, now); err != nil {
			tok, err := s.failed(ctx, r, cur, err)
			return tok, err, true
		}
		if !s.fits() {
			return nil, nil, false
		}
		lease := *rec
		lease.Holder, lease.Lease = s.id, now.Add(s.cfg.LeaseDuration).UnixNano()
		ttl := time.Duration(0)
		if terr == nil {
			ttl = g.tok.Expiry.Sub(now)
		}
		ver, err := s.write(ctx, it.Version, &lease, ttl)
		if tooLarge(err) && (len(lease.Token) > 0 || len(lease.Sealed) > 0) {
			// The stored token fits, but not with the lease beside
			// it: take the lease without it. The instances that read
			// the store meanwhile serve their own token or wait for
			// this one's, as during a cold start; a release puts
			// the stored token back.
			lease.Token, lease.Sealed = nil, nil
			ver, err = s.write(ctx, it.Version, &lease, ttl)
		}
		switch {
		case err == nil:
			tok, err := s.grantLeased(ctx, r, ver, &lease, rec, cur, ttl)
			return tok, err, true
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
					return s.failedCtx(ctx, r, cur)
				}
				return nil, nil, false
			}
			backoff = min(2*backoff, conflictWaitMax)
			continue
		case tooLarge(err):
			s.oversized(ctx, "lease", err)
			return nil, nil, false
		}
		// The write's outcome is unknown (its answer was lost, or came
		// after StoreTimeout or the end of ctx): it may have taken the
		// lease. If it did, use the lease, or give it back, so that no
		// instance waits for a lease nobody uses; while a valid token
		// is served, only within the refresh's budget.
		dctx, cancel := s.detach(ctx, r.end, false)
		if v, ok := s.holds(dctx, &lease); ok {
			if ctx.Err() == nil {
				cancel()
				tok, err := s.grantLeased(ctx, r, v, &lease, rec, cur, ttl)
				return tok, err, true
			}
			s.release(ctx, dctx, v, rec, ttl)
		}
		cancel()
		if ctx.Err() != nil {
			return s.failedCtx(ctx, r, cur)
		}
		s.storeFailed(ctx, "lease", err)
		return nil, nil, false
	}
}

// failedCtx handles a store call cut off by the end of ctx.
func (s *Source) failedCtx(ctx context.Context, r run, e *entry) (*Token, error, bool) {
	tok, err := s.failed(ctx, r, e, fmt.Errorf("token: %w", context.Cause(ctx)))
	return tok, err, true
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

// detach returns the context of store calls that must outlive ctx's
// cancellation: a lease's use or release, the write of a new token. It
// ends at end, the end of the refresh's budget, if set; with caller set,
// also halfway from now to ctx's deadline, so that a caller that has its
// token keeps at least half its time for its own work. Each call within
// is bounded by StoreTimeout too.
func (s *Source) detach(ctx context.Context, end time.Time, caller bool) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && caller {
		now := time.Now()
		if half := now.Add(d.Sub(now) / 2); end.IsZero() || half.Before(end) {
			end = half
		}
	}
	dctx := context.WithoutCancel(ctx)
	if end.IsZero() {
		return context.WithCancel(dctx)
	}
	return context.WithDeadline(dctx, end)
}

// holds reads the store with dctx and returns the item's version if it
// holds lease, the lease this Source wrote.
func (s *Source) holds(dctx context.Context, lease *record) (int64, bool) {
	if dctx.Err() != nil {
		return 0, false
	}
	it, rec, err := s.read(dctx)
	if err != nil || rec.Holder != lease.Holder || rec.Lease != lease.Lease {
		return 0, false
	}
	return it.Version, true
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

// pause waits d, or until the end of ctx, and reports whether it waited d
// whole; it does not wait at all when ctx's deadline is less than d away.
func pause(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
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
