package breaker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDo: Do passes fn's error back, counts failures as Execute does,
// rejects calls without calling fn while the circuit is open, lets a trial
// through after OpenFor, and counts a panic before re-raising it.
func TestDo(t *testing.T) {
	clk := newClock()
	b := New(Settings{Name: "do", now: clk.Now, FailureThreshold: 2, OpenFor: time.Minute})
	ctx := context.Background()
	calls := 0
	fail := func(context.Context) error { calls++; return errDown }
	invalid := errors.New("invalid input")

	if err := Do(ctx, b, func(context.Context) error { calls++; return invalid }); err != invalid {
		t.Fatalf("a call that is not a failure: got %v, want its error", err)
	}
	if err := Do(ctx, b, fail); err != errDown {
		t.Fatalf("first failure: got %v, want %v", err, errDown)
	}
	if got := b.State(ctx); got != Closed {
		t.Fatalf("one failure of two: state %v, want closed (the invalid input must not count)", got)
	}
	if err := Do(ctx, b, fail); err != errDown {
		t.Fatalf("second failure: got %v, want %v", err, errDown)
	}
	before := calls
	if err := Do(ctx, b, fail); !errors.Is(err, ErrOpen) {
		t.Fatalf("open circuit: got %v, want ErrOpen", err)
	}
	if calls != before {
		t.Errorf("open circuit: fn called %d times, want none", calls-before)
	}

	clk.Advance(time.Minute)
	if err := Do(ctx, b, func(context.Context) error { return nil }); err != nil {
		t.Fatalf("trial: got %v, want nil", err)
	}
	if got := b.State(ctx); got != Closed {
		t.Fatalf("after a successful trial: state %v, want closed", got)
	}

	for i := range 2 {
		func() {
			defer func() {
				if v := recover(); v != "boom" {
					t.Fatalf("panic %d: recovered %v, want the panic re-raised", i, v)
				}
			}()
			Do(ctx, b, func(context.Context) error { panic("boom") })
		}()
	}
	if got := b.State(ctx); got != Open {
		t.Errorf("two panics: state %v, want open", got)
	}
}

// TestDoAllocs: on a closed circuit Do allocates nothing, as Execute.
func TestDoAllocs(t *testing.T) {
	b := New(Settings{Name: "allocs"})
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	if n := testing.AllocsPerRun(100, func() { Do(ctx, b, fn) }); n != 0 {
		t.Errorf("Do on a closed circuit: %v allocations, want 0", n)
	}
	fnT := func(context.Context) (int, error) { return 1, nil }
	if n := testing.AllocsPerRun(100, func() { Execute(ctx, b, fnT) }); n != 0 {
		t.Errorf("Execute on a closed circuit: %v allocations, want 0", n)
	}
}
