package breaker

import (
	"context"
	"testing"
	"time"

	"github.com/funcify/funcify/store/memstore"
)

// TestCountsSharedOnlyWhenRead: Counts' doc says Shared "reports
// whether the snapshot is wholly the circuit in the Store, read at most
// Staleness ago". When the read is cut off by the caller's context (a
// metrics exporter whose context has ended, or a refresh that the caller's
// deadline stops), refresh treats the failure as "not an outage", so the
// breaker is not degraded, and Counts reported its stale (here: never read,
// zero) copy as Shared: true, a closed circuit, while the circuit in the
// Store was open. Shared now needs a copy read within Staleness.
func TestCountsSharedOnlyWhenRead(t *testing.T) {
	clk := newClock()
	shared := memstore.New()
	a := New(Settings{Name: "orders", Store: shared, now: clk.Now, FailureThreshold: 1})
	b := New(Settings{Name: "orders", Store: shared, now: clk.Now, FailureThreshold: 1})
	call(a, errDown) // opens the circuit in the Store
	if got := a.State(context.Background()); got != Open {
		t.Fatalf("a: state %v, want open", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := b.Counts(ctx)
	if got.Shared && got.State != Open {
		t.Errorf("b.Counts on an ended ctx: got %+v: Shared says this is the circuit in the Store, read at most Staleness ago, but the Store's circuit is open and b never read it", got)
	}

	if got := b.Counts(context.Background()); !got.Shared || got.State != Open {
		t.Errorf("b.Counts on a live ctx: got %+v, want the Store's open circuit, Shared", got)
	}

	// Same with a copy that is older than Staleness: b read the closed
	// circuit long ago.
	c := New(Settings{Name: "other", Store: shared, now: clk.Now, FailureThreshold: 1})
	d := New(Settings{Name: "other", Store: shared, now: clk.Now, FailureThreshold: 1})
	d.State(context.Background()) // d reads the closed circuit
	clk.Advance(time.Hour)
	call(c, errDown)
	got = d.Counts(ctx)
	if got.Shared && got.State != Open {
		t.Errorf("d.Counts on an ended ctx, copy an hour old: got %+v, Shared with a copy far older than Staleness", got)
	}
}
