package idempotency_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/store/memstore"
)

// TestFinalInvokeResponseError: runtimeapi documents an aws-lambda-go
// messages.InvokeResponse_Error as "how a Go handler names its own
// errorType (which Step Functions retry and catch on)", and Func promises
// that a Final error's duplicates fail with the errorType the first call
// had. For Final(InvokeResponse_Error{Type: "OutOfStock"}) the first call
// fails with errorType "OutOfStock", but the record stores the Go type's
// name, so its duplicates fail with errorType "InvokeResponse_Error" and, as
// message, the %#v dump that InvokeResponse_Error.Error returns: a Catch on
// "OutOfStock" matches the first attempt and not its retry.
func TestFinalInvokeResponseError(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: "review2-invokeerror"})
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(quiet)
	app.HandleInvoke(a, idempotency.Func(g, "reserve",
		func(sku string) (string, error) { return sku, nil },
		func(ctx context.Context, sku string) (string, error) {
			return "", idempotency.Final(messages.InvokeResponse_Error{Message: "out of stock: " + sku, Type: "OutOfStock"})
		}))
	s := runOnFakeRuntime(t, a)
	for _, attempt := range []string{"first", "duplicate"} {
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"A-1"`)})
		res := s.Wait(t, id)
		var doc struct {
			Message string `json:"errorMessage"`
			Type    string `json:"errorType"`
		}
		if err := json.Unmarshal(res.Body, &doc); !res.Error || err != nil {
			t.Fatalf("%s: got %q (error %v), want a function error", attempt, res.Body, res.Error)
		}
		if doc.Type != "OutOfStock" || doc.Message != "out of stock: A-1" {
			t.Errorf("%s invocation: errorType %q, errorMessage %q; want %q, %q (as the function named it)",
				attempt, doc.Type, doc.Message, "OutOfStock", "out of stock: A-1")
		}
	}
}
