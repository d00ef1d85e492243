package app

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/funcify/funcify/cors"
)

// Review: App.ServeHTTP copies the app's buffered headers onto w with
// dst[k] = vs, replacing what an outer middleware had already put there.
// For Vary that loses a variant key: an App mounted behind a compression
// middleware that sets "Vary: Accept-Encoding" before calling next (as
// gorilla/handlers' CompressHandler does) answers "Vary: Origin" only
// once WithCORS adds its Vary, and a shared cache then serves a gzip
// answer to a client that did not ask for it.
func TestServeHTTPKeepsOuterVary(t *testing.T) {
	a := quietApp(nil, WithCORS(cors.MustNew(cors.Options{AllowedOrigins: []string{"https://app.example.com"}})))
	a.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) { JSON(w, r, 200, nil) })
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		a.ServeHTTP(w, r)
	})
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Origin", "https://app.example.com")
	outer.ServeHTTP(rec, r)
	vary := rec.Header().Values("Vary")
	if !slices.Contains(vary, "Accept-Encoding") || !slices.Contains(vary, "Origin") {
		t.Errorf("Vary %q, want both Accept-Encoding (the outer middleware's) and Origin (the CORS policy's)", vary)
	}
}

// Review: routeHandler's comment says a route miss drops "ServeMux's answer,
// and only that: headers set before the router ran ... stay", but it deletes
// X-Content-Type-Options whoever set it: a security-headers middleware's
// nosniff is gone from every 404 and 405.
func TestRouteMissKeepsMiddlewareNosniff(t *testing.T) {
	a := quietApp(nil)
	a.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Content-Type-Options", "nosniff")
			next.ServeHTTP(w, r)
		})
	})
	a.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) { JSON(w, r, 200, nil) })
	for _, tc := range []struct{ method, path string }{{"GET", "/missing"}, {"DELETE", "/x"}} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: status %d, X-Content-Type-Options %q, want the middleware's nosniff kept", tc.method, tc.path, rec.Code, got)
		}
	}
}
