// Package storetest checks that a [store.Store] keeps the store contract:
// absent keys, compare-and-set, conflicts, deletes, expiry, and no lost
// update under concurrent writers; and, for a store that is also a
// [store.Counter] or a [store.Inserter], the contract of each.
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
)

// Run checks the store that newStore returns against the contract. Each
// subtest gets a fresh store from newStore and uses keys of its own.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Absent", func(t *testing.T) { testAbsent(t, newStore(t)) })
	t.Run("CompareAndSet", func(t *testing.T) { testCompareAndSet(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("TTL", func(t *testing.T) { testTTL(t, newStore(t)) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, newStore(t)) })
	t.Run("NoLostUpdates", func(t *testing.T) { testNoLostUpdates(t, newStore(t)) })
	t.Run("CanceledContext", func(t *testing.T) { testCanceled(t, newStore(t)) })
	t.Run("Counter", func(t *testing.T) {
		c, ok := newStore(t).(store.Counter)
		if !ok {
			t.Skip("not a store.Counter")
		}
		t.Run("Add", func(t *testing.T) { testAdd(t, c) })
		t.Run("Expiry", func(t *testing.T) { testCounterExpiry(t, c) })
		t.Run("NoLostAdds", func(t *testing.T) { testNoLostAdds(t, c) })
		t.Run("CanceledContext", func(t *testing.T) { testAddCanceled(t, c) })
	})
	t.Run("Inserter", func(t *testing.T) {
		s := newStore(t)
		if _, ok := s.(store.Inserter); !ok {
			t.Skip("not a store.Inserter")
		}
		t.Run("Absent", func(t *testing.T) { testInsert(t, newStore(t)) })
		t.Run("Expired", func(t *testing.T) { testInsertExpired(t, newStore(t)) })
		t.Run("Concurrent", func(t *testing.T) { testConcurrentInserts(t, newStore(t)) })
		t.Run("CanceledContext", func(t *testing.T) { testInsertCanceled(t, newStore(t)) })
	})
}

func key(t *testing.T) string {
	return "storetest/" + t.Name() + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

func testAbsent(t *testing.T, s store.Store) {
	ctx := context.Background()
	it, err := s.Get(ctx, key(t))
	if err != nil || it.Version != 0 || it.Value != nil {
		t.Fatalf("Get of an absent key: got %+v, %v; want a zero Item", it, err)
	}
}

func testCompareAndSet(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := key(t)
	v1, err := s.CompareAndSet(ctx, k, 0, []byte("one"), 0)
	if err != nil || v1 == 0 {
		t.Fatalf("create: got version %d, %v", v1, err)
	}
	if _, err := s.CompareAndSet(ctx, k, 0, []byte("again"), 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("create over an existing key: got %v, want ErrConflict", err)
	}
	it, err := s.Get(ctx, k)
	if err != nil || it.Version != v1 || !bytes.Equal(it.Value, []byte("one")) || !it.Expires.IsZero() {
		t.Fatalf("Get after create: got %+v, %v", it, err)
	}
	v2, err := s.CompareAndSet(ctx, k, v1, []byte("two"), 0)
	if err != nil || v2 == 0 || v2 == v1 {
		t.Fatalf("update: got version %d (was %d), %v", v2, v1, err)
	}
	if _, err := s.CompareAndSet(ctx, k, v1, []byte("stale"), 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update with a stale version: got %v, want ErrConflict", err)
	}
	if _, err := s.CompareAndSet(ctx, k, v2+12345, []byte("wrong"), 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update with a made-up version: got %v, want ErrConflict", err)
	}
	it, err = s.Get(ctx, k)
	if err != nil || it.Version != v2 || string(it.Value) != "two" {
		t.Fatalf("Get after update: got %+v, %v", it, err)
	}
	// Values are bytes, any bytes.
	bin := []byte{0, 1, 2, 0xff, '"', '\\'}
	v3, err := s.CompareAndSet(ctx, k, v2, bin, 0)
	if err != nil {
		t.Fatal(err)
	}
	if it, err := s.Get(ctx, k); err != nil || it.Version != v3 || !bytes.Equal(it.Value, bin) {
		t.Fatalf("binary value: got %+v, %v", it, err)
	}
	// An empty value is a value.
	v4, err := s.CompareAndSet(ctx, k, v3, []byte{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if it, err := s.Get(ctx, k); err != nil || it.Version != v4 || len(it.Value) != 0 {
		t.Fatalf("empty value: got %+v, %v", it, err)
	}
}

func testDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := key(t)
	if err := s.Delete(ctx, k, 0); err != nil {
		t.Fatalf("delete of an absent key: %v", err)
	}
	v, err := s.CompareAndSet(ctx, k, 0, []byte("x"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, k, v+1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete with a wrong version: got %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, k, 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete of a present key with version 0: got %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, k, v); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if it, err := s.Get(ctx, k); err != nil || it.Version != 0 {
		t.Fatalf("Get after delete: got %+v, %v", it, err)
	}
	// A reader who saw the deleted item can neither write it back nor
	// delete it again: the key is absent, its version is 0.
	if _, err := s.CompareAndSet(ctx, k, v, []byte("stale"), 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("compare-and-set with the deleted item's version %d: got %v, want ErrConflict", v, err)
	}
	if err := s.Delete(ctx, k, v); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete with the deleted item's version %d: got %v, want ErrConflict", v, err)
	}
	if it, err := s.Get(ctx, k); err != nil || it.Version != 0 {
		t.Fatalf("Get after the stale writes: got %+v, %v; want the key absent", it, err)
	}
	// Nor write over a new one.
	v2, err := s.CompareAndSet(ctx, k, 0, []byte("y"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if v2 == v {
		t.Errorf("the recreated key reused version %d", v)
	}
	if _, err := s.CompareAndSet(ctx, k, v, []byte("stale"), 0); !errors.Is(err, store.ErrConflict) {
		t.Errorf("compare-and-set with the deleted item's version %d over the new one: got %v, want ErrConflict", v, err)
	}
	if it, err := s.Get(ctx, k); err != nil || it.Version != v2 || string(it.Value) != "y" {
		t.Errorf("Get of the new item: got %+v, %v; want version %d, value y", it, err, v2)
	}
}

func testTTL(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := key(t)
	before := time.Now()
	if _, err := s.CompareAndSet(ctx, k, 0, []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	it, err := s.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	// Stores keep expiry to the second or better.
	if it.Expires.Before(before.Add(time.Hour-2*time.Second)) || it.Expires.After(time.Now().Add(time.Hour+2*time.Second)) {
		t.Errorf("got Expires %v, want about an hour after %v", it.Expires, before)
	}
}

// testExpiry waits, polling, for an item written with a short TTL to read as
// absent. Stores with second-granularity expiry need up to two seconds.
func testExpiry(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := key(t)
	if _, err := s.CompareAndSet(ctx, k, 0, []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		it, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if it.Version == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("item with a 1s TTL still there after 5s: %+v", it)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// An expired key can be created again with version 0.
	if _, err := s.CompareAndSet(ctx, k, 0, []byte("y"), 0); err != nil {
		t.Fatalf("create over an expired key: %v", err)
	}
}

// testNoLostUpdates has concurrent writers increment one counter by
// read-modify-compare-and-set; the final count must equal the increments.
func testNoLostUpdates(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := key(t)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range each {
				for attempt := 0; ; attempt++ {
					if attempt > 1000 {
						errs <- fmt.Errorf("no progress after %d conflicts", attempt)
						return
					}
					it, err := s.Get(ctx, k)
					if err != nil {
						errs <- err
						return
					}
					n := 0
					if it.Version != 0 {
						n, _ = strconv.Atoi(string(it.Value))
					}
					_, err = s.CompareAndSet(ctx, k, it.Version, []byte(strconv.Itoa(n+1)), 0)
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrConflict) {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	it, err := s.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(it.Value); got != strconv.Itoa(writers*each) {
		t.Errorf("got count %s, want %d: updates were lost", got, writers*each)
	}
}

func testCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Get(ctx, key(t)); err == nil {
		t.Error("Get with a canceled context: got no error")
	}
	if _, err := s.CompareAndSet(ctx, key(t), 0, []byte("x"), 0); err == nil {
		t.Error("CompareAndSet with a canceled context: got no error")
	}
}

func testAdd(t *testing.T, c store.Counter) {
	ctx := context.Background()
	k, other := key(t), key(t)+"/other"
	for i, step := range []struct{ delta, want int64 }{{1, 1}, {2, 3}, {-5, -2}, {0, -2}, {1 << 40, 1<<40 - 2}} {
		if got, err := c.Add(ctx, k, step.delta, time.Hour); err != nil || got != step.want {
			t.Fatalf("Add %d (delta %d): got %d, %v; want %d", i, step.delta, got, err, step.want)
		}
	}
	if got, err := c.Add(ctx, other, 7, 0); err != nil || got != 7 {
		t.Fatalf("Add to another key: got %d, %v; want 7", got, err)
	}
	if got, err := c.Add(ctx, k, 0, 0); err != nil || got != 1<<40-2 {
		t.Fatalf("Add 0 after adding to another key: got %d, %v; want %d", got, err, 1<<40-2)
	}
}

// testCounterExpiry waits, polling, for a counter created with a short TTL
// to count from 0 again, while Adds with a long TTL keep coming: they must
// not move the expiry that the first Add set.
func testCounterExpiry(t *testing.T, c store.Counter) {
	ctx := context.Background()
	k := key(t)
	if n, err := c.Add(ctx, k, 1, time.Second); err != nil || n != 1 {
		t.Fatalf("create: got %d, %v; want 1", n, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := c.Add(ctx, k, 1, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break // expired, and counted again from 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("counter created with a 1s TTL still counts after 5s (%d): did a later Add move its expiry?", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The Add that created it again set its expiry an hour on, not the
	// expiry of the counter it replaced, which has passed.
	if n, err := c.Add(ctx, k, 0, 0); err != nil || n != 1 {
		t.Fatalf("counter recreated with a 1h TTL: got %d, %v; want 1", n, err)
	}
}

// testNoLostAdds has concurrent writers add 1 to one counter: every Add
// must return a value of its own, and the final count must equal the Adds.
func testNoLostAdds(t *testing.T, c store.Counter) {
	ctx := context.Background()
	k := key(t)
	const writers, each = 8, 25
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // guards seen
		seen = make(map[int64]int)
	)
	start := make(chan struct{})
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			<-start
			for range each {
				n, err := c.Add(ctx, k, 1, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seen[n]++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for n := int64(1); n <= writers*each; n++ {
		if seen[n] != 1 {
			t.Errorf("value %d returned %d times, want once", n, seen[n])
		}
	}
	if got, err := c.Add(ctx, k, 0, time.Hour); err != nil || got != writers*each {
		t.Errorf("got count %d, %v; want %d: adds were lost", got, err, writers*each)
	}
}

func testAddCanceled(t *testing.T, c store.Counter) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Add(ctx, key(t), 1, 0); err == nil {
		t.Error("Add with a canceled context: got no error")
	}
}

// sameItem reports whether got is want, its expiry to the second (stores
// compute it from a remaining TTL at the time of the read).
func sameItem(got, want store.Item) bool {
	d := got.Expires.Sub(want.Expires)
	return got.Version == want.Version && bytes.Equal(got.Value, want.Value) &&
		got.Expires.IsZero() == want.Expires.IsZero() && d > -2*time.Second && d < 2*time.Second
}

// testInsert checks Insert on an absent key, then on a present one: a
// conflict that returns the item as Get reads it, and writes nothing.
func testInsert(t *testing.T, s store.Store) {
	ins := s.(store.Inserter)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		value []byte
		ttl   time.Duration
	}{
		{"forever", []byte("first"), 0},
		{"with TTL", []byte("first"), time.Hour},
		{"binary", []byte{0, 1, 0xff, '"', '\\'}, 0},
		{"empty", []byte{}, time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := key(t)
			v, cur, err := ins.Insert(ctx, k, tt.value, tt.ttl)
			if err != nil || v == 0 || cur.Version != 0 || cur.Value != nil {
				t.Fatalf("Insert on an absent key: got %d, %+v, %v; want a version and a zero Item", v, cur, err)
			}
			want, err := s.Get(ctx, k)
			if err != nil || want.Version != v || !bytes.Equal(want.Value, tt.value) || want.Expires.IsZero() != (tt.ttl <= 0) {
				t.Fatalf("Get after Insert: got %+v, %v; want version %d, value %q", want, err, v, tt.value)
			}
			v2, cur, err := ins.Insert(ctx, k, []byte("second"), time.Minute)
			if !errors.Is(err, store.ErrConflict) || v2 != 0 {
				t.Fatalf("Insert on a present key: got %d, %v; want ErrConflict", v2, err)
			}
			if !sameItem(cur, want) {
				t.Fatalf("Insert on a present key returned %+v, want the stored item %+v", cur, want)
			}
			if it, err := s.Get(ctx, k); err != nil || !sameItem(it, want) {
				t.Fatalf("Get after a conflicting Insert: got %+v, %v; want %+v unchanged", it, err, want)
			}
			// The returned item is the caller's to keep and change.
			if len(cur.Value) > 0 {
				cur.Value[0] ^= 0xff
				if it, _ := s.Get(ctx, k); !bytes.Equal(it.Value, tt.value) {
					t.Fatalf("changing the returned value changed the stored one: %q", it.Value)
				}
			}
			// Its version writes it, as Get's does.
			if _, err := s.CompareAndSet(ctx, k, want.Version, []byte("third"), 0); err != nil {
				t.Fatalf("CompareAndSet with the version Insert returned: %v", err)
			}
			// After a delete, the key is free again.
			it, _ := s.Get(ctx, k)
			if err := s.Delete(ctx, k, it.Version); err != nil {
				t.Fatal(err)
			}
			v3, _, err := ins.Insert(ctx, k, []byte("fourth"), 0)
			if err != nil || v3 == 0 || v3 == v || v3 == it.Version {
				t.Fatalf("Insert after Delete: got %d, %v; want a new version (not %d or %d)", v3, err, v, it.Version)
			}
		})
	}
}

// testInsertExpired waits, polling, for an item written with a short TTL to
// expire, then inserts over it.
func testInsertExpired(t *testing.T, s store.Store) {
	ins := s.(store.Inserter)
	ctx := context.Background()
	k := key(t)
	if _, _, err := ins.Insert(ctx, k, []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, cur, err := ins.Insert(ctx, k, []byte("y"), 0)
		if err == nil {
			if it, err := s.Get(ctx, k); err != nil || it.Version != v || string(it.Value) != "y" {
				t.Fatalf("Get after Insert over an expired item: got %+v, %v; want version %d, value y", it, err, v)
			}
			return
		}
		if !errors.Is(err, store.ErrConflict) || cur.Version == 0 || string(cur.Value) != "x" {
			t.Fatalf("Insert before expiry: got %+v, %v; want ErrConflict and the item", cur, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("item with a 1s TTL still refuses Insert after 5s: %+v", cur)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testConcurrentInserts has inserters race on one key, each with a value of
// its own: exactly one wins, and every other gets ErrConflict with the
// winner's item.
func testConcurrentInserts(t *testing.T, s store.Store) {
	ins := s.(store.Inserter)
	ctx := context.Background()
	k := key(t)
	const n = 16
	type result struct {
		v   int64
		cur store.Item
		err error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			var r result
			r.v, r.cur, r.err = ins.Insert(ctx, k, []byte(strconv.Itoa(i)), time.Hour)
			results[i] = r
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, r := range results {
		switch {
		case r.err == nil:
			if winner >= 0 {
				t.Fatalf("inserters %d and %d both won", winner, i)
			}
			winner = i
		case !errors.Is(r.err, store.ErrConflict):
			t.Fatalf("inserter %d: %v", i, r.err)
		}
	}
	if winner < 0 {
		t.Fatal("no inserter won")
	}
	it, err := s.Get(ctx, k)
	if err != nil || it.Version != results[winner].v || string(it.Value) != strconv.Itoa(winner) {
		t.Fatalf("Get: got %+v, %v; want the winner's value %d at version %d", it, err, winner, results[winner].v)
	}
	for i, r := range results {
		if i != winner && !sameItem(r.cur, it) {
			t.Errorf("inserter %d got %+v with ErrConflict, want the winner's item %+v", i, r.cur, it)
		}
	}
}

func testInsertCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k := key(t)
	if _, _, err := s.(store.Inserter).Insert(ctx, k, []byte("x"), 0); err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("Insert with a canceled context: got %v, want the context's error", err)
	}
	if it, err := s.Get(context.Background(), k); err != nil || it.Version != 0 {
		t.Errorf("Get after an Insert with a canceled context: got %+v, %v; want the key absent", it, err)
	}
}
