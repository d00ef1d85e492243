package observe_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/funcify/funcify/event"
	"github.com/funcify/funcify/observe"
)

// failures counts the invocations that failed, by route; a real observer
// would guard its state for concurrent invocations.
type failures map[string]int

func (f failures) Begin(ctx context.Context, inv *observe.Invocation) context.Context { return ctx }

func (f failures) End(ctx context.Context, inv *observe.Invocation) {
	if inv.Err != nil || inv.Status >= 500 {
		f[inv.Route]++
	}
}

// An Observer is told of each invocation's beginning and end; the app
// (app.WithObserver) fills in the Invocation.
func Example() {
	var o observe.Observer = failures{}
	inv := &observe.Invocation{Kind: event.SQS, Route: "order-events"}
	ctx := o.Begin(context.Background(), inv)
	inv.Err = errors.New("downstream unavailable")
	o.End(ctx, inv)
	fmt.Println(o)
	// Output: map[order-events:1]
}
