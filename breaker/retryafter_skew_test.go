package breaker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funcify/funcify/store/memstore"
)

// TestOpenErrorRetryAfterSkew: the *OpenError's RetryAfter (and so
// the Retry-After header funcify's caller gets) is reckoned from the
// OpenedAt that another instance wrote with its own clock. An instance
// whose clock runs an hour ahead opens the circuit; every other instance
// then rejected calls for OpenFor + 1 h and told its callers to come back
// in 3900 s, although OpenFor is 5 minutes. RetryAfter is now at most
// OpenFor, and an OpenedAt in the future counts as now.
func TestOpenErrorRetryAfterSkew(t *testing.T) {
	clk := newClock()
	ahead := func() time.Time { return clk.Now().Add(time.Hour) }
	shared := memstore.New()
	skewed := New(Settings{Name: "orders", Store: shared, now: ahead, FailureThreshold: 1})
	other := New(Settings{Name: "orders", Store: shared, now: clk.Now, FailureThreshold: 1})
	call(skewed, errDown)

	err := call(other, nil)
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("other: got %v, want an *OpenError", err)
	}
	if oe.RetryAfter > other.set.OpenFor {
		_, h, _ := answer(err)
		t.Errorf("RetryAfter %v is longer than OpenFor %v (Retry-After: %s sent to funcify's caller)", oe.RetryAfter, other.set.OpenFor, h.Get("Retry-After"))
	}
	clk.Advance(other.set.OpenFor)
	if got := other.State(context.Background()); got != HalfOpen {
		t.Errorf("after OpenFor on other's clock: state %v, want half-open (the stand-down lasts OpenFor + the writer's skew)", got)
	}
}
