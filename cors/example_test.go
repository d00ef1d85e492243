package cors_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/funcify/funcify/cors"
)

func Example() {
	policy, err := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.preview.example.com"},
		AllowedMethods:   []string{"PUT", "DELETE"},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		ExposedHeaders:   []string{"Location"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	h := policy.Handler(mux)

	// The browser asks first: may https://pr-7.preview.example.com PUT
	// with a JSON body and a bearer token?
	r := httptest.NewRequest("OPTIONS", "/orders/42", nil)
	r.Header.Set("Origin", "https://pr-7.preview.example.com")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Credentials", "Access-Control-Max-Age", "Vary"} {
		fmt.Printf("%s: %s\n", k, w.Header().Get(k))
	}

	// Then the PUT itself.
	r = httptest.NewRequest("PUT", "/orders/42", nil)
	r.Header.Set("Origin", "https://pr-7.preview.example.com")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Expose-Headers"))

	// Another site gets its answer without CORS headers: its page cannot
	// read it.
	r.Header.Set("Origin", "https://preview.example.com.evil.io")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Printf("%d %q\n", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	// Output:
	// 204
	// Access-Control-Allow-Origin: https://pr-7.preview.example.com
	// Access-Control-Allow-Methods: PUT
	// Access-Control-Allow-Headers: authorization,content-type
	// Access-Control-Allow-Credentials: true
	// Access-Control-Max-Age: 600
	// Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
	// 204 https://pr-7.preview.example.com Location
	// 204 ""
}

func ExampleNew() {
	_, err := cors.New(cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true})
	fmt.Println(err)
	_, err = cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com/"}})
	fmt.Println(err)
	_, err = cors.New(cors.Options{AllowedOrigins: []string{"https://*.com"}})
	fmt.Println(err)
	_, err = cors.New(cors.Options{AllowedOrigins: []string{"https://*.github.io"}})
	fmt.Println(err)
	// Output:
	// cors: Options.AllowedOrigins "*" cannot be combined with AllowCredentials: list the origins
	// cors: Options.AllowedOrigins[0] "https://app.example.com/": an origin has no path, query, fragment or user: it is scheme://host[:port]
	// cors: Options.AllowedOrigins[0] "https://*.com": a pattern needs a domain of two labels or more (*.com would allow every .com site)
	// cors: Options.AllowedOrigins[0] "https://*.github.io": github.io is a public suffix: anyone can have a site under it, and the pattern would allow it; list the origins
}

// ExamplePolicy_SetHeaders restores the CORS headers of an answer whose
// headers were cleared, as an app does when it replaces a handler's
// answer after a panic, so that the calling page can read the error.
func ExamplePolicy_SetHeaders() {
	policy := cors.MustNew(cors.Options{AllowedOrigins: []string{"https://app.example.com"}})
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Origin", "https://app.example.com")

	h := http.Header{}
	h.Set("X-Partial", "1") // what the handler wrote before it panicked
	clear(h)
	policy.SetHeaders(h, r)
	h.Set("Content-Type", "application/json")
	fmt.Println(h.Get("Access-Control-Allow-Origin"), h.Get("Vary"))
	// Output:
	// https://app.example.com Origin
}
