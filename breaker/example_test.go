package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/store/memstore"
)

type unavailable struct{}

func (unavailable) Error() string         { return "503 Service Unavailable" }
func (unavailable) DownstreamStatus() int { return 503 }

func ExampleExecute() {
	b := breaker.New(breaker.Settings{Name: "orders-api"})
	ctx := context.Background()
	for range 4 {
		_, err := breaker.Execute(ctx, b, func(ctx context.Context) (string, error) {
			return "", unavailable{} // the downstream is failing
		})
		fmt.Println(err, errors.Is(err, breaker.ErrOpen))
	}
	// Output:
	// 503 Service Unavailable false
	// 503 Service Unavailable false
	// 503 Service Unavailable false
	// breaker: circuit open true
}

func ExampleDo() {
	b := breaker.New(breaker.Settings{Name: "audit-log", FailureThreshold: 2})
	ctx := context.Background()
	send := func(ctx context.Context) error { return unavailable{} } // a call that returns only an error
	for range 3 {
		err := breaker.Do(ctx, b, send)
		fmt.Println(err, errors.Is(err, breaker.ErrOpen))
	}
	// Output:
	// 503 Service Unavailable false
	// 503 Service Unavailable false
	// breaker: circuit open true
}

func ExampleNew() {
	// Breakers of one name on one shared store are one circuit, whichever
	// instance of the function they run in.
	shared := memstore.New() // redisstore or dynamostore across instances
	onChange := func(name string, from, to breaker.State) { fmt.Println(name, from, "->", to) }
	a := breaker.New(breaker.Settings{Name: "payments", Store: shared, FailureThreshold: 2, OnStateChange: onChange})
	b := breaker.New(breaker.Settings{Name: "payments", Store: shared, FailureThreshold: 2, OnStateChange: onChange})

	fail := func(ctx context.Context) (int, error) { return 0, unavailable{} }
	breaker.Execute(context.Background(), a, fail)
	breaker.Execute(context.Background(), b, fail)
	// Output: payments closed -> open
}

func ExampleIsDownstreamFailure() {
	fmt.Println(breaker.IsDownstreamFailure(unavailable{}))
	fmt.Println(breaker.IsDownstreamFailure(context.DeadlineExceeded))
	fmt.Println(breaker.IsDownstreamFailure(errors.New("invalid input")))
	// Output:
	// true
	// true
	// false
}

func ExampleBreaker_State() {
	b := breaker.New(breaker.Settings{Name: "search"})
	fmt.Println(b.State(context.Background()))
	// Output: closed
}

func ExampleBreaker_Counts() {
	b := breaker.New(breaker.Settings{Name: "inventory", FailureThreshold: 3})
	ctx := context.Background()
	fail := func(ctx context.Context) error { return unavailable{} }
	breaker.Do(ctx, b, fail)
	breaker.Do(ctx, b, fail)
	c := b.Counts(ctx)
	fmt.Println(c.State, c.Generation, c.Failures, c.Shared)
	breaker.Do(ctx, b, fail)
	c = b.Counts(ctx)
	fmt.Println(c.State, c.Generation, c.Failures, !c.OpenedAt.IsZero())
	// Output:
	// closed 0 2 false
	// open 1 0 true
}

func ExampleOpenError() {
	b := breaker.New(breaker.Settings{Name: "payments", FailureThreshold: 1, OpenFor: time.Minute})
	ctx := context.Background()
	breaker.Do(ctx, b, func(ctx context.Context) error { return unavailable{} })

	err := breaker.Do(ctx, b, func(ctx context.Context) error { return nil })
	var oe *breaker.OpenError
	if errors.As(err, &oe) {
		// A handler that returns err answers 503 with this header.
		fmt.Println(errors.Is(err, breaker.ErrOpen), oe.HTTPStatus(), oe.Header().Get("Retry-After"))
	}
	// Output: true 503 60
}

func ExampleBreaker_Err() {
	b := breaker.New(breaker.Settings{Name: "billing", FailureThreshold: 1, OpenFor: time.Minute})
	ctx := context.Background()
	fmt.Println(b.Err(ctx))
	breaker.Do(ctx, b, func(ctx context.Context) error { return unavailable{} })

	// Before queueing work for billing, ask whether a call would go out.
	if err := b.Err(ctx); err != nil {
		fmt.Println(err, errors.Is(err, breaker.ErrOpen))
	}
	// Output:
	// <nil>
	// breaker: circuit open true
}
