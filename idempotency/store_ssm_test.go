package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/ssmstore"
)

// TestSSMResultTooLarge: ssmstore refuses a value over its tier's 4 KB
// (ssmstore.ErrTooLarge) although Config.MaxResultBytes would take it: Do
// returns the result with an error that wraps ErrResultTooLarge, and the
// key is recorded as done without a result, so that a duplicate gets
// ErrResultTooLarge, not a second run nor ErrInProgress.
func TestSSMResultTooLarge(t *testing.T) {
	srv := awsfake.New(t)
	s := ssmstore.New(ssm.NewFromConfig(srv.Config()), "/funcify/test")
	g, err := idempotency.New(idempotency.Config{Store: s, Scope: "ssm"})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 5000)
	var runs atomic.Int64
	fn := func(ctx context.Context) (string, error) {
		runs.Add(1)
		return big, nil
	}
	ctx := context.Background()
	k := idempotency.NewKey("POST /orders", "k", []byte(payload))
	got, err := idempotency.Do(ctx, g, k, fn)
	if got != big || !errors.Is(err, idempotency.ErrResultTooLarge) || !errors.Is(err, ssmstore.ErrTooLarge) || !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("got %d bytes, %v; want the result with ErrResultTooLarge, wrapping ssmstore's error", len(got), err)
	}
	got, err = idempotency.Do(ctx, g, k, fn)
	if got != "" || !errors.Is(err, idempotency.ErrResultTooLarge) || runs.Load() != 1 {
		t.Fatalf("duplicate: got %q, %v, %d runs; want ErrResultTooLarge and no second run", got, err, runs.Load())
	}
}
