package idempotency_test

// Found in review (issue 15): DefaultMaxLease is 15 minutes, Lambda's
// longest timeout, and it caps the deadline plus LeaseMargin. A function
// configured with the 15-minute timeout starts with about 15 minutes left, so
// its lease ends at its deadline plus nearly nothing instead of plus
// LeaseMargin (10 s): the margin that covers the completion write and clock
// skew between instances is gone exactly for the longest-running calls,
// and a duplicate may take over while the first call is writing its outcome.

import (
	"context"
	"testing"
	"time"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

func TestLeaseKeepsMarginAtLambdaMaxTimeout(t *testing.T) {
	s := memstore.New()
	g, err := idempotency.New(idempotency.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15*time.Minute - 50*time.Millisecond) // a 15-minute Lambda, just started
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	k := idempotency.NewKey("r15", "id", nil)
	var leaseEnd time.Time
	_, err = idempotency.Do(ctx, g, k, func(ctx context.Context) (string, error) {
		it, err := s.Get(ctx, idempotency.StoreKey(g, k))
		if err != nil {
			return "", err
		}
		leaseEnd, err = idempotency.LeaseEnd(it.Value)
		return "x", err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The lease is computed on the monotonic clock and stored as wall time:
	// the two may differ by some nanoseconds. Before the fix it ended about
	// 50 ms after the deadline.
	if got, want := leaseEnd.Sub(deadline), idempotency.DefaultLeaseMargin-time.Millisecond; got < want {
		t.Fatalf("lease ends %v after the deadline, want at least LeaseMargin (%v)", got, want)
	}
}
