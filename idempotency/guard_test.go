package idempotency_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

func TestNewRefuses(t *testing.T) {
	s := memstore.New()
	tests := []struct {
		name string
		cfg  idempotency.Config
		msg  string
	}{
		{"no store", idempotency.Config{}, "Store is nil"},
		{"negative TTL", idempotency.Config{Store: s, TTL: -1}, "TTL is negative"},
		{"negative margin", idempotency.Config{Store: s, LeaseMargin: -1}, "LeaseMargin is negative"},
		{"negative MinLease", idempotency.Config{Store: s, MinLease: -1}, "MinLease is negative"},
		{"negative MaxLease", idempotency.Config{Store: s, MaxLease: -1}, "MaxLease is negative"},
		{"MinLease over MaxLease", idempotency.Config{Store: s, MinLease: 2 * idempotency.DefaultMaxLease}, "longer than MaxLease"},
		{"MaxLease under the default MinLease", idempotency.Config{Store: s, MaxLease: 1}, "longer than MaxLease"},
		{"negative MaxResultBytes", idempotency.Config{Store: s, MaxResultBytes: -1}, "MaxResultBytes is negative"},
		{"unknown policy", idempotency.Config{Store: s, OnStoreError: 7}, "StorePolicy(7)"},
	}
	for _, tt := range tests {
		g, err := idempotency.New(tt.cfg)
		if err == nil || g != nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, %v; want an error saying %q", tt.name, g, err, tt.msg)
		}
	}
	if _, err := idempotency.New(idempotency.Config{Store: s, MinLease: idempotency.DefaultMaxLease}); err != nil {
		t.Errorf("MinLease equal to MaxLease: %v", err)
	}
}

func TestStorePolicyString(t *testing.T) {
	for p, want := range map[idempotency.StorePolicy]string{idempotency.FailClosed: "fail-closed", idempotency.RunWithout: "run-without", 3: "StorePolicy(3)"} {
		if got := p.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestZeroKey(t *testing.T) {
	g := newGuard(t, "s")
	_, err := idempotency.Do(context.Background(), g, idempotency.Key{}, func(ctx context.Context) (int, error) {
		t.Fatal("ran with the zero Key")
		return 0, nil
	})
	if err == nil || !strings.Contains(err.Error(), "zero Key") {
		t.Fatalf("got %v, want an error", err)
	}
}

// TestGoexit: a function that ends its goroutine (t.FailNow in a test
// helper) lets its key go, as a panic does.
func TestGoexit(t *testing.T) {
	g := newGuard(t, "s")
	k := idempotency.NewKey("r", "id", nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		idempotency.Do(context.Background(), g, k, func(ctx context.Context) (int, error) {
			runtime.Goexit()
			return 0, nil
		})
	})
	wg.Wait()
	n, err := idempotency.Do(context.Background(), g, k, func(ctx context.Context) (int, error) { return 1, nil })
	if err != nil || n != 1 {
		t.Fatalf("got %d, %v; want the retry to run", n, err)
	}
}

// TestUnencodableResult: a result that encoding/json refuses is returned
// with an error, and recorded so that duplicates do not run again.
func TestUnencodableResult(t *testing.T) {
	g := newGuard(t, "s")
	k := idempotency.NewKey("r", "id", nil)
	runs := 0
	fn := func(ctx context.Context) (chan int, error) {
		runs++
		return make(chan int), nil
	}
	ch, err := idempotency.Do(context.Background(), g, k, fn)
	if ch == nil || err == nil || !strings.Contains(err.Error(), "encode the result") {
		t.Fatalf("got %v, %v; want the result and an error", ch, err)
	}
	_, err = idempotency.Do(context.Background(), g, k, fn)
	var re *idempotency.ReplayedError
	if !errors.As(err, &re) || runs != 1 {
		t.Fatalf("duplicate: got %v after %d runs; want a ReplayedError, one run", err, runs)
	}
}

func TestReplayDecodeError(t *testing.T) {
	g := newGuard(t, "s")
	k := idempotency.NewKey("r", "id", nil)
	idempotency.Do(context.Background(), g, k, func(ctx context.Context) (string, error) { return "text", nil })
	_, err := idempotency.Do(context.Background(), g, k, func(ctx context.Context) (int, error) { return 1, nil })
	if err == nil || !strings.Contains(err.Error(), "decode the stored result") {
		t.Fatalf("got %v, want the decode error", err)
	}
}
