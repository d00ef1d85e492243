package token_test

import (
	"net/http"
	"testing"

	"github.com/funcify/funcify/token"
)

// BenchmarkToken measures Token on a warm memory cache, the cost on every
// call to a downstream: one atomic load and one time comparison, no
// allocation. bench/BenchmarkToken compares it with golang.org/x/oauth2.
func BenchmarkToken(b *testing.B) {
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		return answer(req, 200, `{"access_token":"bench-token","token_type":"Bearer","expires_in":86400}`), nil
	})
	src := newSource(b, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}})
	mustToken(b, src)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = src.Token(ctx)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = src.Token(ctx)
			}
		})
	})
}
