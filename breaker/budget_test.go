package breaker

import (
	"context"
	"errors"
	"fmt"
	"io"
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
		StoreTimeout: st, ConflictBudget: 4 * st, now: newClock().Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	b.wall, b.pause = wall.Now, wall.Sleep
	b.readAt = b.set.now() // a fresh copy: no read before the call
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

// TestReportWithinCallerDeadline is the regression test for a report that
// held its caller past the caller's deadline: a Lambda invocation with 1 s
// left had its downstream call fail fast (a 503) while other instances kept
// winning the race to write the circuit, and the report retried for
// StoreTimeout + ConflictBudget, 5.5 s by default, 4.5 s past the
// invocation's deadline, by when Lambda had killed the invocation and the
// write with it. The report must end before the caller's deadline.
func TestReportWithinCallerDeadline(t *testing.T) {
	wall := newWallClock()
	b := New(Settings{Name: "api", Store: slowConflictingStore{Store: memstore.New(), wall: wall, delay: 5 * time.Millisecond},
		now: newClock().Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.wall, b.pause = wall.Now, wall.Sleep
	b.readAt = b.set.now() // a fresh copy: no read before the call

	start := wall.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(time.Second))
	defer cancel()
	Execute(ctx, b, func(context.Context) (int, error) { return 0, errDown })
	deadline, _ := ctx.Deadline()
	if past := wall.Now().Sub(deadline); past > 0 {
		t.Fatalf("Execute returned %v after the caller's deadline (1 s after the call began; StoreTimeout %v, ConflictBudget %v)",
			past, b.set.StoreTimeout, b.set.ConflictBudget)
	}
}

// TestReportPastCallerDeadline checks the one write that a report makes
// when the caller's deadline has passed already: bounded by StoreTimeout,
// and the only Store call, so that the outcome is recorded if the Store
// takes it at once, and kept pending otherwise.
func TestReportPastCallerDeadline(t *testing.T) {
	for _, conflict := range []bool{false, true} {
		t.Run(fmt.Sprintf("conflict=%v", conflict), func(t *testing.T) {
			wall := newWallClock()
			cs := &countingStore{Store: memstore.New()}
			var s store.Store = cs
			if conflict {
				s = &conflictingStore{Store: cs}
				s.(*conflictingStore).conflicts.Store(1 << 62)
			}
			b := New(Settings{Name: "api", Store: s, now: newClock().Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			b.wall, b.pause = wall.Now, wall.Sleep
			b.readAt = b.set.now()

			ctx, cancel := context.WithDeadline(context.Background(), wall.Now().Add(time.Second))
			defer cancel()
			Execute(ctx, b, func(context.Context) (int, error) {
				wall.Sleep(2 * time.Second) // the downstream answers 503 after the caller's deadline
				return 0, errDown
			})
			if g := cs.gets.Load(); g != 0 {
				t.Errorf("%d reads after the caller's deadline, want none", g)
			}
			stored := int64(0)
			if it, _ := cs.Get(context.Background(), b.key); it.Version != 0 {
				stored = storedFailures(t, b)
			}
			want, pending := int64(1), 0
			if conflict {
				want, pending = 0, 1
			}
			if stored != want || b.pendingFailures() != pending {
				t.Errorf("a failure reported after the caller's deadline: %d stored, %d pending; want %d and %d", stored, b.pendingFailures(), want, pending)
			}
		})
	}
}

// TestTrialOutcomeInLastMarginRecorded is the regression test for a trial
// whose success came within the last 100 ms before the caller's deadline:
// the report's budget ended deadlineMargin before the deadline, and its one
// write past the deadline was granted only once the deadline had passed, so
// nothing was written and the Store kept the trial's slot, rejecting every
// other instance with ErrTrialLimit for TrialTimeout although the
// downstream had answered. A success in that margin must be written as one
// after the deadline is.
func TestTrialOutcomeInLastMarginRecorded(t *testing.T) {
	for _, tc := range []struct {
		name string
		left time.Duration // time left before the caller's deadline when fn returns
	}{
		{"past deadline", -time.Millisecond},
		{"50ms before deadline", 50 * time.Millisecond},
		{"at margin", deadlineMargin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			wall := newWallClock()
			shared := memstore.New()
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			set := Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 1, Logger: quiet}
			a, other := New(set), New(set)
			a.wall, a.pause = wall.Now, wall.Sleep
			call(a, errDown) // opens the circuit in the Store
			clk.Advance(a.set.OpenFor + time.Second)

			// The wall clock moves only when the downstream takes its time,
			// so the context's own timer does not fire during the test.
			deadline := wall.Now().Add(3 * time.Second)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			_, err := Execute(ctx, a, func(context.Context) (int, error) {
				wall.Sleep(deadline.Add(-tc.left).Sub(wall.Now())) // the downstream answers then
				return 1, nil
			})
			if err != nil {
				t.Fatalf("trial: %v", err)
			}
			if got := call(other, nil); errors.Is(got, ErrOpen) {
				t.Errorf("trial succeeded %v before the caller's deadline; another instance is then rejected: %v (circuit in the Store: %+v)",
					tc.left, got, readCircuit(t, a))
			}
		})
	}
}

// TestWorkBeforeCallBounded is the regression test for pending failures
// flushed before the caller's own call: refresh, inside admit, wrote them
// with the report's budget, StoreTimeout + ConflictBudget or up to 100 ms
// before the caller's deadline, retrying every conflict on a contended
// compare-and-set Store, so that an invocation with 3 s left started its
// downstream call with 100 ms left, for failures of earlier invocations.
// Work before the call is bounded by about a StoreTimeout, without
// retries; what it leaves is written by the report after the call.
func TestWorkBeforeCallBounded(t *testing.T) {
	wall := newWallClock()
	clk := newClock()
	cs := &countingStore{Store: memstore.New()}
	b := New(Settings{Name: "api", Store: slowConflictingStore{Store: cs, wall: wall, delay: 5 * time.Millisecond},
		now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.wall, b.pause = wall.Now, wall.Sleep
	b.keep(0, clk.Now().UnixNano(), 1, 0) // an earlier invocation's failure that the Store did not take

	clk.Advance(2 * time.Second) // the next call reads the Store, and flushes
	start := wall.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(3*time.Second))
	defer cancel()
	var called time.Time
	var getsBefore int64
	Execute(ctx, b, func(context.Context) (int, error) {
		called, getsBefore = wall.Now(), cs.gets.Load()
		return 1, nil
	})
	if held := called.Sub(start); held > b.set.StoreTimeout*2 {
		deadline, _ := ctx.Deadline()
		t.Errorf("the caller's own call started %v after Execute (StoreTimeout %v), %v before its 3 s deadline: flushing earlier failures took its time",
			held, b.set.StoreTimeout, deadline.Sub(called))
	}
	if gets := cs.gets.Load(); gets == getsBefore {
		t.Errorf("no read after the call: the report did not take up the pending failure that the work before the call left")
	}
}
