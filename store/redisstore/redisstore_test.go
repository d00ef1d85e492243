package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/storetest"
)

// newClient returns a go-redis client of addr, built as the package
// documentation recommends, and closes it when the test ends.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// testKey returns a key no other test uses.
func testKey(t testing.TB) string {
	return t.Name() + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

func TestContract(t *testing.T) {
	c := newClient(t, testenv.Redis(t))
	storetest.Run(t, func(t *testing.T) store.Store { return New(c) })
}

func TestContractPrefix(t *testing.T) {
	c := newClient(t, testenv.Redis(t))
	storetest.Run(t, func(t *testing.T) store.Store { return New(c, WithPrefix("{other}:")) })
}

// TestLayout checks what the package documentation says about the keys.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, testenv.Redis(t))
	tests := []struct {
		name, prefix string
		opts         []Option
	}{
		{"default", "funcify:", nil},
		{"WithPrefix", "app/", []Option{WithPrefix("app/")}},
		{"empty prefix", "", []Option{WithPrefix("")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(c, tt.opts...)
			k := testKey(t)
			v, err := s.CompareAndSet(ctx, k, 0, []byte("x\x00y"), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.HGetAll(ctx, tt.prefix+k).Result()
			if err != nil {
				t.Fatal(err)
			}
			nonce, err := strconv.ParseInt(got["nonce"], 10, 64)
			if err != nil || nonce <= 0 {
				t.Errorf("HGETALL %s: nonce %q, want a positive decimal number", tt.prefix+k, got["nonce"])
			}
			want := map[string]string{"value": "x\x00y", "version": strconv.FormatInt(v, 10), "nonce": got["nonce"]}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("HGETALL %s = %q, want %q", tt.prefix+k, got, want)
			}
			// Each write has a nonce of its own.
			v, err = s.CompareAndSet(ctx, k, v, []byte("x\x00y"), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if again := c.HGet(ctx, tt.prefix+k, "nonce").Val(); again == got["nonce"] {
				t.Errorf("two writes with the same nonce %s", again)
			}
			if ttl := c.PTTL(ctx, tt.prefix+k).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
				t.Errorf("PTTL = %v, want about an hour", ttl)
			}
			// A write without TTL removes the expiry.
			if _, err := s.CompareAndSet(ctx, k, v, []byte("z"), 0); err != nil {
				t.Fatal(err)
			}
			if ttl := c.PTTL(ctx, tt.prefix+k).Val(); ttl != -1 {
				t.Errorf("PTTL after a write without TTL = %v, want -1 (no expiry)", ttl)
			}
		})
	}
}

// TestVersionsAbove2To53 checks that versions travel exactly: as Lua
// numbers, versions above 2^53 would round.
func TestVersionsAbove2To53(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, testenv.Redis(t))
	for _, first := range []int64{1, 1<<53 + 1, 1 << 62, 1<<63 - 3} {
		t.Run(strconv.FormatInt(first, 10), func(t *testing.T) {
			s := New(c)
			s.firstVersion = func() int64 { return first }
			k := testKey(t)
			v, err := s.CompareAndSet(ctx, k, 0, []byte("0"), 0)
			if err != nil || v != first {
				t.Fatalf("create: got %d, %v; want %d", v, err, first)
			}
			for i := int64(1); i <= 2; i++ {
				v, err = s.CompareAndSet(ctx, k, v, []byte(strconv.FormatInt(i, 10)), 0)
				if err != nil || v != first+i {
					t.Fatalf("update %d: got %d, %v; want %d", i, v, err, first+i)
				}
			}
			if it, err := s.Get(ctx, k); err != nil || it.Version != first+2 {
				t.Fatalf("Get: got %+v, %v; want version %d", it, err, first+2)
			}
			if _, err := s.CompareAndSet(ctx, k, v-1, nil, 0); !errors.Is(err, store.ErrConflict) {
				t.Errorf("update with version %d, one below the stored one: got %v, want ErrConflict", v-1, err)
			}
			if err := s.Delete(ctx, k, v+1); !errors.Is(err, store.ErrConflict) {
				t.Errorf("delete with version %d, one above the stored one: got %v, want ErrConflict", v+1, err)
			}
			if err := s.Delete(ctx, k, v); err != nil {
				t.Errorf("delete: %v", err)
			}
		})
	}
}

// TestCounterLayout checks what the package documentation says about
// counters, and that counts travel exactly above 2^53.
func TestCounterLayout(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, testenv.Redis(t))
	s := New(c)
	k := testKey(t)
	if n, err := s.Add(ctx, k, 1<<62, time.Hour); err != nil || n != 1<<62 {
		t.Fatalf("Add: got %d, %v; want %d", n, err, int64(1<<62))
	}
	if n, err := s.Add(ctx, k, 1, time.Minute); err != nil || n != 1<<62+1 {
		t.Fatalf("Add: got %d, %v; want %d", n, err, int64(1<<62+1))
	}
	got, err := c.HGetAll(ctx, DefaultPrefix+k).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"count": strconv.FormatInt(1<<62+1, 10)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("HGETALL = %q, want %q", got, want)
	}
	// The first Add's TTL holds; the second's did not shorten it.
	if ttl := c.PTTL(ctx, DefaultPrefix+k).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("PTTL = %v, want about an hour", ttl)
	}
	if n, err := s.Add(ctx, k+"/forever", 1, 0); err != nil || n != 1 {
		t.Fatalf("Add without TTL: got %d, %v", n, err)
	}
	if ttl := c.PTTL(ctx, DefaultPrefix+k+"/forever").Val(); ttl != -1 {
		t.Errorf("PTTL of a counter without TTL = %v, want -1 (no expiry)", ttl)
	}
	// A key holding something else is an error, not a count.
	if err := c.Set(ctx, DefaultPrefix+k+"/string", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, k+"/string", 1, 0); err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") {
		t.Errorf("Add to a string key: got %v, want a redisstore error", err)
	}
}

// TestTwoClientsRace has writers on two separate clients, as two Lambda
// instances would have, compare-and-set one key from the same version:
// exactly one wins each round, and its value is the one stored.
func TestTwoClientsRace(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	stores := []*Store{New(newClient(t, addr)), New(newClient(t, addr))}
	k := testKey(t)
	const rounds, writers = 50, 8
	var version int64
	for round := range rounds {
		start := make(chan struct{})
		results := make([]error, writers)
		versions := make([]int64, writers)
		var wg sync.WaitGroup
		for w := range writers {
			s := stores[w%len(stores)]
			wg.Go(func() {
				<-start
				versions[w], results[w] = s.CompareAndSet(ctx, k, version, []byte(strconv.Itoa(w)), time.Minute)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range results {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both won version %d", round, winner, w, version)
			case err == nil:
				winner = w
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d: writer %d: %v", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won version %d", round, version)
		}
		// Each client sees the winner's write.
		for i, s := range stores {
			it, err := s.Get(ctx, k)
			if err != nil || it.Version != versions[winner] || string(it.Value) != strconv.Itoa(winner) {
				t.Fatalf("round %d: client %d reads %+v, %v; want writer %d's value at version %d",
					round, i, it, err, winner, versions[winner])
			}
		}
		version = versions[winner]
	}
}

// TestDeleteRace has deleters and writers on two clients race on one
// version of an item: exactly one of them wins.
func TestDeleteRace(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	stores := []*Store{New(newClient(t, addr)), New(newClient(t, addr))}
	k := testKey(t)
	const rounds, racers = 50, 8 // even racers delete, odd ones write
	deletes := 0
	for round := range rounds {
		version, err := stores[0].CompareAndSet(ctx, k, 0, []byte("start"), time.Minute)
		if err != nil {
			t.Fatalf("round %d: create: %v", round, err)
		}
		start := make(chan struct{})
		results := make([]error, racers)
		var wg sync.WaitGroup
		for r := range racers {
			s := stores[(r/2)%len(stores)]
			wg.Go(func() {
				<-start
				if r%2 == 0 {
					results[r] = s.Delete(ctx, k, version)
				} else {
					_, results[r] = s.CompareAndSet(ctx, k, version, []byte(strconv.Itoa(r)), time.Minute)
				}
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for r, err := range results {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: racers %d and %d both won version %d", round, winner, r, version)
			case err == nil:
				winner = r
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d: racer %d: %v", round, r, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no racer won version %d", round, version)
		}
		it, err := stores[1].Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if winner%2 == 0 {
			deletes++
			if it.Version != 0 {
				t.Fatalf("round %d: a delete won, yet Get returns %+v", round, it)
			}
			continue
		}
		if string(it.Value) != strconv.Itoa(winner) {
			t.Fatalf("round %d: writer %d won, yet Get returns %+v", round, winner, it)
		}
		if err := stores[0].Delete(ctx, k, it.Version); err != nil {
			t.Fatalf("round %d: clean up: %v", round, err)
		}
	}
	t.Logf("deletes won %d of %d rounds", deletes, rounds)
}

func TestTTL(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, testenv.Redis(t))
	s := New(c)
	k := testKey(t)
	expires := func(v int64, ttl time.Duration) {
		t.Helper()
		before := time.Now()
		it, err := s.Get(ctx, k)
		after := time.Now()
		if err != nil || it.Version != v {
			t.Fatalf("Get: got %+v, %v; want version %d", it, err, v)
		}
		if ttl == 0 {
			if !it.Expires.IsZero() {
				t.Errorf("got Expires %v, want none", it.Expires)
			}
			return
		}
		// Expires is early by the round trip, never later than the
		// moment Redis drops the item. Redis counts whole milliseconds,
		// and drops the item in the millisecond after its expiry time:
		// up to a millisecond after the write plus ttl, which happened
		// before this Get began.
		latest := before.Add(ttl + time.Millisecond)
		if it.Expires.After(latest) || it.Expires.Before(latest.Add(-time.Second)) {
			t.Errorf("got Expires %v, want within a second before %v (the Get took %v)",
				it.Expires, latest, after.Sub(before))
		}
	}
	v, err := s.CompareAndSet(ctx, k, 0, []byte("x"), 90*time.Minute+1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	expires(v, 90*time.Minute+1500*time.Millisecond)
	if v, err = s.CompareAndSet(ctx, k, v, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	expires(v, 0)
	if v, err = s.CompareAndSet(ctx, k, v, []byte("x"), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	expires(v, 24*time.Hour)

	// A TTL below a millisecond is rounded up to one, not down to none.
	if v, err = s.CompareAndSet(ctx, k, v, []byte("x"), time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		it, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if it.Version == 0 {
			break
		}
		if it.Version != v || it.Expires.IsZero() || time.Now().After(deadline) {
			t.Fatalf("item written with a 1ns TTL: got %+v, want it gone within a millisecond", it)
		}
		time.Sleep(time.Millisecond)
	}
	// A reader of the expired item cannot write over a new one.
	v2, err := s.CompareAndSet(ctx, k, 0, []byte("y"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSet(ctx, k, v, []byte("stale"), 0); !errors.Is(err, store.ErrConflict) {
		t.Errorf("write with the expired item's version %d over version %d: got %v, want ErrConflict", v, v2, err)
	}
}

// TestServerStopped stops the Redis server in the middle of a test: every
// call fails promptly, by its context's deadline, with an error that is not
// ErrConflict.
func TestServerStopped(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	k := testKey(t)
	v, err := New(newClient(t, srv.Addr)).CompareAndSet(ctx, k, 0, []byte("x"), 0)
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	// With go-redis's defaults, a refused connection is dialled 5 times
	// 100 ms apart for each of 4 tries: about 2 s, so the deadline comes
	// first. Without retries it fails at once, with the dial error.
	fastFail := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { fastFail.Close() })
	clients := []struct {
		name         string
		client       *redis.Client
		timeout      time.Duration
		wantDeadline bool // the error wraps context.DeadlineExceeded
	}{
		{"default client", newClient(t, srv.Addr), 200 * time.Millisecond, true},
		{"no retries", fastFail, 2 * time.Second, false},
	}
	for _, c := range clients {
		s := New(c.client)
		calls := []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, k); return err }},
			{"CompareAndSet", func(ctx context.Context) error { _, err := s.CompareAndSet(ctx, k, v, []byte("y"), 0); return err }},
			{"Delete", func(ctx context.Context) error { return s.Delete(ctx, k, v) }},
		}
		for _, tt := range calls {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(ctx, c.timeout)
				defer cancel()
				start := time.Now()
				err := tt.call(ctx)
				elapsed := time.Since(start)
				if err == nil || errors.Is(err, store.ErrConflict) {
					t.Fatalf("got error %v, want a connection error", err)
				}
				if !strings.HasPrefix(err.Error(), "redisstore: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				if got := errors.Is(err, context.DeadlineExceeded); got != c.wantDeadline {
					t.Errorf("error %q: errors.Is(err, context.DeadlineExceeded) = %v, want %v", err, got, c.wantDeadline)
				}
				if limit := min(c.timeout, time.Second) + time.Second; elapsed > limit { // slack for a loaded machine, well under go-redis's 5 s read timeout
					t.Errorf("returned after %v, want at most %v", elapsed, limit)
				}
			})
		}
	}
}

// TestUnresponsiveServer checks that a call returns by its context's
// deadline when the server accepts connections and never answers, whether
// or not the client was built with ContextTimeoutEnabled.
func TestUnresponsiveServer(t *testing.T) {
	addr := silentServer(t)

	for _, enabled := range []bool{true, false} {
		t.Run(fmt.Sprintf("ContextTimeoutEnabled=%v", enabled), func(t *testing.T) {
			c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: enabled})
			t.Cleanup(func() { c.Close() })
			s := New(c)
			const timeout = 200 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			_, err := s.CompareAndSet(ctx, testKey(t), 0, []byte("x"), 0)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "redisstore: ") {
				t.Errorf("got error %v, want a redisstore error that wraps context.DeadlineExceeded", err)
			}
			if elapsed > timeout+time.Second { // slack for a loaded machine, well under go-redis's 5 s read timeout
				t.Errorf("returned after %v, past the %v deadline", elapsed, timeout)
			}
		})
	}
}

// TestScriptFlush checks that the store sends a script in full when the
// server does not know it (after a restart or SCRIPT FLUSH).
func TestScriptFlush(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, testenv.Redis(t))
	s := New(c)
	k := testKey(t)
	v, err := s.CompareAndSet(ctx, k, 0, []byte("x"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if it, err := s.Get(ctx, k); err != nil || it.Version != v {
		t.Fatalf("Get after SCRIPT FLUSH: got %+v, %v", it, err)
	}
	if _, err := s.CompareAndSet(ctx, k, v, []byte("y"), 0); err != nil {
		t.Fatalf("CompareAndSet after SCRIPT FLUSH: %v", err)
	}
}

// TestForeignKey checks the errors for a key that holds something this
// package did not write: never ErrConflict, always the package prefix.
func TestForeignKey(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, testenv.Redis(t))
	s := New(c)
	str, hash := testKey(t)+"/string", testKey(t)+"/hash"
	if err := c.Set(ctx, DefaultPrefix+str, "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, DefaultPrefix+hash, "value", "x", "version", "not a number").Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"Get string", func() error { _, err := s.Get(ctx, str); return err }},
		{"CompareAndSet string", func() error { _, err := s.CompareAndSet(ctx, str, 0, nil, 0); return err }},
		{"Delete string", func() error { return s.Delete(ctx, str, 0) }},
		{"Get bad version", func() error { _, err := s.Get(ctx, hash); return err }},
	}
	for _, tt := range tests {
		err := tt.call()
		if err == nil || errors.Is(err, store.ErrConflict) || !strings.HasPrefix(err.Error(), "redisstore: ") {
			t.Errorf("%s: got %v, want a redisstore error other than ErrConflict", tt.name, err)
		}
	}
}

// BenchmarkGet reads a 512-byte item, with a context that has a deadline,
// as in Lambda, where the reply is awaited in another goroutine, and with one
// that cannot be done, where it is not.
func BenchmarkGet(b *testing.B) {
	s := New(newClient(b, testenv.Redis(b)))
	k := testKey(b)
	if _, err := s.CompareAndSet(context.Background(), k, 0, make([]byte, 512), time.Hour); err != nil {
		b.Fatal(err)
	}
	deadline, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	for _, bb := range []struct {
		name string
		ctx  context.Context
	}{
		{"deadline", deadline},
		{"background", context.Background()},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Get(bb.ctx, k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompareAndSet(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	s := New(newClient(b, testenv.Redis(b)))
	k := testKey(b)
	value := make([]byte, 512)
	var v int64
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if v, err = s.CompareAndSet(ctx, k, v, value, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSocketDeadlineWrapsDeadlineExceeded is the regression test for a call
// cut off by its context's deadline whose error did not wrap
// context.DeadlineExceeded: with ContextTimeoutEnabled, go-redis sets the
// connection's deadline from the context's and fails with an i/o timeout at
// that moment, often before the context's timer has marked it done, and
// wrap asked only ctx.Err(). A caller (the breaker) then took its own
// deadline for a Store outage.
func TestSocketDeadlineWrapsDeadlineExceeded(t *testing.T) {
	addr := silentServer(t)
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	s := New(c)
	const runs = 100
	missed := 0
	var last error
	for range runs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		_, err := s.Get(ctx, "k")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			missed++
			last = err
		}
	}
	if missed > 0 {
		t.Errorf("%d of %d calls cut off by their context's deadline did not wrap context.DeadlineExceeded; last: %v", missed, runs, last)
	}
}

// silentServer listens on a loopback port, accepts connections and never
// reads or answers, until the test ends. It returns its address.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex // guards conns
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestNewNilClientPanics: New panics at once on a nil client, a mistake in
// the code that sets the function up, rather than in the goroutine of the
// first call, where no caller can recover it.
func TestNewNilClientPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "redisstore: New with a nil client" {
			t.Errorf("got panic %v, want redisstore: New with a nil client", r)
		}
	}()
	New(nil)
}
