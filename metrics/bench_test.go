package metrics_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/funcify/funcify/metrics"
	"github.com/funcify/funcify/observe"
)

var names10 = func() (n []string) {
	for i := range 10 {
		n = append(n, fmt.Sprint("Metric", i))
	}
	return n
}()

// TestAddAllocs: after an invocation's first metric, Add allocates
// nothing, and a flush through a warm pool allocates nothing but the
// invocation's context.
func TestAddAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items")
	}
	e, err := metrics.New(metrics.WithNamespace("Shop"), metrics.WithWriter(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	inv := &observe.Invocation{Start: start}
	cycle := func() {
		ctx := e.Begin(context.Background(), inv)
		for _, n := range names10 {
			metrics.Add(ctx, n, 1, metrics.Count)
		}
		e.End(ctx, inv)
	}
	cycle()
	if a := testing.AllocsPerRun(100, cycle); a > 1 {
		t.Errorf("an invocation of 10 metrics allocates %v times, want 1 (its context)", a)
	}
	ctx := e.Begin(context.Background(), inv)
	defer e.End(ctx, inv)
	metrics.Add(ctx, "First", 1, metrics.Count)
	i := 0
	if a := testing.AllocsPerRun(1000, func() {
		metrics.Add(ctx, names10[i%10], float64(i), metrics.Milliseconds, metrics.High)
		i++
	}); a != 0 {
		t.Errorf("Add allocates %v times", a)
	}
}

// BenchmarkAdd: one Add into an invocation that has metrics already; every
// 1,000 Adds the invocation ends and another begins, with the timer
// stopped (BenchmarkFlush10 measures that).
func BenchmarkAdd(b *testing.B) {
	e, err := metrics.New(metrics.WithNamespace("Shop"), metrics.WithWriter(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	inv := &observe.Invocation{Start: start}
	ctx := e.Begin(context.Background(), inv)
	metrics.Add(ctx, "First", 1, metrics.Count)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := metrics.Add(ctx, names10[i%10], float64(i), metrics.Milliseconds); err != nil {
			b.Fatal(err)
		}
		if i++; i%1000 == 0 {
			b.StopTimer()
			e.End(ctx, inv)
			ctx = e.Begin(context.Background(), inv)
			metrics.Add(ctx, "First", 1, metrics.Count)
			b.StartTimer()
		}
	}
	e.End(ctx, inv)
}

// BenchmarkFlush10: an invocation's End with 10 metrics of one value each:
// two documents' worth of work done once, one write, to io.Discard. The
// Begin and the 10 Adds are in the figure too.
func BenchmarkFlush10(b *testing.B) {
	e, err := metrics.New(metrics.WithNamespace("Shop"), metrics.WithService("orders"), metrics.WithWriter(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	inv := &observe.Invocation{Start: start}
	b.ReportAllocs()
	for b.Loop() {
		ctx := e.Begin(context.Background(), inv)
		for k, n := range names10 {
			metrics.Add(ctx, n, float64(k)+0.25, metrics.Milliseconds)
		}
		e.End(ctx, inv)
	}
}

// BenchmarkBeginEnd: an invocation that adds no metric.
func BenchmarkBeginEnd(b *testing.B) {
	e, err := metrics.New(metrics.WithNamespace("Shop"), metrics.WithWriter(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	inv := &observe.Invocation{Start: start}
	b.ReportAllocs()
	for b.Loop() {
		e.End(e.Begin(context.Background(), inv), inv)
	}
}
