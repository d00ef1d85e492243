package idempotency_test

import (
	"context"
	"strings"
	"testing"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

// TestFuncResultTooLargeStillAnswers: the issue asks that a result
// larger than the store can hold give "a clear error at completion, the
// handler's result still returned". Do returns the result with an error
// that wraps ErrResultTooLarge; Func passes both on, and app, like any
// caller of a func(ctx, In) (Out, error), takes the error as the call's
// outcome: the invoke fails although its function ran and its side effects
// are done, and its result never reaches the caller. An asynchronous
// invoke is then retried by Lambda, and each retry, a duplicate, gets
// ErrResultTooLarge: the result is lost for good.
func TestFuncResultTooLargeStillAnswers(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: "review-large", MaxResultBytes: 256})
	if err != nil {
		t.Fatal(err)
	}
	type refund struct {
		OrderID string `json:"orderId"`
	}
	big := strings.Repeat("r", 300)
	runs := 0
	a := app.New(quiet)
	app.HandleInvoke(a, idempotency.Func(g, "refund",
		func(r refund) (string, error) { return r.OrderID, nil },
		func(ctx context.Context, r refund) (string, error) {
			runs++
			return big, nil
		}))
	out, err := a.Invoke(context.Background(), []byte(`{"orderId":"o-1"}`))
	if err != nil || string(out) != `"`+big+`"` || runs != 1 {
		t.Fatalf("got %.40q..., %v, %d runs; want the function's result, which ran once", out, err, runs)
	}
}
