package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/redis/go-redis/v9"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/store/redisstore"
)

// newStoreFunc returns a store for one subtest. A store that can read the
// time from a clock (memstore) reads it from now, so that a lease expires
// in the store as it does for the Guard; the others expire items in real
// time, and the Guard judges leases by its own clock.
type newStoreFunc func(t *testing.T, now func() time.Time) store.Store

func TestContractMemstore(t *testing.T) {
	runContract(t, func(t *testing.T, now func() time.Time) store.Store {
		return memstore.New(memstore.WithClock(now))
	})
}

func TestContractRedis(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	runContract(t, func(t *testing.T, now func() time.Time) store.Store { return redisstore.New(c) })
}

var tables atomic.Int64

func TestContractDynalite(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	runContract(t, func(t *testing.T, now func() time.Time) store.Store {
		return dynamostore.New(c, newTable(t, c))
	})
}

func newTable(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("idempotency-test-%d", tables.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, c, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// runContract checks Do's behaviour on the stores that newStore returns.
func runContract(t *testing.T, newStore newStoreFunc) {
	tests := []struct {
		name string
		test func(t *testing.T, e *env)
	}{
		{"ConcurrentDuplicates", testConcurrent},
		{"ConcurrentDuplicatesWait", testConcurrentWait},
		{"WaiterRunsAfterFailure", testWaiterRunsAfterFailure},
		{"WaitBoundedByDeadline", testWaitDeadline},
		{"LeaseTakeoverAndFencing", testTakeover},
		{"FailedHandlerRetries", testFailedRetries},
		{"PanicDeletes", testPanic},
		{"FinalReplays", testFinal},
		{"PayloadMismatch", testPayloadMismatch},
		{"OutageFailClosed", testOutageFailClosed},
		{"OutageRunWithout", testOutageRunWithout},
		{"CompletionNotStored", testCompletionNotStored},
		{"DeleteFails", testDeleteFails},
		{"ResultTooLarge", testTooLarge},
		{"ResultTooLargeForStore", testTooLargeForStore},
		{"RoundTrips", testRoundTrips},
		{"LostReplies", testLostReplies},
		{"CanceledContext", testCanceled},
		{"MinLeaseNearDeadline", testMinLease},
		{"UndecodableRecord", testUndecodable},
	}
	// Each test runs twice: with the store's Insert, which takes a key and
	// returns what holds it in one round trip, and without it, as on a
	// store that is not a store.Inserter.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, insert := range []bool{true, false} {
				name := "Insert"
				if !insert {
					name = "CompareAndSet"
				}
				t.Run(name, func(t *testing.T) {
					clk := &clock{t: time.Now()}
					s := &faultyStore{Store: newStore(t, clk.Now)}
					if _, ok := s.Store.(store.Inserter); insert && !ok {
						t.Fatalf("%T is not a store.Inserter", s.Store)
					}
					tt.test(t, &env{t: t, clock: clk, store: s, insert: insert, scope: t.Name() + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)})
				})
			}
		})
	}
}

// env is what a contract test works with.
type env struct {
	t      *testing.T
	clock  *clock
	store  *faultyStore
	insert bool // Guards use the store's Insert (through faultyInserter)
	scope  string
	logs   logRecorder
}

// guard returns a Guard on the env's store, scope, clock and logger, with
// cfg's other settings.
func (e *env) guard(cfg idempotency.Config) *idempotency.Guard {
	e.t.Helper()
	if cfg.Store == nil {
		cfg.Store = e.store
		if e.insert {
			cfg.Store = &faultyInserter{e.store}
		}
	}
	cfg.Scope = e.scope
	cfg.Logger = slog.New(&e.logs)
	idempotency.SetClock(&cfg, e.clock.Now)
	g, err := idempotency.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

// clock is a time that tests move forward.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var errBoom = errors.New("store down")

// faultyStore wraps a store: it counts the calls that reach it, fails them
// with errBoom on demand, and can report a write it applied as a conflict,
// as a store whose client retried a write after a lost reply does. It is
// not a store.Inserter, whatever the store it wraps: faultyInserter adds
// Insert.
type faultyStore struct {
	store.Store
	gets, sets, deletes, inserts atomic.Int64
	fail                         atomic.Bool                        // every call fails
	failSets                     atomic.Int64                       // the next n CompareAndSets fail
	lostReplies                  atomic.Int64                       // the next n writes (CompareAndSet, Insert) are applied and reported as conflicts
	cancelOnSet                  atomic.Pointer[context.CancelFunc] // the next write calls it and fails with ctx's error
	maxValue                     atomic.Int64                       // if positive, writes of longer values fail with store.ErrTooLarge
}

// errTooLarge is the store's refusal of a value longer than maxValue.
var errTooLarge = fmt.Errorf("faulty: %w", store.ErrTooLarge)

// tooLarge reports whether the store refuses value for its size.
func (s *faultyStore) tooLarge(value []byte) bool {
	n := s.maxValue.Load()
	return n > 0 && int64(len(value)) > n
}

// faultyInserter is a faultyStore that passes Insert through to the store
// it wraps, which must be a store.Inserter, and counts it.
type faultyInserter struct{ *faultyStore }

func (s *faultyInserter) Insert(ctx context.Context, key string, value []byte, ttl time.Duration) (int64, store.Item, error) {
	if s.fail.Load() {
		return 0, store.Item{}, errBoom
	}
	if c := s.cancelOnSet.Swap(nil); c != nil {
		(*c)()
		return 0, store.Item{}, ctx.Err()
	}
	if s.tooLarge(value) {
		return 0, store.Item{}, errTooLarge
	}
	s.inserts.Add(1)
	v, cur, err := s.Store.(store.Inserter).Insert(ctx, key, value, ttl)
	if err == nil && countDown(&s.lostReplies) {
		// The insert sent again after a lost reply finds its own item.
		it, gerr := s.Store.Get(ctx, key)
		if gerr != nil {
			return 0, store.Item{}, gerr
		}
		return 0, it, store.ErrConflict
	}
	return v, cur, err
}

func (s *faultyStore) Get(ctx context.Context, key string) (store.Item, error) {
	if s.fail.Load() {
		return store.Item{}, errBoom
	}
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *faultyStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if s.fail.Load() {
		return 0, errBoom
	}
	if countDown(&s.failSets) {
		return 0, errBoom
	}
	if c := s.cancelOnSet.Swap(nil); c != nil {
		(*c)() // the caller's context ends during the call
		return 0, ctx.Err()
	}
	if s.tooLarge(value) {
		return 0, errTooLarge
	}
	s.sets.Add(1)
	v, err := s.Store.CompareAndSet(ctx, key, version, value, ttl)
	if err == nil && countDown(&s.lostReplies) {
		return 0, store.ErrConflict
	}
	return v, err
}

// countDown takes one from n if it is positive, and reports whether it did.
func countDown(n *atomic.Int64) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

func (s *faultyStore) Delete(ctx context.Context, key string, version int64) error {
	if s.fail.Load() {
		return errBoom
	}
	s.deletes.Add(1)
	return s.Store.Delete(ctx, key, version)
}

func (s *faultyStore) resetCounts() {
	s.gets.Store(0)
	s.sets.Store(0)
	s.deletes.Store(0)
	s.inserts.Store(0)
}

// logRecorder is a slog.Handler that keeps what it is given.
type logRecorder struct {
	mu    sync.Mutex // guards lines
	lines []string   // each record's level, message and attributes
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines = append(h.lines, b.String())
	return nil
}

func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

// checkLogs checks that the logs hold n lines, each containing want, and
// none of the secrets.
func (e *env) checkLogs(n int, want string, secrets ...string) {
	e.t.Helper()
	lines := e.logs.get()
	if len(lines) != n {
		e.t.Fatalf("got %d log lines %q, want %d", len(lines), lines, n)
	}
	for _, l := range lines {
		if !strings.Contains(l, want) {
			e.t.Errorf("log line %q does not say %q", l, want)
		}
		for _, s := range secrets {
			if strings.Contains(l, s) {
				e.t.Errorf("log line %q holds %q", l, s)
			}
		}
	}
}

type order struct {
	ID    string `json:"id"`
	Total int64  `json:"total"`
}

const payload = `{"order":{"id":"o-1","total":1250},"secret":"card-4242"}`

func key(t *testing.T, id string) idempotency.Key {
	t.Helper()
	return idempotency.NewKey("POST /orders", id, []byte(payload))
}

func testConcurrent(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	const n = 50
	var runs atomic.Int64
	refused := make(chan struct{}, n)
	release := make(chan struct{})
	fn := func(ctx context.Context) (order, error) {
		runs.Add(1)
		<-release
		return order{ID: "o-1", Total: 1250}, nil
	}
	var wg sync.WaitGroup
	var ok, inProgress, other atomic.Int64
	for range n {
		wg.Go(func() {
			o, err := idempotency.Do(context.Background(), g, key(t, "concurrent"), fn)
			switch {
			case err == nil && o == (order{ID: "o-1", Total: 1250}):
				ok.Add(1)
			case errors.Is(err, idempotency.ErrInProgress):
				inProgress.Add(1)
				refused <- struct{}{}
			default:
				other.Add(1)
				t.Errorf("got %+v, %v", o, err)
			}
		})
	}
	// The one that runs holds the key until the others have been refused.
	for range n - 1 {
		<-refused
	}
	close(release)
	wg.Wait()
	if runs.Load() != 1 || ok.Load() != 1 || inProgress.Load() != n-1 {
		t.Fatalf("runs %d, results %d, ErrInProgress %d, other %d; want 1, 1, %d, 0", runs.Load(), ok.Load(), inProgress.Load(), other.Load(), n-1)
	}
	if s := httperror.Status(idempotency.ErrInProgress); s != http.StatusConflict {
		t.Errorf("ErrInProgress answers %d, want 409", s)
	}
}

func testConcurrentWait(t *testing.T, e *env) {
	const n = 50
	waiting := make(chan struct{}, n)
	cfg := idempotency.Config{Wait: true}
	idempotency.SetWaiting(&cfg, func() { waiting <- struct{}{} })
	g := e.guard(cfg)
	var runs atomic.Int64
	release := make(chan struct{})
	fn := func(ctx context.Context) (order, error) {
		runs.Add(1)
		<-release
		return order{ID: "o-1", Total: 1250}, nil
	}
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range n {
		wg.Go(func() {
			o, err := idempotency.Do(context.Background(), g, key(t, "wait"), fn)
			if err != nil || o != (order{ID: "o-1", Total: 1250}) {
				t.Errorf("got %+v, %v; want the first call's result", o, err)
				return
			}
			ok.Add(1)
		})
	}
	for range n - 1 {
		<-waiting
	}
	close(release)
	wg.Wait()
	if runs.Load() != 1 || ok.Load() != n {
		t.Fatalf("runs %d, results %d; want 1, %d", runs.Load(), ok.Load(), n)
	}
}

func testWaiterRunsAfterFailure(t *testing.T, e *env) {
	waiting := make(chan struct{}, 1)
	cfg := idempotency.Config{Wait: true}
	idempotency.SetWaiting(&cfg, func() { waiting <- struct{}{} })
	g := e.guard(cfg)
	release := make(chan struct{})
	held := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
			close(held)
			<-release
			return "", errors.New("downstream refused")
		})
		first <- err
	}()
	<-held
	type result struct {
		s   string
		err error
	}
	second := make(chan result, 1)
	go func() {
		// A waiter that is never told would wait until the lease ends.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := idempotency.Do(ctx, g, key(t, "k"), func(ctx context.Context) (string, error) {
			return "second", nil
		})
		second <- result{s, err}
	}()
	<-waiting
	close(release)
	if err := <-first; err == nil || err.Error() != "downstream refused" {
		t.Fatalf("first call: got %v, want its own error", err)
	}
	if r := <-second; r.err != nil || r.s != "second" {
		t.Fatalf("waiter: got %q, %v; want it to run once the first failed", r.s, r.err)
	}
}

func testWaitDeadline(t *testing.T, e *env) {
	var cancelWait atomic.Pointer[context.CancelFunc]
	cfg := idempotency.Config{Wait: true, MaxLease: 2 * time.Hour}
	idempotency.SetWaiting(&cfg, func() {
		if c := cancelWait.Load(); c != nil {
			(*c)()
		}
	})
	g := e.guard(cfg)
	release := make(chan struct{})
	defer close(release)
	held := make(chan struct{})
	go idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		close(held)
		<-release
		return "first", nil
	})
	<-held
	mustNotRun := func(ctx context.Context) (string, error) { return "", errors.New("must not run") }

	// A deadline too close for a first look: refused at once. (The
	// deadline is set on the test's clock, an hour ahead of the real one,
	// so the context is not done.)
	e.clock.Advance(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), e.clock.Now().Add(time.Millisecond))
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := idempotency.Do(ctx, g, key(t, "k"), mustNotRun)
		errc <- err
	}()
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second): // a bound on a hang, not a timing
		t.Fatal("Do waited past its deadline")
	}
	if !errors.Is(err, idempotency.ErrInProgress) || ctx.Err() != nil {
		t.Fatalf("got %v (ctx %v), want ErrInProgress before the deadline", err, ctx.Err())
	}
	// Cancelled while it waits.
	ctx, cancel = context.WithCancel(context.Background())
	cancelWait.Store(&cancel)
	_, err = idempotency.Do(ctx, g, key(t, "k"), mustNotRun)
	if !errors.Is(err, idempotency.ErrInProgress) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want ErrInProgress and context.Canceled", err)
	}
}

func testTakeover(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{MinLease: time.Second, MaxLease: time.Minute})
	release := make(chan struct{})
	held := make(chan struct{})
	firstDone := make(chan struct{})
	var firstGot string
	var firstErr error
	var runs atomic.Int64
	go func() {
		defer close(firstDone)
		firstGot, firstErr = idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
			runs.Add(1)
			close(held)
			<-release
			return "first", nil
		})
	}()
	<-held
	// Within the lease, a duplicate is refused.
	if _, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		return "", errors.New("must not run")
	}); !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("within the lease: got %v, want ErrInProgress", err)
	}
	// The first call outlives its lease (a minute, no deadline): the next
	// duplicate takes over.
	e.clock.Advance(time.Minute)
	got, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		runs.Add(1)
		return "second", nil
	})
	if err != nil || got != "second" {
		t.Fatalf("after the lease: got %q, %v; want the duplicate to run", got, err)
	}
	// The late first call gets its own result, but does not overwrite the
	// second's.
	close(release)
	<-firstDone
	if firstErr != nil || firstGot != "first" {
		t.Fatalf("late first call: got %q, %v; want its own result", firstGot, firstErr)
	}
	e.checkLogs(1, "lease lost", "o-1", "card-4242", "first")
	got, err = idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		return "", errors.New("must not run")
	})
	if err != nil || got != "second" {
		t.Fatalf("replay: got %q, %v; want the second call's result", got, err)
	}
	if runs.Load() != 2 {
		t.Fatalf("runs: %d, want 2", runs.Load())
	}
}

func testFailedRetries(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	errDown := errors.New("downstream 503")
	var runs atomic.Int64
	fn := func(fail bool) func(context.Context) (order, error) {
		return func(ctx context.Context) (order, error) {
			runs.Add(1)
			if fail {
				return order{}, errDown
			}
			return order{ID: "o-1"}, nil
		}
	}
	if _, err := idempotency.Do(context.Background(), g, key(t, "k"), fn(true)); err != errDown {
		t.Fatalf("first: got %v, want the handler's own error", err)
	}
	if o, err := idempotency.Do(context.Background(), g, key(t, "k"), fn(false)); err != nil || o.ID != "o-1" {
		t.Fatalf("retry: got %+v, %v; want it to run", o, err)
	}
	if o, err := idempotency.Do(context.Background(), g, key(t, "k"), fn(true)); err != nil || o.ID != "o-1" {
		t.Fatalf("after success: got %+v, %v; want the replay", o, err)
	}
	if runs.Load() != 2 {
		t.Fatalf("runs: %d, want 2", runs.Load())
	}
	e.checkLogs(0, "")
}

func testPanic(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the handler's panic", r)
			}
		}()
		idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (int, error) { panic("boom") })
		t.Fatal("Do returned after a panic")
	}()
	n, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (int, error) { return 7, nil })
	if err != nil || n != 7 {
		t.Fatalf("after the panic: got %d, %v; want the retry to run", n, err)
	}
}

// outOfStock is a handler error that answers 409 with a message of its own.
type outOfStock struct{ sku string }

func (e *outOfStock) Error() string         { return "out of stock: " + e.sku }
func (e *outOfStock) HTTPStatus() int       { return http.StatusConflict }
func (e *outOfStock) PublicMessage() string { return "out of stock" }

func testFinal(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	orig := &outOfStock{sku: "A-1"}
	var runs atomic.Int64
	fn := func(ctx context.Context) (order, error) {
		runs.Add(1)
		return order{}, idempotency.Final(orig)
	}
	_, err := idempotency.Do(context.Background(), g, key(t, "k"), fn)
	if !errors.Is(err, orig) {
		t.Fatalf("first: got %v, want the handler's error", err)
	}
	_, err = idempotency.Do(context.Background(), g, key(t, "k"), fn)
	var re *idempotency.ReplayedError
	if !errors.As(err, &re) || err.Error() != "out of stock: A-1" || re.Status != 409 || re.Public != "out of stock" {
		t.Fatalf("duplicate: got %#v, want the replayed error", err)
	}
	if errors.Is(err, orig) {
		t.Error("a replayed error matches the original with errors.Is; the doc says it cannot")
	}
	if a := httperror.AnswerOf(err); a.Status != 409 || a.Message != "out of stock" {
		t.Errorf("replayed error answers %d %q, want 409 \"out of stock\"", a.Status, a.Message)
	}
	if runs.Load() != 1 {
		t.Fatalf("runs: %d, want 1", runs.Load())
	}
}

func testPayloadMismatch(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{CheckPayload: true})
	mk := func(p string) idempotency.Key { return idempotency.NewKey("POST /orders", "k", []byte(p)) }
	run := func(k idempotency.Key) (string, error) {
		return idempotency.Do(context.Background(), g, k, func(ctx context.Context) (string, error) { return "done", nil })
	}
	// In progress: another payload is refused, not told to wait.
	release := make(chan struct{})
	held := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		idempotency.Do(context.Background(), g, mk(`{"a":1,"b":[1,2]}`), func(ctx context.Context) (string, error) {
			close(held)
			<-release
			return "done", nil
		})
	}()
	<-held
	if _, err := run(mk(`{"a":2,"b":[1,2]}`)); !errors.Is(err, idempotency.ErrPayloadMismatch) {
		t.Fatalf("while in progress: got %v, want ErrPayloadMismatch", err)
	}
	close(release)
	<-done
	if got, err := run(mk(` { "b" : [1, 2.0], "a" : 1e0 } `)); err != nil || got != "done" {
		t.Fatalf("same payload written otherwise: got %q, %v; want the replay", got, err)
	}
	for _, p := range []string{`{"a":1,"b":[2,1]}`, `{"a":1}`, `not json`, ``} {
		if got, err := run(mk(p)); !errors.Is(err, idempotency.ErrPayloadMismatch) {
			t.Errorf("payload %q: got %q, %v; want ErrPayloadMismatch", p, got, err)
		}
	}
	if s := httperror.Status(idempotency.ErrPayloadMismatch); s != http.StatusUnprocessableEntity {
		t.Errorf("ErrPayloadMismatch answers %d, want 422", s)
	}
	// Without CheckPayload, the key alone decides.
	g2 := e.guard(idempotency.Config{})
	got, err := idempotency.Do(context.Background(), g2, mk(`{"other":true}`), func(ctx context.Context) (string, error) {
		return "", errors.New("must not run")
	})
	if err != nil || got != "done" {
		t.Fatalf("without CheckPayload: got %q, %v; want the replay", got, err)
	}
}

func testOutageFailClosed(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	e.store.fail.Store(true)
	var runs atomic.Int64
	_, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		runs.Add(1)
		return "x", nil
	})
	if !errors.Is(err, idempotency.ErrStoreUnavailable) || !errors.Is(err, errBoom) || runs.Load() != 0 {
		t.Fatalf("got %v with %d runs; want ErrStoreUnavailable wrapping the store's error, no run", err, runs.Load())
	}
	if a := httperror.AnswerOf(err); a.Status != 503 || strings.Contains(a.Message, "store down") {
		t.Errorf("answers %d %q, want 503 without the store's error", a.Status, a.Message)
	}
	// The read after a conflict fails.
	e.store.fail.Store(false)
	release := make(chan struct{})
	held := make(chan struct{})
	go idempotency.Do(context.Background(), g, key(t, "k2"), func(ctx context.Context) (string, error) {
		close(held)
		<-release
		return "x", nil
	})
	defer close(release)
	<-held
	g2 := e.guard(idempotency.Config{Store: &getFailingStore{Store: e.store}})
	_, err = idempotency.Do(context.Background(), g2, key(t, "k2"), func(ctx context.Context) (string, error) {
		runs.Add(1)
		return "x", nil
	})
	if !errors.Is(err, idempotency.ErrStoreUnavailable) || !errors.Is(err, errBoom) || runs.Load() != 0 {
		t.Fatalf("failed read: got %v with %d runs; want ErrStoreUnavailable, no run", err, runs.Load())
	}
	e.checkLogs(0, "")
}

// getFailingStore fails Get only. It is not a store.Inserter, so that a
// conflict is read with Get.
type getFailingStore struct{ store.Store }

func (s *getFailingStore) Get(context.Context, string) (store.Item, error) {
	return store.Item{}, errBoom
}

func testOutageRunWithout(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{OnStoreError: idempotency.RunWithout})
	e.store.fail.Store(true)
	var runs atomic.Int64
	fn := func(ctx context.Context) (string, error) {
		runs.Add(1)
		return "ran", nil
	}
	for i := range 3 {
		got, err := idempotency.Do(context.Background(), g, key(t, "k"), fn)
		if err != nil || got != "ran" || runs.Load() != int64(i+1) {
			t.Fatalf("call %d: got %q, %v, %d runs; want each to run without the store", i, got, err, runs.Load())
		}
	}
	e.checkLogs(1, "running without idempotency", "o-1", "card-4242")
	// The store is back: idempotent again, and the next outage logs again.
	e.store.fail.Store(false)
	for range 2 {
		if got, err := idempotency.Do(context.Background(), g, key(t, "k"), fn); err != nil || got != "ran" || runs.Load() != 4 {
			t.Fatalf("after the outage: got %q, %v, %d runs; want 4 runs", got, err, runs.Load())
		}
	}
	e.store.fail.Store(true)
	idempotency.Do(context.Background(), g, key(t, "other"), fn)
	e.checkLogs(2, "running without idempotency")
}

func testCompletionNotStored(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	got, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		e.store.failSets.Store(1) // the completion's write
		return "done", nil
	})
	if err != nil || got != "done" {
		t.Fatalf("got %q, %v; want the result despite the failed write", got, err)
	}
	e.checkLogs(1, "result not stored", "done", "o-1", "card-4242")
	// The record stays in progress until its lease ends.
	if _, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		return "", errors.New("must not run")
	}); !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("duplicate: got %v, want ErrInProgress until the lease ends", err)
	}
	e.clock.Advance(idempotency.DefaultMaxLease + idempotency.DefaultLeaseMargin) // the default ceiling
	if got, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		return "again", nil
	}); err != nil || got != "again" {
		t.Fatalf("after the lease: got %q, %v; want a new run", got, err)
	}
}

func testDeleteFails(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	errNo := errors.New("no")
	_, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		e.store.fail.Store(true)
		return "", errNo
	})
	e.store.fail.Store(false)
	if err != errNo {
		t.Fatalf("got %v, want the handler's error", err)
	}
	e.checkLogs(1, "not deleted", "o-1", "card-4242")
	if _, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		return "", errors.New("must not run")
	}); !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("duplicate: got %v, want ErrInProgress until the lease ends", err)
	}
}

func testTooLarge(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{MaxResultBytes: 200})
	big := strings.Repeat("x", 200)
	var runs atomic.Int64
	fn := func(ctx context.Context) (string, error) {
		runs.Add(1)
		return big, nil
	}
	got, err := idempotency.Do(context.Background(), g, key(t, "k"), fn)
	if got != big || !errors.Is(err, idempotency.ErrResultTooLarge) {
		t.Fatalf("got %d bytes, %v; want the result with ErrResultTooLarge", len(got), err)
	}
	got, err = idempotency.Do(context.Background(), g, key(t, "k"), fn)
	if got != "" || !errors.Is(err, idempotency.ErrResultTooLarge) || runs.Load() != 1 {
		t.Fatalf("duplicate: got %q, %v, %d runs; want ErrResultTooLarge and no second run", got, err, runs.Load())
	}
	// Just under the limit: stored and replayed.
	small := strings.Repeat("y", 200-50-2)
	if got, err := idempotency.Do(context.Background(), g, key(t, "small"), func(ctx context.Context) (string, error) { return small, nil }); err != nil || got != small {
		t.Fatalf("a record of 200 bytes: got %v", err)
	}
	if got, err := idempotency.Do(context.Background(), g, key(t, "small"), fn); err != nil || got != small {
		t.Fatalf("a record of 200 bytes, replayed: got %v", err)
	}
}

// testRoundTrips counts the store calls of each kind of call. The take is
// an Insert on a store.Inserter, else a CompareAndSet: a replay is then one
// round trip (an Insert that conflicts and returns the record), or two (a
// CompareAndSet that conflicts, then a Get).
// testTooLargeForStore: the store refuses the completion for its size
// (a limit of its own, under Config.MaxResultBytes): Do returns the result
// with an error that wraps ErrResultTooLarge, and records the call as done
// without a result, so that a duplicate gets ErrResultTooLarge, neither a
// second run nor ErrInProgress until the lease ends.
func testTooLargeForStore(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{Wait: true})
	e.store.maxValue.Store(200)
	big := strings.Repeat("x", 200)
	var runs atomic.Int64
	fn := func(ctx context.Context) (string, error) {
		runs.Add(1)
		return big, nil
	}
	got, err := idempotency.Do(context.Background(), g, key(t, "k"), fn)
	if got != big || !errors.Is(err, idempotency.ErrResultTooLarge) || !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("got %d bytes, %v; want the result with ErrResultTooLarge, wrapping the store's error", len(got), err)
	}
	e.checkLogs(0, "")
	got, err = idempotency.Do(context.Background(), g, key(t, "k"), fn)
	if got != "" || !errors.Is(err, idempotency.ErrResultTooLarge) || errors.Is(err, idempotency.ErrInProgress) || runs.Load() != 1 {
		t.Fatalf("duplicate: got %q, %v, %d runs; want ErrResultTooLarge and no second run", got, err, runs.Load())
	}
	// A Final error whose record the store refuses: recorded as done too.
	final := func(ctx context.Context) (string, error) {
		runs.Add(1)
		return "", idempotency.Final(errors.New(strings.Repeat("no ", 100)))
	}
	if _, err := idempotency.Do(context.Background(), g, key(t, "final"), final); err == nil || errors.Is(err, idempotency.ErrResultTooLarge) {
		t.Fatalf("Final error: got %v, want the handler's error", err)
	}
	if _, err := idempotency.Do(context.Background(), g, key(t, "final"), final); !errors.Is(err, idempotency.ErrResultTooLarge) || runs.Load() != 2 {
		t.Fatalf("duplicate of a Final error: got %v, %d runs; want ErrResultTooLarge and no second run", err, runs.Load())
	}
	// A result the store takes is stored and replayed.
	small := strings.Repeat("y", 100)
	for range 2 {
		if got, err := idempotency.Do(context.Background(), g, key(t, "small"), func(ctx context.Context) (string, error) { return small, nil }); err != nil || got != small {
			t.Fatalf("a small result: got %q, %v", got, err)
		}
	}
}

func testRoundTrips(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	ok := func(ctx context.Context) (order, error) { return order{ID: "o-1"}, nil }
	type counts struct{ gets, sets, inserts, deletes int64 }
	tests := []struct {
		name            string
		fn              func(context.Context) (order, error)
		insert, casOnly counts
	}{
		{"fresh", ok, counts{0, 1, 1, 0}, counts{0, 2, 0, 0}},                                                                             // take, complete
		{"replay", ok, counts{0, 0, 1, 0}, counts{1, 1, 0, 0}},                                                                            // the take conflicts (and, without Insert, a read)
		{"failed", func(ctx context.Context) (order, error) { return order{}, errors.New("no") }, counts{0, 0, 1, 1}, counts{0, 1, 0, 1}}, // on a new key
		{"final", func(ctx context.Context) (order, error) { return order{}, idempotency.Final(errors.New("no")) }, counts{0, 1, 1, 0}, counts{0, 2, 0, 0}},
	}
	for _, tt := range tests {
		id := "k"
		if tt.name == "failed" || tt.name == "final" {
			id = tt.name
		}
		e.store.resetCounts()
		idempotency.Do(context.Background(), g, key(t, id), tt.fn)
		want := tt.casOnly
		if e.insert {
			want = tt.insert
		}
		got := counts{e.store.gets.Load(), e.store.sets.Load(), e.store.inserts.Load(), e.store.deletes.Load()}
		if got != want {
			t.Errorf("%s: %d Get, %d CompareAndSet, %d Insert, %d Delete; want %d, %d, %d, %d",
				tt.name, got.gets, got.sets, got.inserts, got.deletes, want.gets, want.sets, want.inserts, want.deletes)
		}
	}
}

func testLostReplies(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	// The take is applied and reported as a conflict: the call finds its
	// own record and runs.
	e.store.lostReplies.Store(1)
	got, err := idempotency.Do(context.Background(), g, key(t, "take"), func(ctx context.Context) (string, error) { return "ran", nil })
	if err != nil || got != "ran" {
		t.Fatalf("lost take reply: got %q, %v; want the call to run", got, err)
	}
	// The completion is applied and reported as a conflict: no lease lost.
	got, err = idempotency.Do(context.Background(), g, key(t, "complete"), func(ctx context.Context) (string, error) {
		e.store.lostReplies.Store(1)
		return "ran", nil
	})
	if err != nil || got != "ran" {
		t.Fatalf("lost completion reply: got %q, %v", got, err)
	}
	e.checkLogs(0, "")
	for _, id := range []string{"take", "complete"} {
		if got, err := idempotency.Do(context.Background(), g, key(t, id), func(ctx context.Context) (string, error) { return "again", nil }); err != nil || got != "ran" {
			t.Fatalf("%s: got %q, %v; want the replay", id, got, err)
		}
	}
}

func testCanceled(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{OnStoreError: idempotency.RunWithout})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.store.resetCounts()
	var runs atomic.Int64
	_, err := idempotency.Do(ctx, g, key(t, "k"), func(ctx context.Context) (string, error) {
		runs.Add(1)
		return "x", nil
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, idempotency.ErrStoreUnavailable) || runs.Load() != 0 {
		t.Fatalf("got %v, %d runs; want context.Canceled, no run", err, runs.Load())
	}
	if n := e.store.gets.Load() + e.store.sets.Load() + e.store.inserts.Load() + e.store.deletes.Load(); n != 0 {
		t.Fatalf("%d store calls with a done context, want 0", n)
	}
	// A context that ends during the take is the caller's, not an outage,
	// under either policy.
	for _, policy := range []idempotency.StorePolicy{idempotency.FailClosed, idempotency.RunWithout} {
		g := e.guard(idempotency.Config{OnStoreError: policy})
		ctx, cancel := context.WithCancel(context.Background())
		e.store.cancelOnSet.Store(&cancel)
		_, err := idempotency.Do(ctx, g, key(t, "k"), func(ctx context.Context) (string, error) {
			runs.Add(1)
			return "x", nil
		})
		if !errors.Is(err, context.Canceled) || errors.Is(err, idempotency.ErrStoreUnavailable) || runs.Load() != 0 {
			t.Fatalf("%v, cancelled during the take: got %v, %d runs; want context.Canceled, no run", policy, err, runs.Load())
		}
	}
	e.checkLogs(0, "")
}

func testMinLease(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{MinLease: 7 * time.Second, LeaseMargin: time.Second, MaxLease: time.Minute})
	tests := []struct {
		name   string
		left   time.Duration // until the deadline; 0: none
		passed bool          // the deadline has passed, but ctx is not done yet
		want   time.Duration
	}{
		{"no deadline", 0, false, time.Minute},
		{"far", 30 * time.Second, false, 31 * time.Second},
		{"beyond MaxLease", time.Hour, false, time.Minute},
		{"near", 10 * time.Millisecond, false, 7 * time.Second},
		{"remaining time read as zero", -time.Second, true, 7 * time.Second},
	}
	for _, tt := range tests {
		ctx := context.Background()
		now := e.clock.Now()
		if tt.left != 0 {
			// The deadline is set on the test's clock, which the context
			// does not know: it is not done, whatever the guard reads.
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, now.Add(tt.left).Add(time.Hour))
			defer cancel()
			e.clock.Advance(time.Hour)
			now = e.clock.Now()
		}
		k := key(t, tt.name)
		idempotency.Do(ctx, g, k, func(ctx context.Context) (string, error) {
			it, err := e.store.Store.Get(context.Background(), idempotency.StoreKey(g, k))
			if err != nil {
				t.Fatal(err)
			}
			end, err := idempotency.LeaseEnd(it.Value)
			if err != nil {
				t.Fatal(err)
			}
			if got := end.Sub(now); got != tt.want {
				t.Errorf("%s: lease %v, want %v", tt.name, got, tt.want)
			}
			return "", errors.New("let go")
		})
	}
}

func testUndecodable(t *testing.T, e *env) {
	for _, policy := range []idempotency.StorePolicy{idempotency.FailClosed, idempotency.RunWithout} {
		g := e.guard(idempotency.Config{OnStoreError: policy})
		k := key(t, policy.String())
		if _, err := e.store.Store.CompareAndSet(context.Background(), idempotency.StoreKey(g, k), 0, []byte{9, 9, 9}, time.Hour); err != nil {
			t.Fatal(err)
		}
		var runs atomic.Int64
		_, err := idempotency.Do(context.Background(), g, k, func(ctx context.Context) (string, error) {
			runs.Add(1)
			return "ran", nil
		})
		switch policy {
		case idempotency.FailClosed:
			if !errors.Is(err, idempotency.ErrStoreUnavailable) || runs.Load() != 0 {
				t.Errorf("%v: got %v, %d runs; want ErrStoreUnavailable, never taken as absent", policy, err, runs.Load())
			}
		case idempotency.RunWithout:
			if err != nil || runs.Load() != 1 {
				t.Errorf("%v: got %v, %d runs; want a run without the store", policy, err, runs.Load())
			}
		}
	}
}
