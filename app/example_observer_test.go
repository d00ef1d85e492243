package app_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/funcify/funcify/app"
)

// requestCounter counts the answers of each route by status class, one
// invocation at a time being told to End.
type requestCounter struct{}

func (requestCounter) Begin(ctx context.Context, inv *app.Invocation) context.Context { return ctx }

func (requestCounter) End(ctx context.Context, inv *app.Invocation) {
	if inv.HTTP {
		fmt.Printf("%s answered %dxx\n", inv.Route, inv.Status/100)
	}
}

// An observer sees every invocation begin and end: here it learns the
// routing pattern and the status of each HTTP request.
func ExampleWithObserver() {
	a := app.New(app.WithObserver(requestCounter{}), quiet)
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"` + r.PathValue("id") + `"}`))
	})
	a.Invoke(context.Background(), []byte(`{"version":"2.0","rawPath":"/orders/42","requestContext":{"http":{"method":"GET"}}}`))
	// Output: GET /orders/{id} answered 2xx
}
