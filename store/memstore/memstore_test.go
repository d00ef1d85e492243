package memstore_test

import (
	"context"
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

func ExampleStore() {
	s := memstore.New()
	ctx := context.Background()
	v, _ := s.CompareAndSet(ctx, "greeting", 0, []byte("hello"), time.Hour)
	_, err := s.CompareAndSet(ctx, "greeting", 0, []byte("hi"), time.Hour)
	it, _ := s.Get(ctx, "greeting")
	fmt.Println(string(it.Value), it.Version == v, err)
	// Output: hello true store: version conflict
}
