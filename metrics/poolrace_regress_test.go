package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/funcify/funcify/metrics"
	"github.com/funcify/funcify/observe"
)

// TestLateAddPooledSet: goroutines that outlive their invocation keep
// adding while End takes the set back, empties it into the pool and the
// next invocation's Begin takes it again. Each value Add accepted is
// written with its own invocation's metrics, the goroutines stop at
// ErrNoMetrics, and (under -race) emptying and handing out the set does
// not race with a late goroutine's look, in Add, at whose set it is.
func TestLateAddPooledSet(t *testing.T) {
	e, w := newEmitter(t)
	const rounds, late = 3000, 3
	accepted := make([]atomic.Int64, rounds)
	var wg sync.WaitGroup
	for i := range rounds {
		inv := &observe.Invocation{Start: start}
		ctx := e.Begin(context.Background(), inv)
		name := fmt.Sprintf("late-%d", i)
		first := make(chan struct{})
		var once sync.Once
		for range late {
			wg.Go(func() {
				for {
					err := metrics.Add(ctx, name, 1, metrics.Count)
					if errors.Is(err, metrics.ErrNoMetrics) {
						return
					}
					if err != nil {
						t.Errorf("Add: %v", err)
						return
					}
					accepted[i].Add(1)
					once.Do(func() { close(first) })
					runtime.Gosched() // lets End come soon
				}
			})
		}
		<-first // the invocation has a value, so End writes something
		e.End(ctx, inv)
	}
	wg.Wait()
	out, _ := w.take()
	got := valuesByName(t, parseOutput(t, out), map[string]string{"service": "orders"})
	for i := range accepted {
		if g, n := len(got[fmt.Sprintf("late-%d", i)]), int(accepted[i].Load()); g != n {
			t.Errorf("invocation %d: %d values written, %d accepted", i, g, n)
		}
	}
}
