package breaker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// statusErr is a downstream's answer of that status, as an error.
type statusErr int

func (e statusErr) Error() string         { return fmt.Sprintf("status %d", int(e)) }
func (e statusErr) DownstreamStatus() int { return int(e) }

// answerErr is an error that chooses the status of funcify's own HTTP
// answer, and says nothing of the downstream's.
type answerErr int

func (e answerErr) Error() string   { return fmt.Sprintf("answer %d", int(e)) }
func (e answerErr) HTTPStatus() int { return int(e) }

// answerAround is an answer status around the error of a downstream.
type answerAround struct {
	answerErr
	err error
}

func (e answerAround) Unwrap() error { return e.err }

var errDown = statusErr(503)

func call(b *Breaker, err error) error {
	_, got := Execute(context.Background(), b, func(context.Context) (int, error) { return 1, err })
	return got
}

// transitions records OnStateChange calls.
type transitions struct {
	mu   sync.Mutex
	seen []string
}

func (tr *transitions) record(name string, from, to State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.seen = append(tr.seen, from.String()+">"+to.String())
}

func (tr *transitions) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return strings.Join(tr.seen, " ")
}

func TestDefaults(t *testing.T) {
	clk := newClock()
	var tr transitions
	b := New(Settings{Name: "x", now: clk.Now, OnStateChange: tr.record})
	ctx := context.Background()

	for i := range 2 {
		if err := call(b, errDown); err != errDown {
			t.Fatalf("failure %d: got %v", i, err)
		}
	}
	if s := b.State(ctx); s != Closed {
		t.Fatalf("after 2 failures: got %v, want closed", s)
	}
	if err := call(b, errDown); err != errDown {
		t.Fatal(err)
	}
	if s := b.State(ctx); s != Open {
		t.Fatalf("after 3 failures: got %v, want open", s)
	}
	ran := false
	_, err := Execute(ctx, b, func(context.Context) (int, error) { ran = true; return 0, nil })
	if !errors.Is(err, ErrOpen) || ran {
		t.Fatalf("open circuit: got %v, ran %v", err, ran)
	}
	clk.Advance(5*time.Minute - time.Nanosecond)
	if err := call(b, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("a nanosecond before the stand-down ends: got %v", err)
	}
	clk.Advance(time.Nanosecond)
	if s := b.State(ctx); s != HalfOpen {
		t.Fatalf("after the stand-down: got %v, want half-open", s)
	}
	if err := call(b, nil); err != nil {
		t.Fatalf("trial: %v", err)
	}
	if s := b.State(ctx); s != Closed {
		t.Fatalf("after a successful trial: got %v", s)
	}
	if got, want := tr.String(), "closed>open open>half-open half-open>closed"; got != want {
		t.Errorf("got transitions %q, want %q", got, want)
	}
}

func TestWindow(t *testing.T) {
	clk := newClock()
	b := New(Settings{now: clk.Now})
	call(b, errDown)
	call(b, errDown)
	clk.Advance(5*time.Minute + time.Second) // the window has passed
	call(b, errDown)
	if s := b.State(context.Background()); s != Closed {
		t.Fatalf("failures spread over more than the window: got %v, want closed", s)
	}
	clk.Advance(time.Minute)
	call(b, errDown)
	call(b, errDown)
	if s := b.State(context.Background()); s != Open {
		t.Fatalf("three failures within the window: got %v, want open", s)
	}
}

func TestSuccessesDoNotResetTheWindow(t *testing.T) {
	b := New(Settings{now: newClock().Now})
	for range 2 {
		call(b, errDown)
		call(b, nil)
	}
	call(b, errDown)
	if s := b.State(context.Background()); s != Open {
		t.Fatalf("got %v, want open: 3 failures within 5 minutes", s)
	}
}

func TestTrialFailureReopens(t *testing.T) {
	clk := newClock()
	var tr transitions
	b := New(Settings{now: clk.Now, FailureThreshold: 1, OnStateChange: tr.record})
	call(b, errDown)
	clk.Advance(5 * time.Minute)
	if err := call(b, errDown); err != errDown {
		t.Fatalf("trial: got %v", err)
	}
	if s := b.State(context.Background()); s != Open {
		t.Fatalf("after a failed trial: got %v, want open", s)
	}
	// The stand-down starts again from the failed trial.
	clk.Advance(5*time.Minute - time.Second)
	if err := call(b, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("within the new stand-down: got %v", err)
	}
	if got, want := tr.String(), "closed>open open>half-open half-open>open"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestHalfOpenBounded is the regression test for breakers whose half-open
// state admits every call.
func TestHalfOpenBounded(t *testing.T) {
	for _, maxTrials := range []int{1, 3} {
		t.Run(fmt.Sprint(maxTrials), func(t *testing.T) {
			clk := newClock()
			b := New(Settings{now: clk.Now, FailureThreshold: 1, MaxTrials: maxTrials})
			call(b, errDown)
			clk.Advance(5 * time.Minute)

			// Hold maxTrials trials in flight. Each reports on admitted
			// when its call runs, or its error when it was rejected, so
			// that a wrongly rejected trial fails the test instead of
			// leaving it waiting forever.
			release := make(chan struct{})
			var releaseOnce sync.Once
			unblock := func() { releaseOnce.Do(func() { close(release) }) }
			var wg sync.WaitGroup
			defer wg.Wait()
			defer unblock()
			admitted := make(chan error, maxTrials)
			for range maxTrials {
				wg.Go(func() {
					_, err := Execute(context.Background(), b, func(context.Context) (int, error) {
						admitted <- nil
						<-release
						return 0, nil
					})
					if err != nil {
						admitted <- err
					}
				})
			}
			for i := range maxTrials {
				if err := await(t, admitted); err != nil {
					t.Fatalf("trial %d of %d: got %v, want it admitted", i+1, maxTrials, err)
				}
			}
			for range 5 {
				if err := call(b, nil); !errors.Is(err, ErrTrialLimit) || !errors.Is(err, ErrOpen) {
					t.Fatalf("call beyond %d trials: got %v, want ErrTrialLimit", maxTrials, err)
				}
			}
			unblock()
			wg.Wait()
			if s := b.State(context.Background()); s != Closed {
				t.Fatalf("after successful trials: got %v", s)
			}
		})
	}
}

// await returns the next value on ch, or fails the test if none comes
// within 10 seconds: a bound against hanging, far above any wait a correct
// breaker causes.
func await[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatal("nothing came within 10s")
		var zero T
		return zero
	}
}

// TestStuckTrial is the regression test for a half-open circuit stuck
// forever behind a trial that never reports back.
func TestStuckTrial(t *testing.T) {
	clk := newClock()
	b := New(Settings{now: clk.Now, FailureThreshold: 1})
	call(b, errDown)
	clk.Advance(5 * time.Minute)
	// Take the one trial slot and never report.
	if _, err := b.admit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := call(b, nil); !errors.Is(err, ErrTrialLimit) {
		t.Fatalf("slot taken: got %v", err)
	}
	clk.Advance(time.Minute)
	if err := call(b, nil); err != nil {
		t.Fatalf("after the trial timeout: got %v, want a new trial", err)
	}
	if s := b.State(context.Background()); s != Closed {
		t.Fatalf("got %v", s)
	}
}

// TestStaleGeneration is the regression test for outcomes of calls admitted
// before a state change changing the new state.
func TestStaleGeneration(t *testing.T) {
	clk := newClock()
	b := New(Settings{now: clk.Now})
	ctx := context.Background()

	slow, err := b.admit(ctx) // admitted while closed, generation 0
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		call(b, errDown)
	}
	clk.Advance(5 * time.Minute)
	call(b, nil) // trial closes the circuit: a later generation
	b.report(ctx, slow, failed)
	b.report(ctx, slow, failed)
	b.report(ctx, slow, failed)
	if s := b.State(ctx); s != Closed {
		t.Fatalf("stale failures re-opened the circuit: %v", s)
	}
	if f := b.st.Failures; f != 0 {
		t.Fatalf("stale failures were counted: %d", f)
	}

	// A stale trial outcome cannot close a circuit that re-opened.
	for range 3 {
		call(b, errDown)
	}
	clk.Advance(5 * time.Minute)
	trialTicket, err := b.admit(ctx)
	if err != nil || trialTicket.trial == 0 {
		t.Fatalf("trial: %+v %v", trialTicket, err)
	}
	clk.Advance(time.Minute) // the trial times out
	if err := call(b, errDown); err != errDown {
		t.Fatalf("second trial: %v", err)
	}
	b.report(ctx, trialTicket, succeeded) // the first trial finally succeeds
	if s := b.State(ctx); s != Open {
		t.Fatalf("a stale trial closed the circuit: %v", s)
	}
}

// TestCountsResetOnStateChange is the regression test for failure counts
// that survive a state change.
func TestCountsResetOnStateChange(t *testing.T) {
	clk := newClock()
	b := New(Settings{now: clk.Now})
	for range 3 {
		call(b, errDown)
	}
	clk.Advance(5 * time.Minute)
	call(b, nil)
	call(b, errDown)
	call(b, errDown)
	if s := b.State(context.Background()); s != Closed {
		t.Fatalf("two failures after closing: got %v, want closed", s)
	}
}

// TestPanicCounts is the regression test for panics not counted.
func TestPanicCounts(t *testing.T) {
	b := New(Settings{now: newClock().Now})
	for i := range 3 {
		func() {
			defer func() {
				if v := recover(); v != "boom" {
					t.Fatalf("panic %d: recovered %v, want the panic re-raised", i, v)
				}
			}()
			Execute(context.Background(), b, func(context.Context) (int, error) { panic("boom") })
		}()
	}
	if s := b.State(context.Background()); s != Open {
		t.Fatalf("three panics: got %v, want open", s)
	}
}

// TestClassification is the regression test for 4xx counted as failures.
func TestClassification(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &osSyscallErr{syscall.ECONNREFUSED}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"500", statusErr(500), true},
		{"503 wrapped", fmt.Errorf("get: %w", statusErr(503)), true},
		{"400", statusErr(400), false},
		{"404", statusErr(404), false},
		{"429", statusErr(429), false},
		{"deadline", context.DeadlineExceeded, true},
		{"canceled", context.Canceled, false},
		{"refused", refused, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"dns", &net.DNSError{Err: "no such host", Name: "x"}, true},
		{"timeout", timeoutErr{}, true},
		{"plain", errors.New("bad input"), false},
		// HTTPStatus is the answer funcify's own caller gets, not the
		// downstream's status: it says nothing of the downstream.
		{"answer 503 only", answerErr(503), false},
		{"answer 503 around a downstream 404", answerAround{answerErr(503), statusErr(404)}, false},
		{"answer 502 around a downstream 503", answerAround{answerErr(502), statusErr(503)}, true},
		{"another breaker's ErrOpen", fmt.Errorf("inner: %w", ErrOpen), false},
	}
	for _, tt := range tests {
		if got := IsDownstreamFailure(tt.err); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}

	b := New(Settings{now: newClock().Now})
	for range 10 {
		call(b, statusErr(404))
		call(b, errors.New("bad input"))
	}
	if s := b.State(context.Background()); s != Closed {
		t.Fatalf("4xx answers opened the circuit: %v", s)
	}
}

type osSyscallErr struct{ errno syscall.Errno }

func (e *osSyscallErr) Error() string { return e.errno.Error() }
func (e *osSyscallErr) Unwrap() error { return e.errno }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestCallerContextNotCounted(t *testing.T) {
	b := New(Settings{now: newClock().Now, FailureThreshold: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Execute(ctx, b, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	Execute(ctx, b, func(ctx context.Context) (int, error) { return 0, fmt.Errorf("call: %w", ctx.Err()) })
	if s := b.State(context.Background()); s != Closed {
		t.Fatalf("the caller's own cancellation opened the circuit: %v", s)
	}
}

func TestCustomClassifier(t *testing.T) {
	errTeapot := errors.New("teapot")
	b := New(Settings{now: newClock().Now, FailureThreshold: 1, IsFailure: func(err error) bool { return err == errTeapot }})
	call(b, errDown)
	if s := b.State(context.Background()); s != Closed {
		t.Fatal("a 503 counted despite the classifier")
	}
	call(b, errTeapot)
	if s := b.State(context.Background()); s != Open {
		t.Fatal("the classified error did not count")
	}
}

// countingStore counts the calls made to a store, and can fail them.
type countingStore struct {
	store.Store
	gets, sets atomic.Int64
	fail       atomic.Bool
}

var errStoreDown = errors.New("store down")

func (s *countingStore) Get(ctx context.Context, key string) (store.Item, error) {
	s.gets.Add(1)
	if s.fail.Load() {
		return store.Item{}, errStoreDown
	}
	return s.Store.Get(ctx, key)
}

func (s *countingStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	s.sets.Add(1)
	if s.fail.Load() {
		return 0, errStoreDown
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

func TestSharedStoreReads(t *testing.T) {
	clk := newClock()
	cs := &countingStore{Store: memstore.New()}
	b := New(Settings{Name: "s", Store: cs, now: clk.Now, Staleness: time.Second})
	for range 100 {
		call(b, nil)
	}
	if g, s := cs.gets.Load(), cs.sets.Load(); g != 1 || s != 0 {
		t.Fatalf("100 successes within the staleness: got %d reads and %d writes, want 1 and 0", g, s)
	}
	clk.Advance(time.Second)
	call(b, nil)
	if g := cs.gets.Load(); g != 2 {
		t.Fatalf("after the staleness: got %d reads, want 2", g)
	}
	call(b, errDown)
	if g, s := cs.gets.Load(), cs.sets.Load(); g != 2 || s != 1 {
		t.Fatalf("a failure: got %d reads and %d writes, want 2 and 1", g, s)
	}
}

func TestSharedAcrossInstances(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	var tr transitions
	b1 := New(Settings{Name: "api", Store: shared, now: clk.Now, OnStateChange: tr.record})
	b2 := New(Settings{Name: "api", Store: shared, now: clk.Now, OnStateChange: tr.record})
	other := New(Settings{Name: "other", Store: shared, now: clk.Now})
	call(b1, errDown)
	call(b2, errDown)
	call(b1, errDown)
	clk.Advance(time.Second) // b2's copy is stale now
	if err := call(b2, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("the second instance: got %v, want ErrOpen", err)
	}
	if err := call(other, nil); err != nil {
		t.Fatalf("another circuit on the same store: %v", err)
	}
	if got := tr.String(); got != "closed>open" {
		t.Fatalf("got transitions %q", got)
	}
}

func TestStoreOutage(t *testing.T) {
	clk := newClock()
	cs := &countingStore{Store: memstore.New()}
	var logs bytes.Buffer
	b := New(Settings{Name: "api", Store: cs, now: clk.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	cs.fail.Store(true)
	ran := 0
	for range 5 {
		clk.Advance(2 * time.Second)
		Execute(context.Background(), b, func(context.Context) (int, error) { ran++; return 0, nil })
	}
	if ran != 5 {
		t.Fatalf("calls ran %d times of 5 with the store down", ran)
	}
	// Failures still count, locally.
	for range 3 {
		call(b, errDown)
	}
	if err := call(b, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("local state: got %v, want ErrOpen", err)
	}
	if n := strings.Count(logs.String(), "store unavailable"); n != 1 {
		t.Fatalf("got %d fallback lines, want 1:\n%s", n, logs.String())
	}
	cs.fail.Store(false)
	clk.Advance(2 * time.Second)
	call(b, nil)
	if !strings.Contains(logs.String(), "store reachable again") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

// TestConcurrentOutcomes has 8 breakers sharing one store report 1,000
// outcomes at once: every failure must be counted, none lost.
func TestConcurrentOutcomes(t *testing.T) {
	shared := memstore.New()
	RunSharedStateTest(t, func(t *testing.T) store.Store { return shared })
}

// failOnceStore fails its at-th call (a Get, a compare-and-set or an Add)
// with an error, without passing it on: a Store client that drops one
// request, after which its breaker runs on process-local state until its
// next read of the Store.
type failOnceStore struct {
	store.Store
	at    int64
	calls atomic.Int64
}

func (s *failOnceStore) fail() bool { return s.calls.Add(1) == s.at }

func (s *failOnceStore) Get(ctx context.Context, key string) (store.Item, error) {
	if s.fail() {
		return store.Item{}, errStoreDown
	}
	return s.Store.Get(ctx, key)
}

func (s *failOnceStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if s.fail() {
		return 0, errStoreDown
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

func (s *failOnceStore) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if s.fail() {
		return 0, errStoreDown
	}
	return s.Store.(store.Counter).Add(ctx, key, delta, ttl)
}

// TestConcurrentOutcomesDegraded is TestConcurrentOutcomes with every
// instance's Store client dropping one request early in the burst: every
// instance then counts its later failures in process-local state, and
// must write them to the Store on its next invocation, so that the stored
// count is still exactly the failures reported.
func TestConcurrentOutcomesDegraded(t *testing.T) {
	shared := memstore.New()
	var clients []*failOnceStore
	var mu sync.Mutex
	RunSharedStateTest(t, func(t *testing.T) store.Store {
		c := &failOnceStore{Store: shared, at: 10}
		mu.Lock()
		clients = append(clients, c)
		mu.Unlock()
		return c
	})
	for i, c := range clients {
		if c.calls.Load() < c.at {
			t.Errorf("client %d: the store was not asked to fail (%d calls)", i, c.calls.Load())
		}
	}
}

// casOnly hides the store.Counter of a Store: the breaker then counts
// failures by compare-and-set.
type casOnly struct{ store.Store }

// RunSharedStateTest is the shared-state test, run here on memstore and by
// the integration tests on Redis and DynamoDB: 8 breakers with the default
// settings report 125 outcomes each, 75 of them failures, all at once. The
// failures stored must be exactly the 600 reported, and the threshold
// crossed from every instance at once must open the circuit exactly once.
// It runs twice: with the Store as it is (a store.Counter: failures are
// added to a counter), and with compare-and-set only, where every failure
// is a compare-and-set that conflicts with the other instances'.
//
// newStore returns a client of the shared store; it is called once per
// breaker instance, so each has a client of its own, as separate Lambdas
// would.
func RunSharedStateTest(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, mode := range []string{"counter", "compare-and-set"} {
		t.Run(mode, func(t *testing.T) {
			runSharedState(t, func(t *testing.T) store.Store {
				s := newStore(t)
				if mode == "compare-and-set" {
					return casOnly{s}
				}
				if _, ok := s.(store.Counter); !ok {
					t.Fatalf("%T is not a store.Counter", s)
				}
				return s
			})
		})
	}
}

func runSharedState(t *testing.T, newStore func(t *testing.T) store.Store) {
	const instances, each, failuresEach = 8, 125, 75
	const failures = instances * failuresEach
	clk := newClock()
	name := fmt.Sprintf("shared-%d", time.Now().UnixNano())

	var breakers []*Breaker
	var changes atomic.Int64
	var logs syncBuffer
	for range instances {
		breakers = append(breakers, New(Settings{
			// StoreTimeout and ConflictBudget are the defaults, which
			// users get: a lost failure must be impossible with them.
			Name: name, Store: newStore(t), now: clk.Now,
			FailureThreshold: failures + 1, // above the failures reported
			OnStateChange:    func(string, State, State) { changes.Add(1) },
			Logger:           slog.New(slog.NewJSONHandler(&logs, nil)),
		}))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range instances {
		wg.Go(func() {
			<-start
			for j := range each {
				var err error
				if j%5 < 3 {
					err = errDown
				}
				if got := call(breakers[i], err); got != err {
					t.Errorf("instance %d, call %d: got %v", i, j, got)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	nextInvocations(t, clk, breakers)
	st := readCircuit(t, breakers[0])
	if n := storedFailures(t, breakers[0]); n != failures || st.State != Closed {
		t.Fatalf("stored circuit %+v with %d failures: want exactly %d failures, closed\n%s", st, n, failures, logs.String())
	}
	if changes.Load() != 0 {
		t.Fatalf("%d state changes below the threshold", changes.Load())
	}

	// Now cross the threshold from every instance at once.
	start = make(chan struct{})
	for i := range instances {
		wg.Go(func() {
			<-start
			call(breakers[i], errDown)
		})
	}
	close(start)
	wg.Wait()
	nextInvocations(t, clk, breakers)
	if st := readCircuit(t, breakers[0]); st.State != Open {
		t.Fatalf("stored circuit %+v: want open", st)
	}
	if n := changes.Load(); n != 1 {
		t.Fatalf("OnStateChange fired %d times across the instances, want once", n)
	}
	// A Store call slower than StoreTimeout (dynalite on a busy machine)
	// sends an instance to process-local state until its next read, and
	// that is logged; nothing else may be.
	for line := range strings.Lines(logs.String()) {
		var l struct{ Msg string }
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.Msg != "breaker: store unavailable, using process-local state" && l.Msg != "breaker: store reachable again" {
			t.Errorf("logged:\n%s", logs.String())
			break
		}
	}
}

// nextInvocations makes the next invocation of each instance, once its copy
// of the circuit is stale, as many times as it takes (at most 5) for every
// instance to have written the failures it could not write before: those
// are written when the Store answers again, on the instance's next read of
// it. The shared-state test's clock does not move while its instances
// report, so without this an instance that a slow Store call sent to
// process-local state would never read the Store again.
func nextInvocations(t *testing.T, clk *clock, breakers []*Breaker) {
	for round := range 5 {
		degraded, pending := 0, 0
		for _, b := range breakers {
			b.mu.Lock()
			if b.degraded {
				degraded++
			}
			for _, p := range b.pending {
				pending += p.n
			}
			b.mu.Unlock()
		}
		if degraded == 0 && pending == 0 {
			return
		}
		t.Logf("round %d: %d instances on process-local state, %d failures pending", round, degraded, pending)
		clk.Advance(time.Second) // the default Staleness
		for _, b := range breakers {
			b.State(context.Background())
		}
	}
}

// readCircuit reads the circuit b shares from its store.
func readCircuit(t *testing.T, b *Breaker) circuit {
	t.Helper()
	it, err := b.set.Store.Get(context.Background(), b.key)
	if err != nil {
		t.Fatal(err)
	}
	var c circuit
	if err := json.Unmarshal(it.Value, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// storedFailures returns the failures that the store holds for the window
// of b's circuit: the counter's, when b counts with the Store's Add, and
// the circuit's own count otherwise.
func storedFailures(t *testing.T, b *Breaker) int64 {
	t.Helper()
	c := readCircuit(t, b)
	if b.counter == nil {
		return int64(c.Failures)
	}
	if c.WindowStart == 0 {
		return 0
	}
	n, err := b.counter.Add(context.Background(), b.countKey(c.Generation, c.WindowStart), 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return n + int64(c.Failures)
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Closed: "closed", Open: "open", HalfOpen: "half-open", State(9): "state(9)"} {
		if got := s.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func BenchmarkExecute(b *testing.B) {
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	b.Run("local", func(b *testing.B) {
		br := New(Settings{Name: "bench"})
		b.ReportAllocs()
		for b.Loop() {
			Execute(ctx, br, fn)
		}
	})
	b.Run("shared", func(b *testing.B) {
		br := New(Settings{Name: "bench", Store: memstore.New()})
		b.ReportAllocs()
		for b.Loop() {
			Execute(ctx, br, fn)
		}
	})
	b.Run("do", func(b *testing.B) {
		br := New(Settings{Name: "bench"})
		fn := func(context.Context) error { return nil }
		b.ReportAllocs()
		for b.Loop() {
			Do(ctx, br, fn)
		}
	})
}

// hangingStore never answers until its caller's context is done.
type hangingStore struct{ store.Store }

func (hangingStore) Get(ctx context.Context, key string) (store.Item, error) {
	<-ctx.Done()
	return store.Item{}, ctx.Err()
}

func (hangingStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func TestHangingStoreBounded(t *testing.T) {
	b := New(Settings{Name: "h", Store: hangingStore{}, StoreTimeout: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	ran := false
	if _, err := Execute(ctx, b, func(context.Context) (int, error) { ran = true; return 0, nil }); err != nil || !ran {
		t.Fatalf("got %v, ran %v", err, ran)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a hanging store delayed the call by %v", d)
	}
}

// deadlineCtx is a context whose deadline the test ends by hand: Err
// reports context.DeadlineExceeded once expire is called.
type deadlineCtx struct {
	context.Context
	done  chan struct{}
	once  sync.Once
	ended atomic.Bool
}

func newDeadlineCtx() *deadlineCtx {
	return &deadlineCtx{Context: context.Background(), done: make(chan struct{})}
}

func (c *deadlineCtx) Done() <-chan struct{} { return c.done }

func (c *deadlineCtx) Err() error {
	if c.ended.Load() {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *deadlineCtx) expire() {
	c.once.Do(func() {
		c.ended.Store(true)
		close(c.done)
	})
}

// callerGivesUp makes a call that the caller's deadline ends: the
// downstream has not answered when the caller gives up.
func callerGivesUp(b *Breaker) error {
	ctx := newDeadlineCtx()
	_, err := Execute(ctx, b, func(context.Context) (int, error) {
		ctx.expire()
		return 0, fmt.Errorf("get: %w", context.DeadlineExceeded)
	})
	return err
}

// TestTrialCutOffByCaller is the regression test for a half-open trial that
// the caller's deadline ended closing the circuit, its outcome written with
// the caller's done context: the write failed, a store outage was logged,
// and the store kept the trial's slot, rejecting every other instance.
func TestTrialCutOffByCaller(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			clk := newClock()
			var logs syncBuffer
			s := Settings{Name: "api", now: clk.Now, FailureThreshold: 1, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			if shared {
				s.Store = memstore.New()
			}
			b, other := New(s), New(s)
			call(b, errDown)
			clk.Advance(5 * time.Minute)

			if err := callerGivesUp(b); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("trial: got %v", err)
			}
			if st := b.State(context.Background()); st != HalfOpen {
				t.Fatalf("after a trial that the caller's deadline ended: got %v, want half-open", st)
			}
			if shared {
				// Another instance takes the slot the trial gave back.
				if err := call(other, errDown); err != errDown {
					t.Fatalf("another instance's trial: got %v, want it admitted", err)
				}
			} else if err := call(b, errDown); err != errDown {
				t.Fatalf("the next trial: got %v, want it admitted", err)
			}
			clk.Advance(time.Second) // past the staleness of b's copy
			if st := b.State(context.Background()); st != Open {
				t.Fatalf("after a failed trial: got %v, want open", st)
			}
			if strings.Contains(logs.String(), "store unavailable") {
				t.Errorf("the caller's deadline was logged as a store outage:\n%s", logs.String())
			}
		})
	}
}

// TestTrialCutOffWithCause: a caller whose context ends with a cause
// (context.WithCancelCause, WithTimeoutCause) gets that cause from net/http,
// not ctx.Err(); the trial it cut off is still the caller's doing and must
// leave the circuit half-open, not close it.
func TestTrialCutOffWithCause(t *testing.T) {
	clk := newClock()
	b := New(Settings{Name: "api", now: clk.Now, FailureThreshold: 1})
	call(b, errDown)
	clk.Advance(5 * time.Minute)
	budget := errors.New("the caller's budget for this call ran out")
	ctx, cancel := context.WithCancelCause(context.Background())
	_, err := Execute(ctx, b, func(ctx context.Context) (int, error) {
		cancel(budget)
		return 0, fmt.Errorf("get: %w", context.Cause(ctx)) // as net/http reports it
	})
	if !errors.Is(err, budget) {
		t.Fatalf("trial: got %v", err)
	}
	if st := b.State(context.Background()); st != HalfOpen {
		t.Errorf("after a trial that its caller cut off with a cause: got %v, want half-open", st)
	}
}

// TestFailureAfterCallerEnded is the regression test for a failure lost
// because it was written with the caller's context after that context had
// ended: the downstream failed, the caller gave up, and the write failed.
func TestFailureAfterCallerEnded(t *testing.T) {
	clk := newClock()
	var logs syncBuffer
	shared := memstore.New()
	s := Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 2, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	b, other := New(s), New(s)
	ctx := newDeadlineCtx()
	_, err := Execute(ctx, b, func(context.Context) (int, error) {
		ctx.expire() // the caller gives up as the downstream answers 503
		return 0, errDown
	})
	if err != errDown {
		t.Fatalf("got %v", err)
	}
	call(other, errDown) // the second failure, on another instance
	clk.Advance(time.Second)
	if st := b.State(context.Background()); st != Open {
		t.Fatalf("after two failures on two instances: got %v, want open", st)
	}
	if strings.Contains(logs.String(), "store unavailable") {
		t.Errorf("the caller's deadline was logged as a store outage:\n%s", logs.String())
	}
}

// TestCallerEndedIsNotAnOutage checks that a Store read cut short by the
// caller's own context is not taken for a Store outage.
func TestCallerEndedIsNotAnOutage(t *testing.T) {
	clk := newClock()
	var logs syncBuffer
	s := Settings{Name: "api", Store: memstore.New(), now: clk.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	b := New(s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Execute(ctx, b, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
	b.State(ctx)
	if strings.Contains(logs.String(), "store unavailable") {
		t.Fatalf("a canceled caller was logged as a store outage:\n%s", logs.String())
	}
	// The breaker still uses the Store: another instance's failures count.
	other := New(s)
	for range 3 {
		call(other, errDown)
	}
	clk.Advance(time.Second)
	if err := call(b, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("after three failures on another instance: got %v, want ErrOpen", err)
	}
}

// conflictingStore fails the first conflicts compare-and-sets it gets
// with store.ErrConflict, without writing, as a Store would under heavy
// contention, and then passes them on. It is not a store.Counter.
type conflictingStore struct {
	store.Store
	conflicts atomic.Int64
}

func (s *conflictingStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if s.conflicts.Add(-1) >= 0 {
		return 0, store.ErrConflict
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestConflictsDoNotLoseAFailure is the regression test for a failure
// abandoned, with a warning, after 200 compare-and-set conflicts.
func TestConflictsDoNotLoseAFailure(t *testing.T) {
	clk := newClock()
	shared := &conflictingStore{Store: memstore.New()}
	s := Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 2, StoreTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b, other := New(s), New(s)
	shared.conflicts.Store(250)
	call(b, errDown)
	left := shared.conflicts.Load() + 1
	call(other, errDown)
	clk.Advance(time.Second)
	if st := b.State(context.Background()); st != Open {
		t.Fatalf("two failures, the first after 250 conflicts: got %v, want open", st)
	}
	if left > 0 {
		t.Fatalf("the first failure left %d of 250 conflicts unused", left)
	}
}

// TestConflictsBounded checks that a report gives up, and the call returns,
// when the Store conflicts without end.
func TestConflictsBounded(t *testing.T) {
	var logs syncBuffer
	shared := &conflictingStore{Store: memstore.New()}
	shared.conflicts.Store(1 << 62)
	b := New(Settings{Name: "api", Store: shared, now: newClock().Now, StoreTimeout: 10 * time.Millisecond,
		ConflictBudget: 50 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	returned := make(chan error, 1)
	go func() { returned <- call(b, errDown) }()
	if err := await(t, returned); err != errDown {
		t.Fatalf("got %v, want the call's own error", err)
	}
	if !strings.Contains(logs.String(), "abandoned") {
		t.Errorf("the abandoned update was not logged:\n%s", logs.String())
	}
}

// TestNoTrialOnDoneContext checks that a trial is not started on a context
// that is done: it would hold the slot and tell nothing.
func TestNoTrialOnDoneContext(t *testing.T) {
	clk := newClock()
	cs := &countingStore{Store: memstore.New()}
	b := New(Settings{Name: "api", Store: cs, now: clk.Now, FailureThreshold: 1})
	call(b, errDown)
	clk.Advance(5 * time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sets := cs.sets.Load()
	ran := false
	if _, err := Execute(ctx, b, func(context.Context) (int, error) { ran = true; return 0, nil }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("trial on a canceled context: got %v, ran %v; want context.Canceled, not run", err, ran)
	}
	if n := cs.sets.Load() - sets; n != 0 {
		t.Errorf("%d writes for a trial not started", n)
	}
	if err := call(b, nil); err != nil {
		t.Fatalf("the next trial: got %v, want it admitted", err)
	}
	if st := b.State(context.Background()); st != Closed {
		t.Fatalf("after a successful trial: got %v", st)
	}
}

// misreportingStore applies the next compare-and-set it gets and then
// reports it as a conflict, as a store may when a reply was lost and the
// client retried the write.
type misreportingStore struct {
	store.Store
	misreport atomic.Bool
}

func (s *misreportingStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	v, err := s.Store.CompareAndSet(ctx, key, version, value, ttl)
	if err == nil && s.misreport.CompareAndSwap(true, false) {
		return 0, store.ErrConflict
	}
	return v, err
}

// TestOwnTrialSlotRecognised is the regression test for a ghost trial slot:
// a trial slot taken by a write that the store reported as a conflict was
// held, for TrialTimeout, by a trial that was never made.
func TestOwnTrialSlotRecognised(t *testing.T) {
	clk := newClock()
	shared := &misreportingStore{Store: memstore.New()}
	b := New(Settings{Name: "api", Store: shared, now: clk.Now, FailureThreshold: 1})
	call(b, errDown)
	clk.Advance(5 * time.Minute)
	shared.misreport.Store(true)
	if err := call(b, nil); err != nil {
		t.Fatalf("trial whose slot the store misreported as a conflict: got %v, want it admitted", err)
	}
	if shared.misreport.Load() {
		t.Fatal("the store was not asked to misreport")
	}
	if st := b.State(context.Background()); st != Closed {
		t.Fatalf("after a successful trial: got %v", st)
	}
}
