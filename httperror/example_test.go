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

func ExampleAnswerOf() {
	// A Lambda authorizer, or a writer of one's own, reads the answer an
	// error calls for without writing it.
	a := httperror.AnswerOf(fmt.Errorf("checking stock: %w", &outOfStock{sku: "book-1"}))
	fmt.Println(a.Status, a.Message)
	// Output: 409 out of stock
}

func ExampleWriteAt() {
	// Middleware that refuses a request names its step; an error that
	// names its own step keeps it.
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "" {
				httperror.WriteAt(w, r, httperror.New(http.StatusUnauthorized, "authentication required"), "authenticate")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	w := httptest.NewRecorder()
	auth(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/orders", nil))
	fmt.Println(w.Code, w.Body)
	// Output: 401 {"error":"authentication required","code":401,"step":"authenticate","ctx":{}}
}

func ExampleNewContext() {
	// Answer one part of an API as problem details: a changed copy of the
	// settings, in the request's context.
	problems := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := httperror.FromContext(r.Context())
			s.ProblemDetails = true
			next.ServeHTTP(w, r.WithContext(httperror.NewContext(r.Context(), &s)))
		})
	}
	h := problems(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httperror.Write(w, r, httperror.New(http.StatusNotFound, "order not found"))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v2/orders/7", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"), w.Body)
	// Output: 404 application/problem+json {"type":"about:blank","title":"Not Found","status":404,"detail":"order not found","step":"handler","ctx":{}}
}

func ExampleDecider() {
	err := fmt.Errorf("placing order: %w", &outOfStock{sku: "book-1"})
	fmt.Println(httperror.Decider(err))
	// Output: stock: book-1 is out of stock
}
