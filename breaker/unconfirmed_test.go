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

// lateReplyStore applies the next compare-and-set it gets and then answers
// only when the caller's context ends: a Store that is slow to reply (or
// whose reply is lost), although the write was applied.
type lateReplyStore struct {
	store.Store
	late atomic.Bool
}

func (s *lateReplyStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	v, err := s.Store.CompareAndSet(ctx, key, version, value, ttl)
	if err == nil && s.late.CompareAndSwap(true, false) {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return v, err
}

// failNextStore fails the next compare-and-set it gets, without writing.
type failNextStore struct {
	store.Store
	fail atomic.Bool
}

func (s *failNextStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if s.fail.CompareAndSwap(true, false) {
		return 0, errors.New("store: connection reset")
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestSlowTrialWriteSettled is the regression test for a ghost trial slot
// left by a slow Store: the write that takes a trial slot is applied but
// answers after StoreTimeout. The breaker falls back to process-local state
// and runs the trial there; the trial succeeds and closes the local
// circuit, but the Store kept the slot, and every other instance, and this
// one once the Store answered again, was rejected with ErrTrialLimit for
// TrialTimeout (1 minute) though the downstream was well and its trial had
// succeeded.
func TestSlowTrialWriteSettled(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	slow := &lateReplyStore{Store: shared}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Settings{Name: "api", Store: slow, now: clk.Now, FailureThreshold: 1, StoreTimeout: 50 * time.Millisecond, Logger: quiet})
	other := New(Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 1, StoreTimeout: 50 * time.Millisecond, Logger: quiet})
	call(a, errDown)
	clk.Advance(5 * time.Minute)

	slow.late.Store(true)
	if err := call(a, nil); err != nil {
		t.Fatalf("trial: got %v, want it admitted", err)
	}
	if slow.late.Load() {
		t.Fatal("the store was not asked to answer late")
	}
	clk.Advance(time.Second) // past the staleness
	if err := call(other, nil); err != nil {
		t.Errorf("another instance after a successful trial: got %v, want the call let through", err)
	}
	if err := call(a, nil); err != nil {
		t.Errorf("the trial's own instance once the Store answers again: got %v, want the call let through", err)
	}
}

// TestFailedTrialWriteSettled is the regression test for a trial slot left
// by a failed write: the trial succeeds, but the write that closes the
// circuit fails once. The breaker closed its local copy; the Store kept
// the circuit half-open with the finished trial's slot, and every instance
// was rejected for TrialTimeout.
func TestFailedTrialWriteSettled(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	flaky := &failNextStore{Store: shared}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var tr transitions
	a := New(Settings{Name: "api", Store: flaky, now: clk.Now, FailureThreshold: 1, Logger: quiet, OnStateChange: tr.record})
	other := New(Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 1, Logger: quiet})
	call(a, errDown)
	clk.Advance(5 * time.Minute)
	_, err := Execute(context.Background(), a, func(context.Context) (int, error) {
		flaky.fail.Store(true) // the write of the trial's outcome fails
		return 1, nil
	})
	if err != nil {
		t.Fatalf("trial: %v", err)
	}
	clk.Advance(time.Second)
	if err := call(other, nil); err != nil {
		t.Errorf("another instance after a successful trial: got %v, want the call let through", err)
	}
	clk.Advance(2 * time.Second)
	if err := call(a, nil); err != nil {
		t.Errorf("the trial's own instance once the Store answers again: got %v, want the call let through", err)
	}
	// The close was reported when it was made locally, and not again
	// when it was settled in the Store.
	if got, want := tr.String(), "closed>open open>half-open half-open>closed"; got != want {
		t.Errorf("OnStateChange saw %q, want %q", got, want)
	}
}

// TestMisreportedWriteReportsStateChange is the regression test for a
// state change that no instance reported: a Store reported an applied
// write as a conflict (as a store may when a reply was lost and its client
// sent the write again); the breaker read the circuit again, found it moved
// on, and did not call OnStateChange, although every state change is
// reported by exactly one instance.
func TestMisreportedWriteReportsStateChange(t *testing.T) {
	clk := newClock()
	shared := &misreportingStore{Store: memstore.New()}
	var tr transitions
	b := New(Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 1, OnStateChange: tr.record})
	call(b, errDown)
	clk.Advance(5 * time.Minute)
	if _, err := Execute(context.Background(), b, func(context.Context) (int, error) {
		shared.misreport.Store(true) // the write that closes the circuit
		return 1, nil
	}); err != nil {
		t.Fatal(err)
	}
	if st := readCircuit(t, b); st.State != Closed {
		t.Fatalf("stored state %v, want closed", st.State)
	}
	if got, want := tr.String(), "closed>open open>half-open half-open>closed"; got != want {
		t.Errorf("OnStateChange saw %q, want %q", got, want)
	}
}

// TestTrialSettledWhenStoreReturns checks that a trial outcome the Store
// could not take, neither when the trial reported nor at once after, is
// written when the Store answers again: the breaker's next read of the
// Store settles it, and the other instances see the circuit closed.
func TestTrialSettledWhenStoreReturns(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	down := &countingStore{Store: shared}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Settings{Name: "api", Store: down, now: clk.Now, FailureThreshold: 1, Logger: quiet})
	other := New(Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 1, Logger: quiet})
	call(a, errDown)
	clk.Advance(5 * time.Minute)
	if _, err := Execute(context.Background(), a, func(context.Context) (int, error) {
		down.fail.Store(true) // the Store goes down during the trial
		return 1, nil
	}); err != nil {
		t.Fatalf("trial: %v", err)
	}
	if st := readCircuit(t, other); st.State != HalfOpen || len(st.Trials) != 1 {
		t.Fatalf("stored circuit %+v while the Store was down: want the trial's slot still held", st)
	}
	down.fail.Store(false)
	clk.Advance(2 * time.Second) // past the staleness: a reads the Store again
	if err := call(a, nil); err != nil {
		t.Fatalf("the trial's own instance once the Store answers again: got %v", err)
	}
	clk.Advance(time.Second)
	if err := call(other, nil); err != nil {
		t.Errorf("another instance after the trial's outcome was settled: got %v, want the call let through", err)
	}
	if st := readCircuit(t, other); st.State != Closed {
		t.Errorf("stored circuit %+v, want closed", st)
	}
}

// TestTrialSettledAfterDegradedDuringTrial is the regression test for a
// ghost slot left by a trial that succeeded while the breaker ran on
// process-local state: the trial's slot was taken in the Store (the write
// confirmed), then another call on the same instance found the Store down
// for a moment. The Store was back before the trial ended; the trial's
// success went to process-local state only, and, since no write of it had
// gone unanswered, it was not remembered: the Store kept the slot, and
// every instance was rejected with ErrTrialLimit for TrialTimeout though
// the downstream was well.
func TestTrialSettledAfterDegradedDuringTrial(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	flaky := &countingStore{Store: shared}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Settings{Name: "api", Store: flaky, now: clk.Now, FailureThreshold: 1, Logger: quiet})
	other := New(Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 1, Logger: quiet})
	call(a, errDown)
	clk.Advance(5 * time.Minute)

	if _, err := Execute(context.Background(), a, func(context.Context) (int, error) {
		// A concurrent call on this instance (played here in sequence)
		// reads the Store while it is down.
		flaky.fail.Store(true)
		clk.Advance(2 * time.Second)
		a.State(context.Background())
		flaky.fail.Store(false) // back before the trial ends
		return 1, nil
	}); err != nil {
		t.Fatalf("trial: %v", err)
	}
	clk.Advance(2 * time.Second)
	if err := call(other, nil); err != nil {
		t.Errorf("another instance after a successful trial: got %v, want the call let through", err)
	}
	if err := call(a, nil); err != nil {
		t.Errorf("the trial's own instance once the Store answers again: got %v, want the call let through", err)
	}
	if st := readCircuit(t, other); st.State != Closed {
		t.Errorf("stored circuit %+v 4 s after a successful trial: want closed", st)
	}
}

// failGetsStore fails every Get while fail is set; writes go through.
type failGetsStore struct {
	countingStore
}

func (s *failGetsStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	return s.countingStore.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestTrialSettledAfterConflictAndFailedRead is the regression test for the
// same ghost slot, single-threaded: the write of a successful trial's
// outcome conflicted (another instance took the second trial slot
// meanwhile), and the read that follows failed once. The outcome went to
// process-local state only, unremembered, and the Store kept the finished
// trial's slot.
func TestTrialSettledAfterConflictAndFailedRead(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	flaky := &failGetsStore{countingStore{Store: shared}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := Settings{Name: "api", now: clk.Now, FailureThreshold: 1, MaxTrials: 2, Logger: quiet}
	s.Store = flaky
	a := New(s)
	s.Store = shared
	other, third := New(s), New(s)
	call(a, errDown)
	clk.Advance(5 * time.Minute)

	if _, err := Execute(context.Background(), a, func(context.Context) (int, error) {
		if _, err := other.admit(context.Background()); err != nil { // a second trial, still running
			t.Fatalf("second trial: %v", err)
		}
		flaky.fail.Store(true) // the read after the conflict fails
		return 1, nil
	}); err != nil {
		t.Fatalf("trial: %v", err)
	}
	flaky.fail.Store(false)
	clk.Advance(2 * time.Second)
	call(a, nil) // a reads the Store again: the time to settle what it knows
	clk.Advance(2 * time.Second)
	if err := call(third, nil); err != nil {
		t.Errorf("a third instance after a successful trial: got %v, want the call let through", err)
	}
	if st := readCircuit(t, third); st.State != Closed {
		t.Errorf("stored circuit %+v after a successful trial: want closed", st)
	}
}

// cancelOnMisreportStore applies the next compare-and-set, reports it as a
// conflict (a reply lost and the write sent again, as the package doc
// allows a Store to do), and cancels the caller's context meanwhile.
type cancelOnMisreportStore struct {
	store.Store
	cancel context.CancelFunc
}

func (s *cancelOnMisreportStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	v, err := s.Store.CompareAndSet(ctx, key, version, value, ttl)
	if err == nil && s.cancel != nil {
		s.cancel()
		s.cancel = nil
		return 0, store.ErrConflict
	}
	return v, err
}

// TestAdmissionCutOffAfterMisreportedWrite is the regression test for a
// ghost slot left by an admission: the write that takes a trial slot was
// applied but reported as a conflict, and the caller's context ended
// meanwhile. The admission returned at once, before the read that would
// have found the breaker's own trial in the circuit, and remembered
// nothing, since no write had gone unanswered: the Store kept the slot of a
// trial that never ran, and every instance was rejected for TrialTimeout.
func TestAdmissionCutOffAfterMisreportedWrite(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	s := &cancelOnMisreportStore{Store: shared}
	a := New(Settings{Name: "api", Store: s, now: clk.Now, FailureThreshold: 1})
	other := New(Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 1})
	call(a, errDown)
	clk.Advance(5 * time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.cancel = cancel
	ran := false
	if _, err := Execute(ctx, a, func(context.Context) (int, error) { ran = true; return 1, nil }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("admission whose caller left: got %v, ran %v; want context.Canceled, not run", err, ran)
	}
	clk.Advance(2 * time.Second)
	call(a, nil) // a reads the Store again: the time to settle what it knows
	clk.Advance(2 * time.Second)
	if err := call(other, nil); err != nil {
		t.Errorf("another instance after a trial that never ran: got %v, want a trial let through", err)
	}
}
