// Package memstore is an in-process [store.Store]: the default store, and
// the fallback when a shared store is unreachable. Its state lives as long as
// the process, so it is shared by the invocations of one Lambda execution
// environment, not across environments.
package memstore

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/funcify/funcify/store"
)

// Store is an in-memory [store.Store], [store.Counter] and [store.Inserter].
// It is safe for concurrent use; the zero value is not usable: call [New].
type Store struct {
	now func() time.Time

	mu       sync.Mutex // guards items, counters and sweepAt
	items    map[string]entry
	counters map[string]counter
	sweepAt  int // the number of counters at which Add drops expired ones
}

type counter struct {
	n       int64
	expires time.Time // zero: never
}

type entry struct {
	value   []byte
	version int64
	expires time.Time // zero: never
}

// Option configures a [Store].
type Option func(*Store)

// WithClock makes the store read the time from now, for tests that move time
// forward without sleeping. Unlike the clocks of funcify's other packages,
// which are unexported hooks for their own tests, it is exported: memstore
// is the store of tests and local runs, and the tests of the packages built
// on a [store.Store] (token's leases, jwtauth's shared keys) drive its
// expiries with it.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now, items: make(map[string]entry), counters: make(map[string]counter)}
	for _, o := range opts {
		o(s)
	}
	return s
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Counter  = (*Store)(nil)
	_ store.Inserter = (*Store)(nil)
)

// live returns the entry at key if it exists and has not expired. It expects
// s.mu to be held and drops an expired entry.
func (s *Store) live(key string) (entry, bool) {
	e, ok := s.items[key]
	if !ok {
		return entry{}, false
	}
	if !e.expires.IsZero() && !s.now().Before(e.expires) {
		delete(s.items, key)
		return entry{}, false
	}
	return e, true
}

// Get returns the item at key; see [store.Store.Get].
func (s *Store) Get(ctx context.Context, key string) (store.Item, error) {
	if err := ctx.Err(); err != nil {
		return store.Item{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key)
	if !ok {
		return store.Item{}, nil
	}
	return store.Item{Value: bytes.Clone(e.value), Version: e.version, Expires: e.expires}, nil
}

// CompareAndSet writes value at key if version is the stored one; see
// [store.Store.CompareAndSet].
func (s *Store) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key)
	if e.version != version {
		return 0, store.ErrConflict
	}
	next := e.version + 1
	if !ok {
		// A fresh start, so that a reader who saw an earlier life of
		// this key cannot mistake the new one for it.
		next = rand.Int64N(1<<62) + 1
	}
	return s.put(key, next, value, ttl), nil
}

// Insert writes value at key if the key is absent or has expired, or
// returns store.ErrConflict and the item that holds it; see
// [store.Inserter.Insert].
func (s *Store) Insert(ctx context.Context, key string, value []byte, ttl time.Duration) (int64, store.Item, error) {
	if err := ctx.Err(); err != nil {
		return 0, store.Item{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.live(key); ok {
		return 0, store.Item{Value: bytes.Clone(e.value), Version: e.version, Expires: e.expires}, store.ErrConflict
	}
	return s.put(key, rand.Int64N(1<<62)+1, value, ttl), store.Item{}, nil
}

// put stores value at key with version and ttl, and returns version. It
// expects s.mu to be held.
func (s *Store) put(key string, version int64, value []byte, ttl time.Duration) int64 {
	n := entry{value: bytes.Clone(value), version: version}
	if ttl > 0 {
		n.expires = s.now().Add(ttl)
	}
	s.items[key] = n
	return version
}

// Delete removes key if version is the stored one; see [store.Store.Delete].
func (s *Store) Delete(ctx context.Context, key string, version int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, _ := s.live(key)
	if e.version != version {
		return store.ErrConflict
	}
	delete(s.items, key)
	return nil
}

// Add adds delta to the counter at key and returns its new value; see
// [store.Counter.Add]. Counters and items are apart: an item and a counter
// may have the same key.
func (s *Store) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c, ok := s.counters[key]
	if !ok || c.expired(now) {
		if !ok {
			s.sweep(now)
		}
		c = counter{}
		if ttl > 0 {
			c.expires = now.Add(ttl)
		}
	}
	c.n += delta
	s.counters[key] = c
	return c.n, nil
}

func (c counter) expired(now time.Time) bool {
	return !c.expires.IsZero() && !now.Before(c.expires)
}

// sweep drops expired counters once their number has doubled since the
// last sweep, so that counters used once (one per time window, say) do not
// pile up, at a constant cost per Add on average. It expects s.mu to be
// held.
func (s *Store) sweep(now time.Time) {
	if len(s.counters) < s.sweepAt {
		return
	}
	for k, c := range s.counters {
		if c.expired(now) {
			delete(s.counters, k)
		}
	}
	s.sweepAt = max(64, 2*len(s.counters))
}
