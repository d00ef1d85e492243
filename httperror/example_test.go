package httperror_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/funcify/funcify/httperror"
)

// errOutOfStock answers 409 with a message fit for the caller.
type outOfStock struct{ sku string }

func (e *outOfStock) Error() string         { return "stock: " + e.sku + " is out of stock" }
func (e *outOfStock) HTTPStatus() int       { return http.StatusConflict }
func (e *outOfStock) PublicMessage() string { return "out of stock" }

func ExampleWrite() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fmt.Errorf("placing order: %w", &outOfStock{sku: "book-1"})
		httperror.Write(w, r, err)
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/orders", nil))
	fmt.Println(w.Code, w.Body)
	// Output: 409 {"error":"out of stock","code":409,"step":"handler","ctx":{}}
}

func ExampleError() {
	err := &httperror.Error{Status: http.StatusNotFound, Message: "order not found",
		Ctx: map[string]any{"id": "42"}, Err: errors.New("store: no item")}
	w := httptest.NewRecorder()
	httperror.Write(w, httptest.NewRequest("GET", "/orders/42", nil), err)
	fmt.Println(w.Code, w.Body)
	// Output: 404 {"error":"order not found","code":404,"step":"handler","ctx":{"id":"42"}}
}

func ExampleStatus() {
	fmt.Println(httperror.Status(errors.New("boom")), httperror.Status(httperror.New(http.StatusTeapot, "")))
	// Output: 500 418
}
