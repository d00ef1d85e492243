package breakerclock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/internal/breakerclock"
)

// TestSet: a breaker built from Settings given a clock with Set runs on it:
// moving the clock past OpenFor makes the open circuit let a trial through.
func TestSet(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s := breaker.Settings{Name: "clocked", FailureThreshold: 1, OpenFor: time.Minute}
	breakerclock.Set(&s, func() time.Time { return now })
	b := breaker.New(s)
	fail := func(context.Context) error { return context.DeadlineExceeded }
	ctx := context.Background()
	if err := breaker.Do(ctx, b, fail); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first call: got %v, want the call's error", err)
	}
	if got := b.State(ctx); got != breaker.Open {
		t.Fatalf("after a failure: state %v, want open", got)
	}
	now = now.Add(time.Minute)
	if got := b.State(ctx); got != breaker.HalfOpen {
		t.Errorf("a stand-down later on the set clock: state %v, want half-open", got)
	}
}

func TestSetWrongType(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Set on a value that is not a *breaker.Settings did not panic")
		}
	}()
	breakerclock.Set(breaker.Settings{}, time.Now)
}
