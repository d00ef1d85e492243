package app

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/metrics"
)

// hangingExporter is an observer whose Shutdown flushes to a collector that
// does not answer, within its context: what otelspan.Observer.Shutdown does
// when the OTLP collector (an extension shutting down too) hangs.
type hangingExporter struct{ recordingObserver }

func (*hangingExporter) Shutdown(ctx context.Context) { <-ctx.Done() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// TestShutdownNetworkHookStarvesMetrics: the observers' Shutdown
// hooks run in the order the observers were given, sharing one 450 ms
// budget, and RunHooks skips the hooks after one that overruns. With
// app.WithObserver(otelspan.New(tp), m), the order the README's two
// sections suggest, a collector that hangs at SIGTERM takes the whole
// budget and the metrics of the invocation cut short by its timeout
// (what Emitter.Shutdown is for) are never written: a local write to
// standard output lost to a network call. Local writes should not depend
// on the order of observers (run Shutdown hooks in End order, last given
// first, or write the metrics whatever the context).
func TestShutdownNetworkHookStarvesMetrics(t *testing.T) {
	var out syncBuffer
	m, err := metrics.New(metrics.WithNamespace("Shop"), metrics.WithWriter(&out))
	if err != nil {
		t.Fatal(err)
	}
	a := quietApp(nil, WithObserver(&hangingExporter{}, m))

	// An invocation that times out: Begin, a metric, no End.
	inv := &Invocation{Start: time.Now()}
	ctx := m.Begin(context.Background(), inv)
	if err := metrics.Add(ctx, "OrdersCreated", 1, metrics.Count); err != nil {
		t.Fatal(err)
	}
	a.runShutdown() // SIGTERM
	if out.Len() == 0 {
		t.Error("the timed-out invocation's metrics were not written on shutdown")
	}
}
