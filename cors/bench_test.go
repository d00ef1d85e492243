package cors_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/funcify/funcify/cors"
)

// discard is a ResponseWriter whose header is cleared between requests,
// so that a benchmark measures the middleware, not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func benchmark(b *testing.B, o cors.Options, method string, header http.Header) {
	h := mustNew(b, o).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(method, "/orders/42", nil)
	r.Header = header
	w := &discard{h: make(http.Header, 8)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkActual is the path every cross-origin request takes.
func BenchmarkActual(b *testing.B) {
	b.Run("exact", func(b *testing.B) {
		benchmark(b, listed, "GET", http.Header{"Origin": {app}})
	})
	b.Run("pattern", func(b *testing.B) {
		benchmark(b, listed, "GET", http.Header{"Origin": {"https://pr-7.preview.example.com"}})
	})
	b.Run("disallowed", func(b *testing.B) {
		benchmark(b, listed, "GET", http.Header{"Origin": {evil}})
	})
	b.Run("no-origin", func(b *testing.B) {
		benchmark(b, listed, "GET", http.Header{})
	})
	b.Run("any-origin", func(b *testing.B) {
		benchmark(b, public, "GET", http.Header{"Origin": {evil}})
	})
}

func BenchmarkPreflight(b *testing.B) {
	benchmark(b, listed, "OPTIONS", http.Header{
		"Origin":                         {app},
		"Access-Control-Request-Method":  {"PUT"},
		"Access-Control-Request-Headers": {"authorization,content-type,x-request-id"},
	})
}
