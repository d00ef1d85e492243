package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/flight"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestTTL(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	c := New[string](time.Minute, clk.Now)
	var fetches int
	fetch := func(context.Context) (string, error) { fetches++; return "v", nil }
	for range 3 {
		if v, err := c.Get(context.Background(), "k", fetch); v != "v" || err != nil {
			t.Fatalf("got %q, %v", v, err)
		}
	}
	if fetches != 1 {
		t.Fatalf("got %d fetches within the TTL, want 1", fetches)
	}
	clk.Add(time.Minute)
	c.Get(context.Background(), "k", fetch)
	if fetches != 2 {
		t.Fatalf("got %d fetches after the TTL, want 2", fetches)
	}
	c.Forget("k")
	c.Get(context.Background(), "k", fetch)
	if fetches != 3 {
		t.Fatalf("got %d fetches after Forget, want 3", fetches)
	}
}

func TestErrorsNotCached(t *testing.T) {
	c := New[int](time.Hour, nil)
	boom := errors.New("boom")
	var fetches int
	for range 2 {
		if _, err := c.Get(context.Background(), "k", func(context.Context) (int, error) { fetches++; return 0, boom }); err != boom {
			t.Fatalf("got %v", err)
		}
	}
	if fetches != 2 {
		t.Fatalf("got %d fetches, want 2: an error was cached", fetches)
	}
}

func TestSingleFlight(t *testing.T) {
	c := New[int](time.Hour, nil)
	release := make(chan struct{})
	started := make(chan struct{})
	var fetches atomic.Int64
	fetch := func(context.Context) (int, error) {
		if fetches.Add(1) == 1 {
			close(started)
		}
		<-release
		return 7, nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.Get(context.Background(), "k", fetch) })
	<-started // the first fetch is in flight: the rest must wait for it
	const waiters = 20
	results := make(chan int, waiters)
	for range waiters {
		wg.Go(func() {
			v, _ := c.Get(context.Background(), "k", fetch)
			results <- v
		})
	}
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != 7 {
			t.Fatalf("a waiter got %d", v)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("got %d fetches, want 1", n)
	}
}

func TestPanickingFetch(t *testing.T) {
	c := New[int](time.Hour, nil)
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() {
			if recover() != "boom" {
				t.Error("the panic was not re-raised in the fetching caller")
			}
		}()
		c.Get(context.Background(), "k", func(context.Context) (int, error) {
			close(started)
			<-release
			panic("boom")
		})
	})
	<-started
	errc := make(chan error, 1)
	wg.Go(func() {
		_, err := c.Get(context.Background(), "k", func(context.Context) (int, error) { return 1, nil })
		errc <- err
	})
	waitWaiters(t, c, "k", 1)
	close(release)
	wg.Wait()
	// The waiter waited on the panicking fetch: it gets an error that says
	// so, not a nil error with a zero value, and does not fetch again.
	if err := <-errc; !errors.Is(err, flight.ErrPanicked) || !strings.HasPrefix(err.Error(), "cache: ") {
		t.Fatalf("the waiter got %v, want a cache error wrapping flight.ErrPanicked", err)
	}
	if v, err := c.Get(context.Background(), "k", func(context.Context) (int, error) { return 2, nil }); err != nil || v == 0 {
		t.Fatalf("after a panic: got %d, %v", v, err)
	}
}

func TestSetDuringFetchWins(t *testing.T) {
	c := New[string](time.Hour, nil)
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Get(context.Background(), "k", func(context.Context) (string, error) {
			close(started)
			<-release
			return "stale", nil
		})
	}()
	<-started
	c.Set("k", "fresh")
	close(release)
	<-done
	if v, _ := c.Get(context.Background(), "k", func(context.Context) (string, error) { return "fetched", nil }); v != "fresh" {
		t.Fatalf("got %q, want the value Set during the fetch", v)
	}
}

func TestCancelledFetchRefetchedByLiveWaiter(t *testing.T) {
	c := New[string](time.Hour, nil)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, "k", func(ctx context.Context) (string, error) {
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		})
		first <- err
	}()
	<-started
	got := make(chan string, 1)
	go func() {
		v, _ := c.Get(context.Background(), "k", func(context.Context) (string, error) { return "mine", nil })
		got <- v
	}()
	waitWaiters(t, c, "k", 1) // the live Get waits on the cancelled one's fetch
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled caller got %v", err)
	}
	if v := <-got; v != "mine" {
		t.Fatalf("the live waiter got %q, want its own fetch", v)
	}
}

func TestWaiterContextDone(t *testing.T) {
	c := New[int](time.Hour, nil)
	release := make(chan struct{})
	started := make(chan struct{})
	go c.Get(context.Background(), "k", func(context.Context) (int, error) { close(started); <-release; return 1, nil })
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, "k", func(context.Context) (int, error) { return 2, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the waiter's own cancellation", err)
	}
	close(release)
}

// A fetch that fails while its caller's context is live is a failure of the
// source, even when the error is a timeout of the fetch's own making: the
// waiters share it instead of each fetching again, one after the other.
func TestLeaderFailureShared(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"error", errors.New("throttled")},
		{"own timeout", fmt.Errorf("ssm: %w", context.DeadlineExceeded)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New[int](time.Hour, nil)
			release := make(chan struct{})
			started := make(chan struct{})
			var fetches atomic.Int64
			fetch := func(context.Context) (int, error) {
				if fetches.Add(1) == 1 {
					close(started)
					<-release
				}
				return 0, tc.err
			}
			leader := make(chan error, 1)
			go func() { _, err := c.Get(context.Background(), "k", fetch); leader <- err }()
			<-started
			const waiters = 5
			errs := make(chan error, waiters)
			for range waiters {
				go func() { _, err := c.Get(context.Background(), "k", fetch); errs <- err }()
			}
			waitWaiters(t, c, "k", waiters)
			close(release)
			if err := <-leader; !errors.Is(err, tc.err) {
				t.Errorf("leader got %v, want %v", err, tc.err)
			}
			for range waiters {
				if err := <-errs; !errors.Is(err, tc.err) {
					t.Errorf("a waiter got %v, want the leader's %v", err, tc.err)
				}
			}
			if n := fetches.Load(); n != 1 {
				t.Errorf("got %d fetches for one failure, want 1", n)
			}
		})
	}
}

// waitWaiters returns once n Gets have joined the fetch of key under way,
// failing the test after 10 seconds.
func waitWaiters[V any](t *testing.T, c *Cache[V], key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Waiting(key) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d Gets of %q wait after 10s, want %d", c.Waiting(key), key, n)
		}
		runtime.Gosched()
	}
}
