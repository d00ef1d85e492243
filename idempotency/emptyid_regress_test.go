package idempotency_test

// Found in review (issue 15): NewKey accepts an empty identity, and Do
// runs with it: every call whose id came out empty (a missing header, a
// message attribute not set) shares one key, and all but the first get its
// result. KeyFromJSON, Func and the record wrappers refuse a missing
// identity; NewKey and Do do not, and NewKey's doc does not say so.

import (
	"context"
	"testing"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

func TestEmptyIdentityRefused(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"alice", "bob"} {
		got, err := idempotency.Do(context.Background(), g, idempotency.NewKey("r15", "", nil),
			func(context.Context) (string, error) { return who, nil })
		if err == nil && got != who {
			t.Fatalf("call for %s with an empty identity: got %q, the first call's result; want an error or its own", who, got)
		}
	}
}
