package token

import (
	"context"
	"errors"
	"fmt"
	randv2 "math/rand/v2"
	"time"

	"github.com/funcify/funcify/store"
)

// grantLeased asks the provider for a token while holding lease, written
// at version ver over rec, and stores the token. It releases the lease when
// the grant or the write of the token fails, so that the next instance
// need not wait for the lease to end.
func (s *Source) grantLeased(ctx context.Context, r run, ver int64, lease, rec *record, cur *entry, ttl time.Duration) (*Token, error) {
	g, err := s.fetch(ctx, s.cfg.LeaseDuration, r.requestEnd(s.cfg.StoreTimeout))
	if err != nil {
		// The lease is worth releasing even if the caller's context
		// or the refresh's budget has just ended.
		s.giveBack(ctx, ver, nil, rec, ttl)
		return s.failed(ctx, r, cur, err)
	}
	var next record
	if err := s.setToken(&next, g); err != nil {
		s.giveBack(ctx, ver, nil, rec, ttl)
		return nil, fmt.Errorf("token: seal the token: %w", err)
	}
	// The caller has its token: storing it for the other instances
	// may take what is left of the budget and of half the caller's
	// time, not more.
	dctx, cancel := s.detach(ctx, r.end, true)
	s.put(ctx, dctx, ver, lease, rec, &next, g.tok.Expiry.Sub(s.cfg.Now()), ttl)
	cancel()
	return s.adopt(g).tok, nil
}

// putTries is how many times the holder of the lease writes its token when
// the write conflicts although the lease is still its own.
const putTries = 3

// put writes next, the new token, over version ver, which holds lease,
// with dctx (see detach). A conflict is checked: while the store still
// holds lease (a write that changed nothing may have taken a version, as
// ssmstore's void writes do), the token is written over the version found;
// so it is after a throttle (the write did not take effect), after a
// jittered wait. If the token is not stored, the lease is given back (see
// giveBack), so that no instance waits for a lease nobody uses; after a
// write whose outcome is unknown (it timed out, or dctx ended during it),
// only if the store, read back, still holds it. Lines are logged with ctx.
func (s *Source) put(ctx, dctx context.Context, ver int64, lease, rec, next *record, ttl, leaseTTL time.Duration) {
	if dctx.Err() != nil {
		s.logger().DebugContext(ctx, "token: no time left to store the token; it is kept in memory", "key", s.key)
		s.giveBack(ctx, ver, nil, rec, leaseTTL)
		return
	}
	_, err := s.write(dctx, ver, next, ttl)
	for try := 1; errors.Is(err, store.ErrConflict) || throttled(err); try++ {
		// A throttled write did not take effect: another write of the
		// key is under way (most likely another instance's void lease
		// write). Back off before looking again, as after a conflict.
		if throttled(err) && !pause(dctx, conflictWaitMax/2+randv2.N(conflictWaitMax/2)) {
			break
		}
		v, ok := s.holds(dctx, lease)
		if !ok {
			s.logger().DebugContext(ctx, "token: the lease was lost; the token is kept in memory only", "key", s.key)
			return
		}
		ver = v
		if try == putTries {
			break
		}
		_, err = s.write(dctx, ver, next, ttl)
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
		s.giveBack(ctx, 0, lease, rec, leaseTTL)
		return
	case !errors.Is(err, store.ErrConflict):
		s.storeFailed(ctx, "put", err)
	}
	s.giveBack(ctx, ver, nil, rec, leaseTTL)
}

// giveBack releases the lease after the token's write failed or could not
// be made, with a context of its own (see releaseContext) rather than what
// is left of the refresh's budget or of the put's share of the caller's
// time, so that a write that timed out once does not make every cold
// instance wait out the lease. With lease set, the outcome of the write is
// unknown: the store is read back first, and the lease given back at the
// version found if the store still holds it; else it is given back at ver.
func (s *Source) giveBack(ctx context.Context, ver int64, lease, rec *record, ttl time.Duration) {
	rctx, cancel := s.releaseContext(ctx)
	defer cancel()
	if lease != nil {
		v, ok := s.holds(rctx, lease)
		if !ok {
			return
		}
		ver = v
	}
	s.release(ctx, rctx, ver, rec, ttl)
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

// release gives back the lease written at version ver over rec, by
// compare-and-set with dctx (see detach): rec as it was, without the
// lease. A conflict means that the lease is no longer this Source's to
// give back (or that a write reported as failed took effect): nothing to
// do; nor after a throttle, which is no store outage: the lease then ends
// by itself. Nothing is written once dctx has ended, and its end is not the
// store's failure.
func (s *Source) release(ctx, dctx context.Context, ver int64, rec *record, ttl time.Duration) {
	if dctx.Err() != nil {
		return
	}
	rel := *rec
	rel.Holder, rel.Lease = "", 0
	if _, err := s.write(dctx, ver, &rel, ttl); err != nil && !errors.Is(err, store.ErrConflict) && !throttled(err) && dctx.Err() == nil {
		s.storeFailed(ctx, "release", err)
	}
}
