package idempotency_test

import (
	"context"
	"testing"
	"time"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

// hangingStore is a store that has stopped answering (a blackholed
// network, a DynamoDB endpoint that the SDK keeps retrying): every call
// waits until its context ends, then fails with the context's error, as
// redisstore and the AWS SDK do.
type hangingStore struct{ store.Store }

func (hangingStore) Get(ctx context.Context, key string) (store.Item, error) {
	<-ctx.Done()
	return store.Item{}, ctx.Err()
}

func (hangingStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func (hangingStore) Delete(ctx context.Context, key string, version int64) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestRunWithoutHangingStore: with OnStoreError RunWithout, the issue
// asks that a store outage run the function without idempotency. A store
// that does not answer at all is the usual outage of a network store, but
// Do gives the take the caller's whole deadline: the take fails only when
// ctx ends, Do then takes the failure as the caller's (ctx's error) rather
// than the store's, and the function never runs, under either policy.
// RunWithout is thus a no-op for a hanging store: every call fails after
// waiting out its deadline.
func TestRunWithoutHangingStore(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{
		Store:        hangingStore{memstore.New()},
		Scope:        "review-hang",
		OnStoreError: idempotency.RunWithout,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	runs := 0
	got, err := idempotency.Do(ctx, g, idempotency.NewKey("charge", "m-1", nil), func(ctx context.Context) (string, error) {
		runs++
		return "ran", nil
	})
	if runs != 1 || got != "ran" || err != nil {
		t.Fatalf("got %q, %v, %d runs; want the function run without idempotency (RunWithout), within the time the store left it", got, err, runs)
	}
}
