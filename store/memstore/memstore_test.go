package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}

func TestClock(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := memstore.New(memstore.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	if _, err := s.CompareAndSet(ctx, "k", 0, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if it, _ := s.Get(ctx, "k"); it.Version == 0 || !it.Expires.Equal(now.Add(time.Minute)) {
		t.Fatalf("got %+v", it)
	}
	now = now.Add(time.Minute - time.Nanosecond)
	if it, _ := s.Get(ctx, "k"); it.Version == 0 {
		t.Fatal("expired a nanosecond early")
	}
	now = now.Add(time.Nanosecond)
	if it, _ := s.Get(ctx, "k"); it.Version != 0 {
		t.Fatalf("still there at its expiry: %+v", it)
	}
}

func TestCounterClock(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := memstore.New(memstore.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	if n, _ := s.Add(ctx, "c", 2, time.Minute); n != 2 {
		t.Fatalf("got %d, want 2", n)
	}
	now = now.Add(time.Minute - time.Nanosecond)
	if n, _ := s.Add(ctx, "c", 1, time.Hour); n != 3 {
		t.Fatalf("a nanosecond before expiry: got %d, want 3", n)
	}
	now = now.Add(time.Nanosecond)
	if n, _ := s.Add(ctx, "c", 1, time.Hour); n != 1 {
		t.Fatalf("at its expiry, whatever later Adds asked: got %d, want a fresh count of 1", n)
	}
}

// TestCountersSwept checks that counters used once and expired do not pile
// up: a counter per time window, say.
func TestCountersSwept(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := memstore.New(memstore.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for i := range 10000 {
		if _, err := s.Add(ctx, fmt.Sprint("window-", i), 1, time.Minute); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	if n := s.Counters(); n > 128 {
		t.Fatalf("%d counters kept of 10000, all but one expired", n)
	}
}

func ExampleStore() {
	s := memstore.New()
	ctx := context.Background()
	v, _ := s.CompareAndSet(ctx, "greeting", 0, []byte("hello"), time.Hour)
	_, err := s.CompareAndSet(ctx, "greeting", 0, []byte("hi"), time.Hour)
	it, _ := s.Get(ctx, "greeting")
	fmt.Println(string(it.Value), it.Version == v, err)
	// Output: hello true store: version conflict
}

func ExampleStore_Add() {
	s := memstore.New()
	ctx := context.Background()
	for range 3 {
		n, _ := s.Add(ctx, "failures", 1, time.Minute)
		fmt.Println(n)
	}
	// Output:
	// 1
	// 2
	// 3
}

func ExampleStore_Insert() {
	s := memstore.New()
	ctx := context.Background()
	v, _, _ := s.Insert(ctx, "order/o-1", []byte("first"), time.Hour)
	// The key is taken: the item that holds it comes back with the
	// conflict, with no Get after it.
	_, cur, err := s.Insert(ctx, "order/o-1", []byte("second"), time.Hour)
	fmt.Println(errors.Is(err, store.ErrConflict), string(cur.Value), cur.Version == v)
	// Output: true first true
}
