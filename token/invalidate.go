package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/store"
)

const (
	// invalidateMinAge is the age under which Invalidate keeps a token: a
	// downstream that refuses a token just granted (a wrong audience, say)
	// would refuse the next one the same, and a new grant for each of its
	// 401s would cost every instance sharing the token a grant too.
	invalidateMinAge = time.Minute
	// invalidateInterval is how long after an invalidation a Source
	// invalidates no other token: at most one grant per interval per
	// instance comes from 401s.
	invalidateInterval = time.Minute
)

// Invalidate drops tok, which a downstream refused with a 401, so that the
// next call to Token gets another: from memory, and from the store if it
// still holds tok there (by compare-and-set, so that a newer token put by
// another instance is kept). It returns the store's error, if any, after
// dropping the token from memory.
//
// A token younger than a minute is kept, and so is any token within a
// minute after this Source last dropped one: a downstream that refuses a
// token just granted (a wrong audience, a revoked client) would refuse the
// next one too, and a grant per refused call, with the shared token
// deleted each time, would cost every instance a grant and could push the
// provider into rate limiting. So 401s cost at most one grant per minute
// per instance. A call that drops nothing (tok is no longer in memory nor
// in the store) does not count. Compare the next Token with tok to see
// whether it was dropped.
func (s *Source) Invalidate(ctx context.Context, tok *Token) error {
	if tok == nil {
		return nil
	}
	now := s.cfg.now()
	s.mu.Lock()
	prev := s.invalidatedAt
	if e := s.cur.Load(); now.Before(prev.Add(invalidateInterval)) ||
		e != nil && e.tok.AccessToken == tok.AccessToken && now.Sub(e.obtained) < invalidateMinAge {
		s.mu.Unlock()
		return nil
	}
	// Hold the interval while dropping, so that a concurrent call drops
	// nothing; give it back if nothing was dropped.
	s.invalidatedAt = now
	s.mu.Unlock()
	dropped := false
	defer func() {
		if !dropped {
			s.mu.Lock()
			if s.invalidatedAt.Equal(now) {
				s.invalidatedAt = prev
			}
			s.mu.Unlock()
		}
	}()
	for {
		e := s.cur.Load()
		if e == nil || e.tok.AccessToken != tok.AccessToken {
			break
		}
		if s.cur.CompareAndSwap(e, nil) {
			dropped = true
			break
		}
	}
	if s.cfg.Store == nil {
		return nil
	}
	it, rec, err := s.read(ctx)
	if err != nil {
		if !attempt.EndedByCaller(ctx, err) {
			s.storeFailed(ctx, "get", err)
		}
		return fmt.Errorf("token: invalidate: %w", err)
	}
	g, err := s.token(rec)
	if err != nil || g.tok.AccessToken != tok.AccessToken || now.Sub(g.obtained) < invalidateMinAge {
		return nil
	}
	if rec.Holder == "" {
		dctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
		err = s.cfg.Store.Delete(dctx, s.key, it.Version)
		cancel()
	} else {
		_, err = s.write(ctx, it.Version, &record{Holder: rec.Holder, Lease: rec.Lease}, 0)
	}
	switch {
	case err == nil:
		dropped = true
	case !errors.Is(err, store.ErrConflict):
		if !attempt.EndedByCaller(ctx, err) {
			s.storeFailed(ctx, "invalidate", err)
		}
		return fmt.Errorf("token: invalidate: %w", err)
	}
	return nil
}
