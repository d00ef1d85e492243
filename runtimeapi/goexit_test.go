package runtimeapi_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// Found in review (issue 14): a handler that ends its goroutine with
// runtime.Goexit (testing's FailNow, or a library that calls it) escapes
// call's recover, which sees no panic: the loop's goroutine unwinds, its
// WaitGroup slot is released, and no one posts anything for the
// invocation. With one loop Run then returns nil, as after a clean
// shutdown, and Start exits 0; with several loops that loop is silently
// gone and the process serves with one fewer, saying nothing. Either way
// the invocation hangs until its timeout and the log holds no line about
// it.
//
// Right: call notices that Invoke neither returned nor panicked (a flag
// set after Invoke returns, read in its deferred function), and the loop
// treats it as a panic: it posts an error for the invocation and Run
// returns an error.

func TestGoexitInHandler(t *testing.T) {
	t.Parallel()
	h := handlerFunc(func(context.Context, []byte) ([]byte, error) {
		runtime.Goexit()
		return nil, nil
	})
	s := fakeruntime.Start(t)
	r := startRun(t, s, h, runtimeapi.Config{})
	id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`{}`)})
	err := r.wait()
	if err == nil {
		t.Errorf("Run returned nil after the handler's goroutine exited, want an error")
	}
	if ps := postsFor(s.Requests(), id); len(ps) != 1 {
		t.Errorf("%d POSTs for the invocation, want 1, its error", len(ps))
	}
}
