package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
)

// TestDynamoResultTooLarge: with Config.MaxResultBytes raised over
// DynamoDB's item limit of 400 KB, which dynalite enforces too, the store
// refuses the completion: Do returns the result with an error that wraps
// ErrResultTooLarge, and a duplicate gets ErrResultTooLarge, neither a
// second run nor ErrInProgress.
func TestDynamoResultTooLarge(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	g, err := idempotency.New(idempotency.Config{Store: dynamostore.New(c, newTable(t, c)), Scope: "dynamo", MaxResultBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 450<<10)
	var runs atomic.Int64
	fn := func(ctx context.Context) (string, error) {
		runs.Add(1)
		return big, nil
	}
	ctx := context.Background()
	k := idempotency.NewKey("POST /orders", "k", []byte(payload))
	got, err := idempotency.Do(ctx, g, k, fn)
	if got != big || !errors.Is(err, idempotency.ErrResultTooLarge) || !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("got %d bytes, %v; want the result with ErrResultTooLarge, wrapping the store's error", len(got), err)
	}
	got, err = idempotency.Do(ctx, g, k, fn)
	if got != "" || !errors.Is(err, idempotency.ErrResultTooLarge) || runs.Load() != 1 {
		t.Fatalf("duplicate: got %q, %v, %d runs; want ErrResultTooLarge and no second run", got, err, runs.Load())
	}
}
