// Package cache is the in-memory cache behind ssmparam.Get and secrets.Get:
// values kept for a time to live, with one fetch at a time per key, so that
// N concurrent misses make one request. The fetches are collapsed by
// [flight.Group], whose rule for failures and cancellation they follow.
package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/funcify/funcify/internal/flight"
)

// Cache maps string keys to values of type V that expire after a TTL. The
// zero Cache is not usable; call [New]. A Cache is safe for concurrent use.
type Cache[V any] struct {
	ttl    time.Duration
	now    func() time.Time
	flight flight.Group[V]

	mu      sync.Mutex // guards entries and gens
	entries map[string]entry[V]
	// gens counts the Sets and Forgets of each key: a fetch started under
	// an older count is stale and leaves the cache alone, and a Get after
	// them starts a fetch of its own instead of joining the stale one.
	gens map[string]uint64
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New returns a cache that keeps values for ttl, read from now (time.Now
// when nil). A ttl of zero or less keeps nothing: every Get fetches, but
// concurrent Gets of one key still share one fetch.
func New[V any](ttl time.Duration, now func() time.Time) *Cache[V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[V]{ttl: ttl, now: now, entries: map[string]entry[V]{}, gens: map[string]uint64{}}
}

// Get returns the value cached for key if it has not expired. Otherwise it
// calls fetch, caches its value on success and returns it. Errors are not
// cached.
//
// Concurrent Gets of key share one fetch, under the rule of package
// flight: the fetch runs with the ctx of the Get that started it; a Get
// that waits for it returns when its own ctx ends; a failure is shared by
// the Gets waiting for it, unless the fetch failed after its own ctx
// ended, in which case a waiter whose ctx is live fetches again rather
// than return another caller's cancellation; a panic re-panics in the Get
// that ran fetch, and the waiters get an error wrapping
// [flight.ErrPanicked].
func (c *Cache[V]) Get(ctx context.Context, key string, fetch func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && c.now().Before(e.expires) {
		c.mu.Unlock()
		return e.v, nil
	}
	gen := c.gens[key]
	c.mu.Unlock()
	v, _, err := c.flight.Do(ctx, flightKey(gen, key), func(ctx context.Context) (V, error) {
		// A fetch that ended between the look-up above and Do has
		// cached its value: use it rather than fetch again.
		c.mu.Lock()
		if e, ok := c.entries[key]; ok && c.now().Before(e.expires) {
			c.mu.Unlock()
			return e.v, nil
		}
		c.mu.Unlock()
		v, err := fetch(ctx)
		if err == nil && c.ttl > 0 {
			c.mu.Lock()
			// A Set or Forget since the fetch started makes its value
			// stale: it must not overwrite the newer one.
			if c.gens[key] == gen {
				c.entries[key] = entry[V]{v: v, expires: c.now().Add(c.ttl)}
			}
			c.mu.Unlock()
		}
		return v, err
	})
	if err != nil && errors.Is(err, flight.ErrPanicked) {
		err = fmt.Errorf("cache: fetch of %q: %w", key, err)
	}
	return v, err
}

// Waiting returns how many Gets have joined the fetch of key under way as
// waiters, including any that gave up since (0 if none runs). Tests use it to know that a Get has joined a fetch.
func (c *Cache[V]) Waiting(key string) int {
	c.mu.Lock()
	gen := c.gens[key]
	c.mu.Unlock()
	return c.flight.Waiting(flightKey(gen, key))
}

// flightKey is the single-flight key of key's fetch under generation gen:
// the generation leads, so no two (gen, key) pairs share one.
func flightKey(gen uint64, key string) string {
	return strconv.FormatUint(gen, 10) + ":" + key
}

// Set caches v for key, as if a Get had just fetched it, and makes a fetch
// of key in flight leave the cache alone.
func (c *Cache[V]) Set(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[key]++
	if c.ttl > 0 {
		c.entries[key] = entry[V]{v: v, expires: c.now().Add(c.ttl)}
	}
}

// Forget drops key, so that the next Get fetches it, and makes a fetch of
// key in flight leave the cache alone.
func (c *Cache[V]) Forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[key]++
	delete(c.entries, key)
}
