package breaker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/store/memstore"
)

// addCounting is a memstore that counts its Adds and compare-and-sets.
type addCounting struct {
	*memstore.Store
	adds, sets atomic.Int64
}

func (s *addCounting) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	s.adds.Add(1)
	return s.Store.Add(ctx, key, delta, ttl)
}

func (s *addCounting) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	s.sets.Add(1)
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestFailuresCountedWithAdd checks that a breaker counts failures with the
// Store's Add when the Store is a store.Counter: failures within one window
// are Adds, and only the window's start is a compare-and-set. Without it,
// a breaker that stopped using Add would pass every other test.
func TestFailuresCountedWithAdd(t *testing.T) {
	clk := newClock()
	s := &addCounting{Store: memstore.New()}
	b := New(Settings{Name: "api", Store: s, now: clk.Now, FailureThreshold: 10})
	for range 5 {
		call(b, errDown)
	}
	if a, c := s.adds.Load(), s.sets.Load(); a != 5 || c != 1 {
		t.Fatalf("5 failures in one window: %d Adds and %d compare-and-sets, want 5 and 1", a, c)
	}
}

// TestMixedFleetCounts is the regression test for failures lost between
// instances that share a circuit but count failures differently: one
// counts in a Store counter, the other (the release before counters, or an
// instance whose Store is not a store.Counter or whose Add is unsupported,
// such as dynamostore on a Client without UpdateItem) in the circuit's
// Failures by compare-and-set. The counter was ignored by the one, the
// circuit's count by the other, and the compare-and-set count restarted the
// window, moving the counter's key, whenever the circuit's count was 0:
// during a rolling deploy, four failures within the window left a
// threshold-3 circuit closed.
func TestMixedFleetCounts(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	s := Settings{Name: "api", now: clk.Now} // FailureThreshold 3, Window 5 min
	s.Store = shared
	counting := New(s)
	s.Store = casOnly{shared}
	comparing := New(s)

	call(counting, errDown)
	call(counting, errDown)
	clk.Advance(time.Second)
	call(comparing, errDown)
	clk.Advance(time.Second)
	call(counting, errDown)
	clk.Advance(time.Second)
	st := readCircuit(t, counting)
	if st.State != Open || counting.State(context.Background()) != Open {
		t.Fatalf("four failures within a minute across two instances: stored circuit %+v, want open (threshold 3)", st)
	}
}

// TestMixedFleetThresholdOnComparingInstance is the regression test for a
// threshold crossed by an instance that counts by compare-and-set (a Store
// that is not a store.Counter, such as a wrapper that does not forward Add,
// or dynamostore on a Client without UpdateItem): it sees only the
// circuit's own count, not the counter of the instances that count with
// Add, and its failure, the third of a threshold-3 window, left the circuit
// closed for good. It cannot open the circuit itself; the next instance
// that counts with Add and reads the circuit finds the count grown, checks
// the sum, and opens it.
func TestMixedFleetThresholdOnComparingInstance(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	s := Settings{Name: "api", now: clk.Now} // FailureThreshold 3, Window 5 min
	s.Store = shared
	counting := New(s)
	s.Store = casOnly{shared}
	comparing := New(s)

	call(counting, errDown)
	call(counting, errDown)
	clk.Advance(time.Second)
	call(comparing, errDown) // the third failure within the window
	if st := readCircuit(t, counting); st.State != Closed {
		t.Fatalf("stored circuit %+v: the comparing instance cannot see the counter", st)
	}
	clk.Advance(time.Second)
	if got := counting.State(context.Background()); got != Open {
		t.Errorf("the counting instance's next read: got %v, want open", got)
	}
	if st := readCircuit(t, counting); st.State != Open || comparing.State(context.Background()) != Open {
		t.Fatalf("three failures within two seconds across two instances: stored circuit %+v, want open (threshold 3)", st)
	}
}
