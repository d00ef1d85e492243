package breaker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

// utc returns c with its times in UTC, to compare with ==.
func utc(c Counts) Counts {
	c.WindowStart, c.OpenedAt = c.WindowStart.UTC(), c.OpenedAt.UTC()
	return c
}

// TestCounts follows a circuit without a Store through its states: Counts
// reports what the breaker keeps, as State reports the state.
func TestCounts(t *testing.T) {
	clk := newClock()
	start := clk.Now()
	b := New(Settings{Name: "counts", now: clk.Now, FailureThreshold: 3, OpenFor: time.Minute})
	ctx := context.Background()
	check := func(step string, want Counts) {
		t.Helper()
		if got := utc(b.Counts(ctx)); got != utc(want) {
			t.Errorf("%s: got %+v, want %+v", step, got, want)
		}
	}
	check("new", Counts{})

	call(b, nil)
	call(b, errDown)
	clk.Advance(time.Second)
	call(b, errDown)
	call(b, errors.New("invalid input"))
	check("two failures", Counts{Failures: 2, WindowStart: start})

	call(b, errDown)
	opened := clk.Now()
	check("open", Counts{State: Open, Generation: 1, OpenedAt: opened})

	clk.Advance(time.Minute)
	check("stand-down over", Counts{State: HalfOpen, Generation: 1, OpenedAt: opened})

	release, started, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		_, err := Execute(ctx, b, func(context.Context) (int, error) {
			close(started)
			<-release
			return 1, nil
		})
		done <- err
	}()
	await(t, started)
	check("trial in flight", Counts{State: HalfOpen, Generation: 2, OpenedAt: opened, Trials: 1})
	clk.Advance(time.Minute) // TrialTimeout: the trial is taken as gone
	check("trial past TrialTimeout", Counts{State: HalfOpen, Generation: 2, OpenedAt: opened})
	close(release)
	if err := await(t, done); err != nil {
		t.Fatalf("trial: %v", err)
	}
	check("trial succeeded", Counts{Generation: 3})
}

// TestCountsShared: with a Store, Counts is the circuit every instance
// shares: the failures of the window that other instances counted, in the
// Store's counter or in the circuit.
func TestCountsShared(t *testing.T) {
	for _, mode := range []string{"counter", "compare-and-set"} {
		t.Run(mode, func(t *testing.T) {
			clk := newClock()
			var shared store.Store = memstore.New()
			if mode == "compare-and-set" {
				shared = casOnly{shared}
			}
			a := New(Settings{Name: "orders", Store: shared, now: clk.Now, FailureThreshold: 5})
			b := New(Settings{Name: "orders", Store: shared, now: clk.Now, FailureThreshold: 5})
			call(a, errDown)
			call(b, errDown)
			call(b, errDown)
			clk.Advance(time.Second) // Staleness: a reads the circuit again
			want := Counts{Failures: 3, WindowStart: clk.Now().Add(-time.Second), Shared: true}
			if got := utc(a.Counts(context.Background())); got != utc(want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// brokenStore fails every call.
type brokenStore struct{ store.Store }

var errBroken = errors.New("store down")

func (brokenStore) Get(context.Context, string) (store.Item, error) { return store.Item{}, errBroken }
func (brokenStore) CompareAndSet(context.Context, string, int64, []byte, time.Duration) (int64, error) {
	return 0, errBroken
}

// TestCountsDegraded: while the Store fails, Counts is this process's view:
// not shared, with the failures the Store does not hold yet pending.
func TestCountsDegraded(t *testing.T) {
	clk := newClock()
	b := New(Settings{Name: "down", Store: brokenStore{}, now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	call(b, errDown)
	call(b, errDown)
	want := Counts{Failures: 2, WindowStart: clk.Now(), Pending: 2}
	if got := utc(b.Counts(context.Background())); got != utc(want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
