package token_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/token"
)

// lostLeaseReply is a store whose first write of a lease takes effect but
// whose reply does not reach the caller: it waits for the caller's context
// to end and returns its error (the caller's deadline ended during the
// write), or, with slow set, returns a timeout of its own (a slow store,
// StoreTimeout passed), as Redis and DynamoDB clients do when the answer to
// an applied write is late.
type lostLeaseReply struct {
	store.Store
	slow bool
	done atomic.Bool
}

func (s *lostLeaseReply) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if !bytes.Contains(value, []byte(`"holder"`)) || s.done.Swap(true) {
		return s.Store.CompareAndSet(ctx, key, version, value, ttl)
	}
	if _, err := s.Store.CompareAndSet(context.WithoutCancel(ctx), key, version, value, ttl); err != nil {
		return 0, err
	}
	if s.slow {
		return 0, errors.New("i/o timeout")
	}
	<-ctx.Done()
	return 0, ctx.Err()
}

// TestLeaseWriteLostReply: a lease write whose outcome is unknown (the
// caller's deadline ended during it, or the store answered late) may have
// taken the lease. The Source reads the store back: it gives its lease
// back when its caller has gone, and uses it when its caller is live, so
// that no cold instance waits for a lease nobody uses.
func TestLeaseWriteLostReply(t *testing.T) {
	for _, slow := range []bool{false, true} {
		t.Run(map[bool]string{false: "caller deadline", true: "store timeout"}[slow], func(t *testing.T) {
			p := newProvider(t)
			shared := &lostLeaseReply{Store: memstore.New(), slow: slow}
			first := newSource(t, token.Config{TokenURL: p.URL, Store: shared})
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			tok, err := first.Token(cctx) // cut off during the lease write, or served from its own grant
			cancel()
			if slow && (err != nil || tok.AccessToken != "tok-1") {
				t.Errorf("a live caller whose lease write answered late: got %v, %v; want tok-1 granted under the lease", tok, err)
			}
			it, err := shared.Get(ctx, first.Key())
			if err == nil && bytes.Contains(it.Value, []byte(`"holder"`)) {
				t.Errorf("after the lease write with a lost reply, the store holds %s: a lease nobody uses", it.Value)
			}
			// The next cold instance, with a second of patience: a
			// phantom lease fails it.
			second := newSource(t, token.Config{TokenURL: p.URL, Store: shared, LeaseWait: time.Second})
			start := time.Now()
			if _, err := second.Token(ctx); err != nil {
				t.Errorf("the next cold instance failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
			}
		})
	}
}

// conflictingStore answers every write with store.ErrConflict, as a store
// does when other writers always come first, and counts the calls.
type conflictingStore struct {
	store.Store
	gets, writes atomic.Int64
}

func (s *conflictingStore) Get(ctx context.Context, key string) (store.Item, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *conflictingStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	s.writes.Add(1)
	return 0, fmt.Errorf("%w: another writer", store.ErrConflict)
}

// TestLeaseConflictsBackOff: a lease write that conflicts is tried again
// after a growing, jittered wait, not at once, and only until the lease
// wait's end; then the caller grants without the store, even without a
// deadline of its own.
func TestLeaseConflictsBackOff(t *testing.T) {
	p := newProvider(t)
	shared := &conflictingStore{Store: memstore.New()}
	src := newSource(t, token.Config{TokenURL: p.URL, Store: shared})
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := src.Token(cctx)
	if err != nil {
		t.Errorf("a caller with 300 ms facing endless lease conflicts: got %v, want a token granted without the store once half its time is gone", err)
	}
	if w := shared.writes.Load(); w > 20 {
		t.Errorf("one call to Token made %d store writes and %d reads in 300 ms, want a bounded few", w, shared.gets.Load())
	}

	// Without a deadline it returns at the lease wait's end, with a
	// token granted without the store.
	src2 := newSource(t, token.Config{TokenURL: p.URL, Store: shared, LeaseWait: 200 * time.Millisecond})
	type result struct {
		tok *token.Token
		err error
	}
	done := make(chan result, 1)
	bctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { tok, err := src2.Token(bctx); done <- result{tok, err} }()
	select {
	case r := <-done:
		if r.err != nil {
			t.Errorf("at the lease wait's end: got %v, want a token granted without the store", r.err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("Token without a deadline has not returned after 2 s (LeaseWait 200 ms); %d writes so far", shared.writes.Load())
		stop()
		<-done
	}
}

// countingStore counts the writes.
type countingStore struct {
	store.Store
	writes atomic.Int64
}

func (s *countingStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	s.writes.Add(1)
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestHeldBackTakesNoLease: a cold Source held back by a Retry-After, or by
// an open breaker, sends no request, and so takes no lease: taking and
// giving it back would cost two store writes per call for nothing during
// an outage, and hold back the instances that may ask.
func TestHeldBackTakesNoLease(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	p.set(status(503, ``, "Retry-After", "60"))
	shared := &countingStore{Store: memstore.New(memstore.WithClock(clk.Now))}
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared}))
	if _, err := src.Token(ctx); err == nil {
		t.Fatal("no error from a 503")
	}
	w0 := shared.writes.Load()
	for range 10 {
		clk.Add(time.Second)
		if _, err := src.Token(ctx); err == nil {
			t.Fatal("no error while held back")
		}
	}
	if g := p.grants.Load(); g != 1 {
		t.Fatalf("%d requests while held back by Retry-After, want 1", g)
	}
	if w := shared.writes.Load() - w0; w > 0 {
		t.Errorf("10 calls held back by a Retry-After, which send no request, made %d store writes (lease and release each)", w)
	}
}

// TestFarFutureLeaseIgnored: a stored lease that ends much further ahead
// than a lease can (a skewed clock, a bad writer) is not honoured: it would
// hold every cold instance back for as long as it says.
func TestFarFutureLeaseIgnored(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	shared := memstore.New(memstore.WithClock(clk.Now))
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared, LeaseWait: 100 * time.Millisecond}))
	for _, tt := range []struct {
		ahead time.Duration
		held  bool
	}{
		{token.DefaultLeaseDuration, true},
		{token.DefaultLeaseDuration + 4*time.Second, true}, // within the skew allowed
		{24 * time.Hour, false},
	} {
		lease := fmt.Sprintf(`{"holder":"ghost","lease":%d}`, clk.Now().Add(tt.ahead).UnixNano())
		it, err := shared.Get(ctx, src.Key())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := shared.CompareAndSet(ctx, src.Key(), it.Version, []byte(lease), time.Hour); err != nil {
			t.Fatal(err)
		}
		_, err = src.Token(ctx)
		if held := errors.Is(err, token.ErrUnavailable); held != tt.held {
			t.Errorf("a lease ending %v ahead: got %v, want it honoured: %v", tt.ahead, err, tt.held)
		}
	}
}

// bumpOnce is a store whose first write of a token is preceded by a write
// that changes nothing but the version, as ssmstore's void writes do: the
// token write conflicts although the lease is still its writer's.
type bumpOnce struct {
	store.Store
	done atomic.Bool
}

func (s *bumpOnce) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if bytes.Contains(value, []byte(`"token"`)) && !s.done.Swap(true) {
		it, err := s.Store.Get(ctx, key)
		if err != nil {
			return 0, err
		}
		if _, err := s.Store.CompareAndSet(ctx, key, it.Version, it.Value, ttl); err != nil {
			return 0, err
		}
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestTokenWriteConflictWithLeaseHeld: a token write that conflicts while
// the store still holds this Source's lease writes the token over the new
// version, rather than take the lease for lost and leave it held.
func TestTokenWriteConflictWithLeaseHeld(t *testing.T) {
	p := newProvider(t)
	shared := &bumpOnce{Store: memstore.New()}
	first := newSource(t, token.Config{TokenURL: p.URL, Store: shared})
	mustToken(t, first)
	it, err := shared.Get(ctx, first.Key())
	if err != nil || bytes.Contains(it.Value, []byte(`"holder"`)) || !bytes.Contains(it.Value, []byte(`"token"`)) {
		t.Fatalf("after the grant the store holds %s (%v), want the token and no lease", it.Value, err)
	}
	second := newSource(t, token.Config{TokenURL: p.URL, Store: shared, LeaseWait: time.Millisecond})
	if tok := mustToken(t, second); tok.AccessToken != "tok-1" || p.grants.Load() != 1 {
		t.Errorf("the next instance got %v after %d grants, want tok-1 from the store", tok.AccessToken, p.grants.Load())
	}
}

// throttledErr is the error of a write that a store refused because the
// key is under other updates, with a Throttled() bool method, as
// ssmstore.ErrThrottled has.
type throttledErr struct{}

func (throttledErr) Error() string   { return "throttled (TooManyUpdates)" }
func (throttledErr) Throttled() bool { return true }

// throttledLeaseOnce refuses the first lease write as throttled: it takes
// no effect.
type throttledLeaseOnce struct {
	store.Store
	done atomic.Bool
}

func (s *throttledLeaseOnce) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if bytes.Contains(value, []byte(`"holder"`)) && !s.done.Swap(true) {
		return 0, fmt.Errorf("store: %w", throttledErr{})
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestThrottledLeaseWrite: a lease write that the store refused as
// throttled (another write of the key under way: most likely another
// instance's lease) is not a store outage: the Source backs off and looks
// again, as after a conflict, rather than bypass the store for 10 s and
// grant a token that it does not share.
func TestThrottledLeaseWrite(t *testing.T) {
	p := newProvider(t)
	log, logs := newLogger()
	shared := &throttledLeaseOnce{Store: memstore.New()}
	first := newSource(t, token.Config{TokenURL: p.URL, Store: shared, Logger: log})
	mustToken(t, first)
	if strings.Contains(logs.String(), "store failed") {
		t.Errorf("a throttled lease write was logged as a store failure:\n%s", logs)
	}
	second := newSource(t, token.Config{TokenURL: p.URL, Store: shared, LeaseWait: time.Millisecond})
	if tok := mustToken(t, second); tok.AccessToken != "tok-1" || p.grants.Load() != 1 {
		t.Errorf("the next instance got %v after %d grants, want tok-1 from the store", tok.AccessToken, p.grants.Load())
	}
}

// throttledPutOnce refuses the first write without a lease (the new
// token's) as throttled: it takes no effect, as ssmstore.ErrThrottled says.
type throttledPutOnce struct {
	store.Store
	done atomic.Bool
}

func (s *throttledPutOnce) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if !bytes.Contains(value, []byte(`"holder"`)) && bytes.Contains(value, []byte(`"token"`)) && !s.done.Swap(true) {
		return 0, fmt.Errorf("store: %w", throttledErr{})
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestThrottledTokenPut: the lease holder's write of its new token meets a
// throttle (another write of the key under way: in a cold-start stampede
// on Parameter Store, the losers' void lease writes). It did not take
// effect, and the store is not down: the holder backs off, checks that it
// still holds the lease and writes again, as after a conflict, rather than
// log a store outage, bypass the store for 10 s and keep the token to
// itself, so that every cold instance grants its own.
func TestThrottledTokenPut(t *testing.T) {
	p := newProvider(t)
	log, logs := newLogger()
	shared := &throttledPutOnce{Store: memstore.New()}
	first := newSource(t, token.Config{TokenURL: p.URL, Store: shared, Logger: log})
	mustToken(t, first)
	if strings.Contains(logs.String(), "store failed") {
		t.Errorf("a throttled token write was logged as a store outage:\n%s", logs)
	}
	second := newSource(t, token.Config{TokenURL: p.URL, Store: shared, LeaseWait: 200 * time.Millisecond})
	if tok := mustToken(t, second); tok.AccessToken != "tok-1" || p.grants.Load() != 1 {
		t.Errorf("the next instance got %v after %d grants, want tok-1 from the store (one grant)", tok.AccessToken, p.grants.Load())
	}
}

// slowTokenWriteOnce makes the first write of a token (no lease in it) hang
// until its context ends, as one slow store call does; every other call,
// the release included, works.
type slowTokenWriteOnce struct {
	store.Store
	done atomic.Bool
}

func (s *slowTokenWriteOnce) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if !bytes.Contains(value, []byte(`"holder"`)) && bytes.Contains(value, []byte(`"token"`)) && !s.done.Swap(true) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Second):
		}
	}
	return s.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestTimedOutPutReleasesLease: issue 11, defect 9 (a failed final write
// after taking the lease leaves the lease held: cold instances then wait
// the full lease). One token write that timed out (StoreTimeout 200 ms
// here) says little of the next call: the holder reads the store back and
// gives its lease back, within an allowance of its own. A cold instance
// with 3 s left then takes the lease and grants, rather than wait for a
// lease nobody uses and fail, although the provider and the store answer.
func TestTimedOutPutReleasesLease(t *testing.T) {
	p := newProvider(t)
	shared := &slowTokenWriteOnce{Store: memstore.New()}
	first := newSource(t, token.Config{TokenURL: p.URL, Store: shared, StoreTimeout: 200 * time.Millisecond})
	mustToken(t, first)
	second := newSource(t, token.Config{TokenURL: p.URL, Store: shared, StoreTimeout: 200 * time.Millisecond})
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	tok, err := second.Token(cctx)
	if err != nil {
		t.Fatalf("cold instance, store and provider both up: Token failed after %v: %v (the lease of the first instance, whose token write timed out once, was never released)", time.Since(start).Round(time.Millisecond), err)
	}
	if tok.AccessToken != "tok-2" {
		t.Errorf("cold instance: got %v, want tok-2, its own grant", tok.AccessToken)
	}
}
