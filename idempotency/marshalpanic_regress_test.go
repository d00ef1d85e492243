package idempotency_test

// Found in review (issue 15): a result whose MarshalJSON panics leaves
// the record in progress. runFn sets returned = true before encoding the
// result, so the deferred abandon does not run and the panic escapes with the
// key held until its lease ends: the retry gets ErrInProgress instead of
// running the function again, unlike a panic in the function itself.

import (
	"context"
	"testing"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

type r15PanickyResult struct{}

func (r15PanickyResult) MarshalJSON() ([]byte, error) { panic("marshal boom") }

func TestMarshalPanicReleasesKey(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	k := idempotency.NewKey("r15", "id", nil)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("got no panic, want MarshalJSON's panic to go on")
			}
		}()
		idempotency.Do(context.Background(), g, k, func(context.Context) (r15PanickyResult, error) {
			return r15PanickyResult{}, nil
		})
	}()
	ran := false
	_, err = idempotency.Do(context.Background(), g, k, func(context.Context) (string, error) {
		ran = true
		return "ok", nil
	})
	if err != nil || !ran {
		t.Fatalf("retry after the panic: got ran=%v, err %v; want the function to run (the record deleted, as for a panic in fn)", ran, err)
	}
}
