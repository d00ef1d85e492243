package idempotency_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

// TestFuncDuplicateKeepsHTTPStatus: the package doc says that a
// handler using package httperror that returns Do's errors answers "for a
// ReplayedError the status and public message of the original error", and
// Func is offered for "a typed route". Since Func turns a duplicate's
// replayed Final error into an aws-lambda-go InvokeResponse_Error (for the
// Lambda runtime's errorType), that error has no HTTP status: a Func'd
// function called from an HTTP handler answers its first caller 409 with
// the public message, and every duplicate 500 with a generic one.
func TestFuncDuplicateKeepsHTTPStatus(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: "review2-funchttp"})
	if err != nil {
		t.Fatal(err)
	}
	reserve := idempotency.Func(g, "reserve", nil, func(ctx context.Context, sku string) (string, error) {
		return "", idempotency.Final(httperror.New(http.StatusConflict, "out of stock"))
	})
	for _, attempt := range []string{"first", "duplicate"} {
		_, err := reserve(context.Background(), "A-1")
		ans := httperror.AnswerOf(err)
		if ans.Status != http.StatusConflict || ans.Message != "out of stock" {
			t.Errorf("%s call: %T answers %d %q; want 409 %q, as the function's error did",
				attempt, err, ans.Status, ans.Message, "out of stock")
		}
	}
}
