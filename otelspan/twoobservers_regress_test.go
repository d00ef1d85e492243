package otelspan

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/funcify/funcify/app"
)

// TestTwoObserversEachEndTheirSpan: observe.Observer promises that
// End gets "the context Begin returned", but app passes every observer the
// context of the last Begin. Two Observers (two providers: a vendor's and
// ADOT's, say) share the key spanKey, so the first one's End finds the
// second's span: the first provider's span never ends and is never
// exported, and the second's is ended twice.
func TestTwoObserversEachEndTheirSpan(t *testing.T) {
	o1, exp1 := newMemory(t)
	o2, exp2 := newMemory(t)
	a := app.New(app.WithObserver(o1, o2), app.WithLogger(slog.New(slog.DiscardHandler)))
	a.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {})
	if _, err := a.Invoke(invokeCtx(t, xrayHeader1), httpV2("GET", "/items/7", nil)); err != nil {
		t.Fatal(err)
	}
	if n := len(exp1.GetSpans()); n != 1 {
		t.Errorf("the first observer's provider exported %d spans, want 1", n)
	}
	if n := len(exp2.GetSpans()); n != 1 {
		t.Errorf("the second observer's provider exported %d spans, want 1", n)
	}
}
