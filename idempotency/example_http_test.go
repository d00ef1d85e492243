package idempotency_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

func ExampleMiddleware() {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: "orders"})
	orders := 0
	createOrder := func(w http.ResponseWriter, r *http.Request) {
		orders++ // the side effect to run once per key
		w.Header().Set("Location", fmt.Sprintf("/orders/%d", orders))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, orders)
	}
	mux := http.NewServeMux()
	// Keys are scoped to the caller: here the account a real service would
	// take from a validated token (pip's subject), never from a header the
	// caller merely claims.
	caller := idempotency.CallerIdentity(func(r *http.Request) string { return "account-42" })
	mux.Handle("POST /orders", idempotency.Middleware(g, caller)(http.HandlerFunc(createOrder)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	send := func(key, body string) {
		req, _ := http.NewRequest("POST", srv.URL+"/orders", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Println(res.StatusCode, res.Header.Get("Location"), res.Header.Get("Idempotent-Replayed"), string(b))
	}
	send(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{"sku":"A-1"}`) // runs
	send(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{"sku":"A-1"}`) // a retry: replayed
	send(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{"sku":"B-2"}`) // the key reused: refused
	send(``, `{"sku":"A-1"}`)                                       // no key: refused
	fmt.Println("orders:", orders)
	// Output:
	// 201 /orders/1  {"id":1}
	// 201 /orders/1 true {"id":1}
	// 422   {"error":"the idempotency key was used with another request","code":422,"step":"idempotency","ctx":{}}
	// 400   {"error":"the Idempotency-Key header is missing","code":400,"step":"idempotency","ctx":{}}
	// orders: 1
}
