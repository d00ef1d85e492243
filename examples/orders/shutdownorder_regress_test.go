//go:build funcify.otel

package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/metrics"
)

// TestShutdownOrder: app now runs observers' Shutdown hooks in End
// order (the last given first), and WithObserver's doc says to give the
// observers that write locally last, so that the span exporter, which
// flushes over the network, runs after them. examples/orders gives them the
// other way round (app.WithObserver(logs, m), then tracing()'s span
// observer): on SIGTERM its span flush runs first, and with a collector that
// does not answer it takes the whole shutdown budget; the metrics of the
// invocation cut short by its timeout (what Emitter.Shutdown is for) are
// never written. The test runs the function as Lambda would (a child
// process on a fake Runtime API), with the example's observers, one
// invocation that has added a metric and not ended, then SIGTERM.
func TestShutdownOrder(t *testing.T) {
	if os.Getenv("SHUTDOWNORDER_CHILD") == "1" {
		shutdownOrderChild()
		return
	}
	release := make(chan struct{})
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a collector that does not answer
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer collector.Close()
	defer close(release)
	s := fakeruntime.Start(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestShutdownOrder$")
	cmd.Env = append(os.Environ(), "SHUTDOWNORDER_CHILD=1", "AWS_LAMBDA_RUNTIME_API="+s.Addr(),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "AWS_LAMBDA_FUNCTION_NAME=orders")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The invocation never ends, so neither does the process after the
	// hooks (Lambda kills it): it is killed once they have had their time.
	defer cmd.Wait()
	defer cmd.Process.Kill()
	blocked, seen, eof := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if sc.Text() == "review2: blocked" {
				close(blocked)
			}
		}
	}()
	var mu sync.Mutex
	var out strings.Builder
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		once := false
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			// Either the metrics were written, or RunHooks gave up on a
			// hook (the rest are skipped).
			if !once && (strings.Contains(sc.Text(), "OrdersCreated") || strings.Contains(sc.Text(), "overran")) {
				once = true
				close(seen)
			}
		}
	}()
	s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"timed out"`)})
	select {
	case <-blocked:
	case <-time.After(fakeruntime.WaitTimeout):
		t.Fatal("the invocation did not start in the child")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-seen:
	case <-time.After(fakeruntime.WaitTimeout):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("on SIGTERM, neither the metrics nor a hook's overrun were written; stdout:\n%s", out.String())
	}
	cmd.Process.Kill()
	<-eof
	mu.Lock()
	got := out.String()
	mu.Unlock()
	if !strings.Contains(got, "OrdersCreated") {
		t.Errorf("on SIGTERM the timed-out invocation's OrdersCreated metric was not written (the span flush ran first and took the budget); stdout:\n%s", got)
	}
}

// shutdownOrderChild runs a function with examples/orders' observers, given as
// main gives them, whose one invocation adds a metric and never ends.
func shutdownOrderChild() {
	obs, err := newObservers(os.Stdout)
	if err != nil {
		app.FailInit(err)
	}
	a := app.New(obs...)
	app.HandleInvoke(a, func(ctx context.Context, in string) (string, error) {
		metrics.Add(ctx, "OrdersCreated", 1, metrics.Count)
		os.Stderr.WriteString("review2: blocked\n")
		select {}
	})
	a.Start()
}
