//go:build !funcify.lambdaonly

package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/funcify/funcify/app"
)

// Found in review (issue 14): runShutdown waits for each hook to return,
// however long it takes, though OnShutdown says hooks run "with a context
// that ends when the time Lambda gives runs out". A hook that does not
// watch its ctx keeps Main from returning: after an -event invocation the
// command never exits, and when the local server stops on Ctrl-C the
// process hangs with SIGINT still caught by Start's signal.NotifyContext,
// so a second Ctrl-C does nothing either. (runtimeapi's runHooks has the
// same flaw in Lambda; see runtimeapi/review_shutdown_test.go.)
//
// Right: stop waiting for the hooks at their deadline, log the one that
// overran, and return.

// hangBound only tells a hang from a return.
const hangBound = 10 * time.Second

func TestLocalShutdownHookPastDeadline(t *testing.T) {
	t.Parallel()
	a := app.New(app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	overran := make(chan struct{})
	a.OnShutdown(func(ctx context.Context) {
		<-ctx.Done() // the shutdown time is up...
		close(overran)
		<-release // ...and the hook is still busy
	})
	file := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(file, []byte(`{"x":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- a.Main(context.Background(), []string{"-event", file}, io.Discard, io.Discard) }()
	<-overran
	select {
	case <-done:
	case <-time.After(hangBound):
		t.Errorf("Main still running %v after the shutdown hooks' deadline, want it to return", hangBound)
	}
}
