package token

import (
	"context"
	"errors"
	"fmt"
	randv2 "math/rand/v2"
	"time"

	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/store"
)

// heldLease is a refresh lease this Source wrote into the store: the
// record as written, to recognise it when the store is read back, and the
// record it was written over, to put back when the lease is given back.
type heldLease struct {
	lease   record        // what was written: this Source's id and the lease's end, beside the stored token if it fit
	prev    *record       // the record the lease was written over
	ttl     time.Duration // the time to live of prev: its token's
	version int64         // the item's version that holds the lease, as last known
}

// takeLease writes the refresh lease over it, the item read at now that
// holds rec (whose token lives ttl), by compare-and-set. A stored token
// that fits the store, but not with the lease beside it, is left out of
// the lease. It returns the lease, with the version written when err is
// nil.
func (s *Source) takeLease(ctx context.Context, it store.Item, rec *record, now time.Time, ttl time.Duration) (*heldLease, error) {
	l := &heldLease{lease: *rec, prev: rec, ttl: ttl}
	l.lease.Holder, l.lease.Lease = s.id, now.Add(s.cfg.LeaseDuration).UnixNano()
	ver, err := s.write(ctx, it.Version, &l.lease, ttl)
	if tooLarge(err) && (len(l.lease.Token) > 0 || len(l.lease.Sealed) > 0) {
		// The stored token fits, but not with the lease beside it:
		// take the lease without it. The instances that read the store
		// meanwhile serve their own token or wait for this one's, as
		// during a cold start; a release puts the stored token back.
		l.lease.Token, l.lease.Sealed = nil, nil
		ver, err = s.write(ctx, it.Version, &l.lease, ttl)
	}
	l.version = ver
	return l, err
}

// leaseUnknown handles a lease write l whose outcome is unknown (its
// answer was lost, or came after StoreTimeout or the end of ctx): it may
// have taken the lease. If it did, the lease is used, or given back when
// ctx has ended, so that no instance waits for a lease nobody uses; while
// a valid token is served, only within the refresh's budget. It reports
// false when the caller should grant without the store, which failed.
func (s *Source) leaseUnknown(ctx context.Context, r run, l *heldLease, cur *entry, err error) (*Token, bool, error) {
	dctx, cancel := s.detach(ctx, r.end, false)
	if v, ok := s.holds(dctx, l); ok {
		l.version = v
		if ctx.Err() == nil {
			cancel()
			tok, err := s.grantLeased(ctx, r, l, cur)
			return tok, true, err
		}
		s.release(ctx, dctx, l)
	}
	cancel()
	if ctx.Err() != nil {
		return s.callerEnded(ctx, r, cur)
	}
	s.storeFailed(ctx, "lease", err)
	return nil, false, nil
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
// still holds l.
func (s *Source) holds(dctx context.Context, l *heldLease) (int64, bool) {
	if dctx.Err() != nil {
		return 0, false
	}
	it, rec, err := s.read(dctx)
	if err != nil || rec.Holder != l.lease.Holder || rec.Lease != l.lease.Lease {
		return 0, false
	}
	return it.Version, true
}

// grantLeased asks the provider for a token while holding l, and stores
// the token. It gives l back when the grant or the write of the token
// fails, so that the next instance need not wait for the lease to end.
func (s *Source) grantLeased(ctx context.Context, r run, l *heldLease, cur *entry) (*Token, error) {
	g, err := s.fetch(ctx, s.cfg.LeaseDuration, r.requestEnd(s.cfg.StoreTimeout))
	if err != nil {
		// The lease is worth releasing even if the caller's context
		// or the refresh's budget has just ended.
		s.giveBack(ctx, l, false)
		return s.failed(ctx, r, cur, err)
	}
	var next record
	if err := s.setToken(&next, g); err != nil {
		s.giveBack(ctx, l, false)
		return nil, fmt.Errorf("token: seal the token: %w", err)
	}
	// The caller has its token: storing it for the other instances
	// may take what is left of the budget and of half the caller's
	// time, not more.
	dctx, cancel := s.detach(ctx, r.end, true)
	s.put(ctx, dctx, l, &next, g.tok.Expiry.Sub(s.cfg.now()))
	cancel()
	return s.adopt(g).tok, nil
}

// putTries is how many times the holder of the lease writes its token when
// the write conflicts although the lease is still its own.
const putTries = 3

// put writes next, the new token, to live ttl, over the version that holds
// l, with dctx (see detach). A conflict is checked: while the store still
// holds l (a write that changed nothing may have taken a version, as
// ssmstore's void writes do), the token is written over the version found;
// so it is after a throttle (the write did not take effect), after a
// jittered wait. If the token is not stored, the lease is given back (see
// giveBack), so that no instance waits for a lease nobody uses; after a
// write whose outcome is unknown (it timed out, or dctx ended during it),
// only if the store, read back, still holds it. Lines are logged with ctx.
func (s *Source) put(ctx, dctx context.Context, l *heldLease, next *record, ttl time.Duration) {
	if dctx.Err() != nil {
		s.logger().DebugContext(ctx, "token: no time left to store the token; it is kept in memory", "key", s.key)
		s.giveBack(ctx, l, false)
		return
	}
	_, err := s.write(dctx, l.version, next, ttl)
	for try := 1; errors.Is(err, store.ErrConflict) || throttled(err); try++ {
		// A throttled write did not take effect: another write of the
		// key is under way (most likely another instance's void lease
		// write). Back off before looking again, as after a conflict.
		if throttled(err) && !attempt.Pause(dctx, conflictWaitMax/2+randv2.N(conflictWaitMax/2)) {
			break
		}
		v, ok := s.holds(dctx, l)
		if !ok {
			s.logger().DebugContext(ctx, "token: the lease was lost; the token is kept in memory only", "key", s.key)
			return
		}
		l.version = v
		if try == putTries {
			break
		}
		_, err = s.write(dctx, l.version, next, ttl)
	}
	switch {
	case err == nil:
		return
	case tooLarge(err):
		s.oversized(ctx, "put", err)
	case throttled(err):
		s.logger().DebugContext(ctx, "token: the store kept throttling the token's write; the token is kept in memory", "key", s.key)
	case dctx.Err() != nil || timedOut(err):
		// The write may have taken effect: give the lease back only if
		// the store still holds it. The end of dctx is the caller's
		// lack of time, not the store's failure.
		if dctx.Err() != nil {
			s.logger().DebugContext(ctx, "token: no time left to store the token; it is kept in memory", "key", s.key)
		} else {
			s.storeFailed(ctx, "put", err)
		}
		s.giveBack(ctx, l, true)
		return
	case !errors.Is(err, store.ErrConflict):
		s.storeFailed(ctx, "put", err)
	}
	s.giveBack(ctx, l, false)
}

// giveBack releases l after the grant, or the token's write, failed or
// could not be made, with a context of its own (see releaseContext) rather
// than what is left of the refresh's budget or of the put's share of the
// caller's time, so that a write that timed out once does not make every
// cold instance wait out the lease. With readBack set, the outcome of the
// write is unknown: the store is read back first, and l given back at the
// version found if the store still holds it; else it is given back at
// l.version.
func (s *Source) giveBack(ctx context.Context, l *heldLease, readBack bool) {
	rctx, cancel := s.releaseContext(ctx)
	defer cancel()
	if readBack {
		v, ok := s.holds(rctx, l)
		if !ok {
			return
		}
		l.version = v
	}
	s.release(ctx, rctx, l)
}

// releaseContext returns the context of the store calls that give a lease
// back after a failed grant or token write: ctx's values without its
// cancellation, for StoreTimeout, or until halfway from now to ctx's
// deadline if sooner, so that the caller keeps time for its own work and
// is never held past its deadline. With no time left (ctx's deadline has
// passed), the context has ended, nothing is written, and the lease ends
// by itself after LeaseDuration.
func (s *Source) releaseContext(ctx context.Context) (context.Context, context.CancelFunc) {
	now := time.Now()
	end := now.Add(s.cfg.StoreTimeout)
	if dl, ok := ctx.Deadline(); ok {
		if half := now.Add(dl.Sub(now) / 2); half.Before(end) {
			end = half
		}
	}
	return context.WithDeadline(context.WithoutCancel(ctx), end)
}

// release gives l back at l.version, by compare-and-set with dctx (see
// detach and releaseContext): the record l was written over, as it was. A conflict means that the lease is no longer this Source's to
// give back (or that a write reported as failed took effect): nothing to
// do; nor after a throttle, which is no store outage: the lease then ends
// by itself. Nothing is written once dctx has ended, and its end is not the
// store's failure.
func (s *Source) release(ctx, dctx context.Context, l *heldLease) {
	if dctx.Err() != nil {
		return
	}
	rel := *l.prev
	rel.Holder, rel.Lease = "", 0
	if _, err := s.write(dctx, l.version, &rel, l.ttl); err != nil && !errors.Is(err, store.ErrConflict) && !throttled(err) && dctx.Err() == nil {
		s.storeFailed(ctx, "release", err)
	}
}
