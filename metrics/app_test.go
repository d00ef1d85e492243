package metrics_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/metrics"
)

func httpEvent(method, path string) []byte {
	return fmt.Appendf(nil, `{"version":"2.0","rawPath":%q,"requestContext":{"http":{"method":%q}}}`, path, method)
}

// TestThroughApp: an Emitter given to app.WithObserver gives each
// invocation's handler its metrics, writes them when the invocation ends,
// and is one of the app's shutdown hooks; concurrent invocations keep
// theirs apart.
func TestThroughApp(t *testing.T) {
	e, w := newEmitter(t, metrics.WithColdStart())
	a := app.New(app.WithObserver(e), app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	a.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := metrics.Add(ctx, "OrdersCreated", 1, metrics.Count); err != nil {
			t.Error(err)
		}
		if err := metrics.AddDimension(ctx, "route", r.Pattern); err != nil {
			t.Error(err)
		}
		if err := metrics.AddMetadata(ctx, "order_id", r.PathValue("id")); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusCreated)
	})
	a.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})

	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprint("req-", i)})
			if _, err := a.Invoke(ctx, httpEvent("POST", fmt.Sprint("/orders/", i))); err != nil {
				t.Error(err)
			}
			if _, err := a.Invoke(ctx, httpEvent("GET", "/health")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	out, writes := w.take()
	docs := parseOutput(t, out)
	orders, cold := map[string]bool{}, 0
	for _, d := range docs {
		if d.Values["ColdStart"] != nil {
			cold++
			continue
		}
		id := string(d.Others["order_id"])
		if len(d.Values) != 1 || d.Values["OrdersCreated"][0] != 1 || d.DimValues["route"] != "POST /orders/{id}" || orders[id] {
			t.Errorf("document %+v", d)
		}
		orders[id] = true
	}
	// The process's first invocation, if this test ran first, is cold: a
	// POST writes its cold-start document with its metrics, a GET alone.
	if len(orders) != n || cold > 1 || writes < n || writes > n+cold {
		t.Errorf("%d orders, %d cold-start documents, %d writes:\n%s", len(orders), cold, writes, out)
	}
	if err := metrics.Add(context.Background(), "Outside", 1, metrics.Count); err == nil {
		t.Error("Add outside an invocation: no error")
	}
}
