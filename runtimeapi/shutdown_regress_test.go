package runtimeapi_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// Found in review (issue 14): runHooks calls each hook and waits for it to
// return, however long it takes. Config.OnShutdown promises the hooks run
// "with a context that ends when Lambda's time for that runs out
// ([ShutdownTimeout] after the signal); then Run returns nil", and
// app.OnShutdown that they run "within the 500 ms Lambda gives". A hook
// that does not watch its ctx (an SDK flush without a context, a mutex
// held by a stuck invocation) keeps Run from returning at all: the later
// hooks never run, the loops are never stopped, and the process is killed
// by SIGKILL rather than exiting 0 as Start promises.
//
// Right: wait for each hook only until the shutdown deadline; at the
// deadline log which hook overran, skip the rest, and end Run.

// Not parallel: the test sends its own process SIGTERM (see
// TestShutdownHooks).
func TestShutdownHookPastDeadline(t *testing.T) {
	release := make(chan struct{})
	overran := make(chan struct{})
	hooks := []func(context.Context){
		func(ctx context.Context) {
			<-ctx.Done() // the shutdown time is up...
			close(overran)
			<-release // ...and the hook is still busy
		},
	}
	s := fakeruntime.Start(t)
	r := startRun(t, s, echo, runtimeapi.Config{OnShutdown: hooks})
	t.Cleanup(func() { close(release) }) // runs before startRun's cleanup waits for Run
	s.WaitFor(t, "the parked event/next", func(reqs []fakeruntime.Request) bool {
		for _, r := range reqs {
			if r.Path == extensionPath+"event/next" {
				return true
			}
		}
		return false
	})
	guardSIGTERM(t)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-overran
	select {
	case <-r.done:
		if r.err != nil {
			t.Errorf("Run: %v, want nil after a shutdown", r.err)
		}
	case <-time.After(hangBound):
		t.Errorf("Run still running %v after the shutdown deadline passed, want it to return", hangBound)
	}
}
