package idempotency_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
	"github.com/funcify/funcify/store/memstore"
)

// OutOfStock is a handler's own error type: its name is the errorType that
// Lambda reports, on which a Step Functions task's Retry and Catch match
// (ErrorEquals: ["OutOfStock"]).
type OutOfStock struct{ SKU string }

func (e *OutOfStock) Error() string { return "out of stock: " + e.SKU }

// TestFinalKeepsErrorType: Func's documentation offers it for "a Step
// Functions task", and Final's says that "the first caller sees err as the
// function returned it". Through the runtime, which names a function error
// by its type (runtimeapi: "which Step Functions retry and catch on"), the
// task whose function returns Final(&OutOfStock{}) fails with errorType
// "finalError", and its duplicates with "ReplayedError": a Catch on
// "OutOfStock" matches neither, and the state machine takes the path of an
// unexpected failure.
func TestFinalKeepsErrorType(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: "review-final"})
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(quiet)
	app.HandleInvoke(a, idempotency.Func(g, "reserve",
		func(sku string) (string, error) { return sku, nil },
		func(ctx context.Context, sku string) (string, error) {
			return "", idempotency.Final(&OutOfStock{SKU: sku})
		}))
	s := runOnFakeRuntime(t, a)
	for _, attempt := range []string{"first", "duplicate"} {
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"A-1"`)})
		res := s.Wait(t, id)
		var doc struct {
			Type string `json:"errorType"`
		}
		if err := json.Unmarshal(res.Body, &doc); !res.Error || err != nil {
			t.Fatalf("%s: got %q (error %v), want a function error", attempt, res.Body, res.Error)
		}
		if doc.Type != "OutOfStock" {
			t.Errorf("%s invocation: errorType %q, want %q (the function's error type, which Step Functions matches)", attempt, doc.Type, "OutOfStock")
		}
	}
}

// runOnFakeRuntime runs a on funcify's runtime loop against a fake Lambda
// Runtime API, until the test ends, and returns the fake.
func runOnFakeRuntime(t *testing.T, a *app.App) *fakeruntime.Server {
	t.Helper()
	s := fakeruntime.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtimeapi.Run(ctx, a, runtimeapi.Config{Address: s.Addr(), Concurrency: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(fakeruntime.WaitTimeout):
			t.Errorf("runtimeapi.Run did not return")
		}
	})
	return s
}
