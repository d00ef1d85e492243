// Package storetest checks that a [store.Store] keeps the store contract:
// absent keys, compare-and-set, conflicts, deletes, expiry, and no lost
// update under concurrent writers.
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
