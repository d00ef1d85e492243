package idempotency_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

// slowReplyStore applies its first CompareAndSet, then keeps the reply
// until the call's context ends (a reply delayed past StoreTimeout: a
// throttled DynamoDB the SDK retries, a congested network), and fails with
// the context's error, as the AWS SDK and redisstore do.
type slowReplyStore struct {
	store.Store
	slowed atomic.Bool
}

func (s *slowReplyStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	v, err := s.Store.CompareAndSet(context.WithoutCancel(ctx), key, version, value, ttl)
	if err == nil && s.slowed.CompareAndSwap(false, true) {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return v, err
}

// TestStoreTimeoutOrphansLease: StoreTimeout cuts the take of the
// key short; when the store had applied it (only its reply was late), the
// caller gets ErrStoreUnavailable and its function never runs, but the
// record in progress stays, with its lease (the caller's deadline plus the
// margin). The retry that follows (an SQS redelivery, a client's retry,
// Lambda's async retry) then gets ErrInProgress until that lease ends,
// though no call is running: the "record stuck in progress after a
// timeout" issue 15 names. The attempt knows its token, so it can read the
// key and delete its own record (as abandon does after a conflict).
func TestStoreTimeoutOrphansLease(t *testing.T) {
	st := &slowReplyStore{Store: memstore.New()}
	g, err := idempotency.New(idempotency.Config{Store: st, Scope: "review2-orphan", StoreTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := idempotency.NewKey("charge", "m-1", nil)
	runs := 0
	fn := func(ctx context.Context) (string, error) {
		runs++
		return "charged", nil
	}
	if _, err := idempotency.Do(ctx, g, key, fn); !errors.Is(err, idempotency.ErrStoreUnavailable) || runs != 0 {
		t.Fatalf("first call: %v, %d runs; want ErrStoreUnavailable without a run", err, runs)
	}
	// The store answers again; the caller retries.
	got, err := idempotency.Do(ctx, g, key, fn)
	if err != nil || runs != 1 || got != "charged" {
		t.Fatalf("retry: %q, %v, %d runs; want the function run once (no call holds the key)", got, err, runs)
	}
}
