// Package cache is the in-memory cache behind ssmparam.Get and secrets.Get:
// values kept for a time to live, with one fetch at a time per key
// (single-flight), so that N concurrent misses make one request.
package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Cache maps string keys to values of type V that expire after a TTL. The
// zero Cache is not usable; call [New]. A Cache is safe for concurrent use.
type Cache[V any] struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex // guards entries and calls
	entries map[string]entry[V]
	calls   map[string]*call[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// call is a fetch in flight. v and err are written before done is closed.
type call[V any] struct {
	done chan struct{}
	v    V
	err  error
}

// New returns a cache that keeps values for ttl, read from now (time.Now
// when nil). A ttl of zero or less keeps nothing: every Get fetches, but
// concurrent Gets of one key still share one fetch.
func New[V any](ttl time.Duration, now func() time.Time) *Cache[V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[V]{ttl: ttl, now: now, entries: map[string]entry[V]{}, calls: map[string]*call[V]{}}
}

// Get returns the value cached for key if it has not expired. Otherwise it
// calls fetch, caches its value on success and returns it. While a fetch
// of key is in flight, other Gets of key wait for its outcome instead of
// fetching again, or until their own ctx is done. Errors are not cached.
//
// The fetch runs with the ctx of the Get that started it. When that ctx
// ends the fetch, a waiter whose own ctx is still live fetches again
// rather than return another caller's cancellation.
func (c *Cache[V]) Get(ctx context.Context, key string, fetch func(context.Context) (V, error)) (V, error) {
	for {
		c.mu.Lock()
		if e, ok := c.entries[key]; ok && c.now().Before(e.expires) {
			c.mu.Unlock()
			return e.v, nil
		}
		if cl, ok := c.calls[key]; ok {
			c.mu.Unlock()
			select {
			case <-cl.done:
			case <-ctx.Done():
				var zero V
				return zero, ctx.Err()
			}
			if cl.err != nil && isContextError(cl.err) && ctx.Err() == nil {
				continue
			}
			return cl.v, cl.err
		}
		cl := &call[V]{done: make(chan struct{})}
		c.calls[key] = cl
		c.mu.Unlock()
		c.run(ctx, key, cl, fetch)
		return cl.v, cl.err
	}
}

// run calls fetch for cl and publishes its outcome. A panic in fetch is
// recorded as cl's error for the waiters and then re-panics.
func (c *Cache[V]) run(ctx context.Context, key string, cl *call[V], fetch func(context.Context) (V, error)) {
	completed := false
	defer func() {
		if !completed {
			cl.err = fmt.Errorf("cache: fetch of %q panicked", key)
		}
		c.mu.Lock()
		// A Set or Forget since the fetch started replaced cl: its
		// outcome is stale and must not overwrite the newer value.
		if c.calls[key] == cl {
			delete(c.calls, key)
			if cl.err == nil && c.ttl > 0 {
				c.entries[key] = entry[V]{v: cl.v, expires: c.now().Add(c.ttl)}
			}
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	cl.v, cl.err = fetch(ctx)
	completed = true
}

// Set caches v for key, as if a Get had just fetched it, and makes a fetch
// of key in flight leave the cache alone.
func (c *Cache[V]) Set(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.calls, key)
	if c.ttl > 0 {
		c.entries[key] = entry[V]{v: v, expires: c.now().Add(c.ttl)}
	}
}

// Forget drops key, so that the next Get fetches it, and makes a fetch of
// key in flight leave the cache alone.
func (c *Cache[V]) Forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.calls, key)
	delete(c.entries, key)
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
