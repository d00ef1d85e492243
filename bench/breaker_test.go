package bench

import (
	"context"
	"errors"
	"testing"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/funcify/funcify/breaker"
	"github.com/sony/gobreaker/v2"
)

// BenchmarkBreaker measures a call through a closed circuit breaker around
// a no-op: the cost a breaker adds to every successful call.
func BenchmarkBreaker(b *testing.B) {
	ctx := context.Background()
	noop := func() (int, error) { return 1, nil }

	b.Run("funcify", func(b *testing.B) {
		br := breaker.New(breaker.Settings{Name: "bench"})
		fn := func(context.Context) (int, error) { return noop() }
		checkBreaker(b, func() (int, error) { return breaker.Execute(ctx, br, fn) })
		b.ReportAllocs()
		for b.Loop() {
			breaker.Execute(ctx, br, fn)
		}
	})
	b.Run("gobreaker", func(b *testing.B) {
		cb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{Name: "bench"})
		checkBreaker(b, func() (int, error) { return cb.Execute(noop) })
		b.ReportAllocs()
		for b.Loop() {
			cb.Execute(noop)
		}
	})
	b.Run("failsafe", func(b *testing.B) {
		cb := circuitbreaker.NewWithDefaults[int]()
		ex := failsafe.With[int](cb)
		checkBreaker(b, func() (int, error) { return ex.Get(noop) })
		b.ReportAllocs()
		for b.Loop() {
			ex.Get(noop)
		}
	})
}

// checkBreaker fails the benchmark unless a call goes through and returns
// the no-op's result.
func checkBreaker(b *testing.B, call func() (int, error)) {
	b.Helper()
	v, err := call()
	if err != nil || v != 1 {
		b.Fatalf("got %d, %v", v, err)
	}
}

func TestBreakersPassCalls(t *testing.T) {
	errDown := errors.New("down")
	br := breaker.New(breaker.Settings{Name: "t", FailureThreshold: 1, IsFailure: func(error) bool { return true }})
	if _, err := breaker.Execute(context.Background(), br, func(context.Context) (int, error) { return 0, errDown }); err != errDown {
		t.Fatal(err)
	}
	if _, err := breaker.Execute(context.Background(), br, func(context.Context) (int, error) { return 1, nil }); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("got %v, want ErrOpen: the benchmark would measure a breaker that does nothing", err)
	}
}
