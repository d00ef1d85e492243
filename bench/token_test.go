package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/funcify/funcify/token"
)

// BenchmarkToken measures getting the service token from a warm memory
// cache: the cost on every call to a downstream.
func BenchmarkToken(b *testing.B) {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"bench-token","token_type":"Bearer","expires_in":86400}`)
	}))
	defer idp.Close()
	ctx := context.Background()

	b.Run("funcify", func(b *testing.B) {
		src, err := token.New(token.Config{TokenURL: idp.URL, ClientID: "bench", ClientSecret: "s"})
		if err != nil {
			b.Fatal(err)
		}
		if tok, err := src.Token(ctx); err != nil || tok.AccessToken != "bench-token" {
			b.Fatalf("warm-up: %v %v", tok, err)
		}
		b.ReportAllocs()
		for b.Loop() {
			src.Token(ctx)
		}
	})
	b.Run("oauth2reuse", func(b *testing.B) {
		src := oauth2.ReuseTokenSource(nil, staticSource{&oauth2.Token{AccessToken: "bench-token", TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}})
		if tok, err := src.Token(); err != nil || tok.AccessToken != "bench-token" {
			b.Fatalf("warm-up: %v %v", tok, err)
		}
		b.ReportAllocs()
		for b.Loop() {
			src.Token()
		}
	})
}

type staticSource struct{ t *oauth2.Token }

func (s staticSource) Token() (*oauth2.Token, error) { return s.t, nil }
