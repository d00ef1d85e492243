package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/funcify/funcify/session"
)

func BenchmarkSealOpen(b *testing.B) {
	s := newSealer(b, key(1))
	exp := time.Now().Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open("sid", s.Seal("sid", "user-42", exp), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMiddleware is one request that reads a plain and a sealed
// cookie and sets a sealed one.
func BenchmarkMiddleware(b *testing.B) {
	s := newSealer(b, key(1))
	h := session.Middleware(session.Options{Sealer: s})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := session.FromRequest(r)
		sess.Get("theme")
		sess.GetSealed("sid")
		sess.SetSealed("sid", "user-42", time.Hour)
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "theme=dark; a=1; b=2; sid="+s.Seal("sid", "user-42", time.Now().Add(time.Hour)))
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}
