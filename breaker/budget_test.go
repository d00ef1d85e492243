package breaker

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

// wallClock is the real time of an update's budget, faked: a Store call or a
// back-off moves it on instead of taking time.
type wallClock struct {
	mu  sync.Mutex
	now time.Time
}

// newWallClock starts at the real time, so that the deadlines of the
// contexts that the breaker derives from it are not already past.
func newWallClock() *wallClock { return &wallClock{now: time.Now()} }

func (w *wallClock) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *wallClock) Sleep(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

// take spends d of the clock on a Store call with ctx, or less when ctx's
// deadline comes first, and returns the error of a call cut off there.
func (w *wallClock) take(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(w.now.Add(d)) {
		w.now = deadline
		return context.DeadlineExceeded
	}
	w.now = w.now.Add(d)
	return nil
}

// slowConflictingStore takes delay of its wall clock for every call, and
// answers every compare-and-set with a conflict: a Store that is slow and
// contended. It is not a store.Counter, so a failure is counted by
// compare-and-set.
type slowConflictingStore struct {
	store.Store
	wall  *wallClock
	delay time.Duration
}

func (s slowConflictingStore) Get(ctx context.Context, key string) (store.Item, error) {
	if err := s.wall.take(ctx, s.delay); err != nil {
		return store.Item{}, err
	}
	return s.Store.Get(ctx, key)
}

func (s slowConflictingStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if err := s.wall.take(ctx, s.delay); err != nil {
		return 0, err
	}
	return 0, store.ErrConflict
}

// TestReportBudget is the regression test for a report that ran past its
// budget: the deadline of the retries after conflicts was checked only
// after a conflict, and a read and a write followed the last check, each
// bounded by StoreTimeout alone, so that a report could hold its caller
// for about seven times StoreTimeout where four were promised. Every read
// and write must start before the budget's end, bounded by the time left.
func TestReportBudget(t *testing.T) {
	const st = 100 * time.Millisecond
	wall := newWallClock()
	var logs syncBuffer
	b := New(Settings{Name: "api", Store: slowConflictingStore{Store: memstore.New(), wall: wall, delay: st * 9 / 10},
		StoreTimeout: st, ConflictBudget: 4 * st, Now: newClock().Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	b.wall, b.pause = wall.Now, wall.Sleep
	b.readAt = b.set.Now() // a fresh copy: no read before the call
	var called time.Time
	Execute(context.Background(), b, func(context.Context) (int, error) {
		called = wall.Now()
		return 0, errDown
	})
	held := wall.Now().Sub(called)
	if limit := st + 4*st; held > limit {
		t.Fatalf("the report held the caller %v after the call (StoreTimeout %v: one write and ConflictBudget %v of retries is %v)", held, st, 4*st, limit)
	}
	if held < 4*st {
		t.Errorf("the report gave up after %v, before its budget of %v was spent", held, st+4*st)
	}
	if !strings.Contains(logs.String(), "abandoned") {
		t.Errorf("the abandoned update was not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "store unavailable") {
		t.Errorf("the end of the budget was logged as a store outage:\n%s", logs.String())
	}
}
