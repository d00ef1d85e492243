package idempotency_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

// TestLateCompletionFillsExpiredSlot: a call that outlives its lease, whose
// record the store has expired and nobody has taken over, still stores its
// outcome, so that a duplicate replays it instead of running again.
func TestLateCompletionFillsExpiredSlot(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := &env{t: t, clock: clk, store: &faultyStore{Store: memstore.New(memstore.WithClock(clk.Now))}, scope: "late"}
	g := e.guard(idempotency.Config{MinLease: time.Second, MaxLease: time.Minute})
	got, err := idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		clk.Advance(2 * time.Minute) // the record expires in the store
		return "late", nil
	})
	if err != nil || got != "late" {
		t.Fatalf("got %q, %v", got, err)
	}
	e.checkLogs(0, "")
	got, err = idempotency.Do(context.Background(), g, key(t, "k"), func(ctx context.Context) (string, error) {
		return "", errors.New("must not run")
	})
	if err != nil || got != "late" {
		t.Fatalf("duplicate: got %q, %v; want the late call's result", got, err)
	}
}
