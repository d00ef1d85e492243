package breaker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

// pendingFailures returns how many failures b keeps pending.
func (b *Breaker) pendingFailures() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, p := range b.pending {
		n += p.n
	}
	return n
}

// slowNextStore applies the next write (an Add or a compare-and-set) and
// then answers only when the caller's context ends: a Store slower than
// StoreTimeout for one call, as dynalite is on a busy machine.
type slowNextStore struct {
	*memstore.Store
	slow atomic.Bool
}

func (s *slowNextStore) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	n, err := s.Store.Add(ctx, key, delta, ttl)
	if err == nil && s.slow.CompareAndSwap(true, false) {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return n, err
}

func (s *slowNextStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	v, err := s.Store.CompareAndSet(ctx, key, version, value, ttl)
	if err == nil && s.slow.CompareAndSwap(true, false) {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return v, err
}

// TestFailuresKeptWhileDegraded is the regression test for failures lost
// after one slow Store call: the breaker went on with process-local state
// until its next read of the Store, one Staleness later, and every failure
// meanwhile (in the shared-state test, whose clock does not move, every
// later failure: 74 and 493 of 600 were lost beside a CPU-bound loop) was
// counted there only. They are kept pending and written when the Store
// answers again, on the instance's next read of it. The write that got no
// answer was applied, and is not written again.
func TestFailuresKeptWhileDegraded(t *testing.T) {
	for _, mode := range []string{"counter", "compare-and-set"} {
		t.Run(mode, func(t *testing.T) {
			clk := newClock()
			s := &slowNextStore{Store: memstore.New()}
			var st store.Store = s
			if mode == "compare-and-set" {
				st = casOnly{s}
			}
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			b := New(Settings{Name: "api", Store: st, now: clk.Now, FailureThreshold: 100, StoreTimeout: 20 * time.Millisecond, Logger: quiet})
			call(b, errDown) // the window starts, one failure stored
			s.slow.Store(true)
			call(b, errDown) // applied, but answered late
			if s.slow.Load() {
				t.Fatal("the store was not asked to answer late")
			}
			for range 5 {
				clk.Advance(100 * time.Millisecond)
				call(b, errDown)
			}
			if got := b.pendingFailures(); got != 5 {
				t.Errorf("%d failures pending while the breaker runs on process-local state, want 5", got)
			}
			clk.Advance(time.Second) // the next call reads the Store again
			b.State(context.Background())
			if n := storedFailures(t, b); n != 7 {
				t.Fatalf("7 failures reported within 0.5 s, one Store call slow: %d in the Store once it answers again, want 7", n)
			}
			if got := b.pendingFailures(); got != 0 {
				t.Errorf("%d failures still pending after the Store answered", got)
			}
		})
	}
}

// downStore fails every call while down is set, writing nothing.
type downStore struct {
	*memstore.Store
	down atomic.Bool
}

func (s *downStore) Get(ctx context.Context, key string) (store.Item, error) {
	if s.down.Load() {
		return store.Item{}, errStoreDown
	}
	return s.Store.Get(ctx, key)
}

func (s *downStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if s.down.Load() {
		return 0, errStoreDown
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

func (s *downStore) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if s.down.Load() {
		return 0, errStoreDown
	}
	return s.Store.Add(ctx, key, delta, ttl)
}

// TestPendingFailuresCountAcrossInstances checks that failures counted
// while the Store was down count, once it answers, with the failures of
// other instances: one instance counts a failure, then two more while the
// Store is down for it; once it reads the Store again, another instance's
// failure is the fourth of the window and opens a threshold-4 circuit, and
// OnStateChange reports it once.
func TestPendingFailuresCountAcrossInstances(t *testing.T) {
	for _, mode := range []string{"counter", "compare-and-set"} {
		t.Run(mode, func(t *testing.T) {
			clk := newClock()
			shared := memstore.New()
			flaky := &downStore{Store: shared}
			var tr transitions
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			s := Settings{Name: "api", now: clk.Now, FailureThreshold: 4, Logger: quiet, OnStateChange: tr.record}
			s.Store = store.Store(flaky)
			if mode == "compare-and-set" {
				s.Store = casOnly{flaky}
			}
			a := New(s)
			s.Store = shared
			if mode == "compare-and-set" {
				s.Store = casOnly{shared}
			}
			other := New(s)

			call(a, errDown)
			flaky.down.Store(true)
			call(a, errDown)
			call(a, errDown)
			if got := a.pendingFailures(); got != 2 {
				t.Errorf("%d failures pending with the Store down, want 2", got)
			}
			flaky.down.Store(false)
			clk.Advance(time.Second)
			a.State(context.Background()) // a's next call reads the Store
			if err := call(other, errDown); err != errDown {
				t.Fatalf("the fourth failure: got %v", err)
			}
			if st := readCircuit(t, other); st.State != Open {
				t.Fatalf("stored circuit %+v after four failures in the window on two instances: want open (threshold 4)", st)
			}
			if got, want := tr.String(), "closed>open"; got != want {
				t.Errorf("OnStateChange saw %q, want %q", got, want)
			}
		})
	}
}

// TestPendingFailuresOfAnEarlierGeneration checks that pending failures of
// calls admitted before the circuit changed state are dropped, as any
// outcome of an earlier generation is: they say nothing of the downstream
// since a trial closed the circuit again.
func TestPendingFailuresOfAnEarlierGeneration(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	flaky := &downStore{Store: shared}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Settings{Name: "api", Store: flaky, now: clk.Now, FailureThreshold: 2, Logger: quiet})
	other := New(Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 2, Logger: quiet})
	flaky.down.Store(true)
	call(a, errDown) // pending, generation 0
	call(other, errDown)
	call(other, errDown) // opens: generation 1
	clk.Advance(5 * time.Minute)
	if err := call(other, nil); err != nil { // a trial closes: generation 2
		t.Fatalf("trial: %v", err)
	}
	flaky.down.Store(false)
	clk.Advance(time.Second)
	a.State(context.Background())
	if got := a.pendingFailures(); got != 0 {
		t.Errorf("%d failures still pending", got)
	}
	call(other, errDown)
	if st := readCircuit(t, other); st.State != Closed {
		t.Fatalf("stored circuit %+v: a failure of generation 0 counted in generation 2", st)
	}
	if err := call(other, errDown); !errors.Is(err, errDown) {
		t.Fatal(err)
	}
	if st := readCircuit(t, other); st.State != Open {
		t.Fatalf("stored circuit %+v after two failures: want open", st)
	}
}
