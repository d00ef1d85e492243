package breaker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funcify/funcify/store/memstore"
)

// TestSkewSmallerThanOpenFor: opened() reckons a future OpenedAt
// from when this breaker first saw it, but only while OpenedAt is still
// after now: once this breaker's clock passes OpenedAt it switches back to
// OpenedAt itself. With a writer 10 s ahead and OpenFor 30 s, the other
// instance tells its caller at t=5 s to come back in 25 s (t=30 s), and at
// t=30 s still refuses, now with 10 s more: the stand-down lasts
// OpenFor + skew on this breaker's clock, which the fix says it does not,
// and the Retry-After it gave was wrong.
func TestSkewSmallerThanOpenFor(t *testing.T) {
	clk := newClock()
	const openFor = 30 * time.Second
	ahead := func() time.Time { return clk.Now().Add(10 * time.Second) }
	shared := memstore.New()
	skewed := New(Settings{Name: "orders", Store: shared, now: ahead, FailureThreshold: 1, OpenFor: openFor})
	other := New(Settings{Name: "orders", Store: shared, now: clk.Now, FailureThreshold: 1, OpenFor: openFor})
	call(skewed, errDown)

	clk.Advance(5 * time.Second)
	var oe *OpenError
	if err := call(other, nil); !errors.As(err, &oe) {
		t.Fatalf("t=5s: got %v, want an *OpenError", err)
	}
	promised := oe.RetryAfter
	t.Logf("t=5s: refused, RetryAfter %v", promised)
	clk.Advance(promised)
	if err := other.Err(context.Background()); err != nil {
		t.Errorf("t=%v, when the refusal said to come back: Err = %v, want nil (stand-down over after OpenFor on this clock)", 5*time.Second+promised, err)
	}
}
