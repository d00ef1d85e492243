package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/cors"
)

func ExampleApp_ServeHTTP() {
	a := app.New(quiet)
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		app.JSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})

	// An App is an http.Handler: serve it from a test server, or mount it
	// in another router.
	srv := httptest.NewServer(a)
	defer srv.Close()
	for _, path := range []string{"/orders/42", "/nowhere"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 200 {"id":"42"}
	// 404 {"error":"no route for GET /nowhere","code":404,"step":"route","ctx":{}}
}

func ExampleWithCORS() {
	a := app.New(quiet, app.WithCORS(cors.MustNew(cors.Options{
		AllowedOrigins: []string{"https://shop.example.com", "https://*.example.net"},
		AllowedMethods: []string{"GET", "POST"},
		AllowedHeaders: []string{"Authorization", "Content-Type"},
	})))
	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		app.JSON(w, r, http.StatusCreated, map[string]string{"id": "1"})
	})

	// A browser's preflight is answered before routing: 204, not 405.
	r := httptest.NewRequest("OPTIONS", "/orders", nil)
	r.Header.Set("Origin", "https://shop.example.com")
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "content-type")
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Allow-Headers"))
	// Output: 204 https://shop.example.com content-type
}
