package token_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"golang.org/x/oauth2"

	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/token"
)

// idp is a token endpoint for the examples.
func idp() *httptest.Server {
	n := 0
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"token-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
}

func ExampleSource_Token() {
	p := idp()
	defer p.Close()
	shared := memstore.New() // redisstore or dynamostore across instances
	a, _ := token.New(token.Config{TokenURL: p.URL, ClientID: "orders", ClientSecret: "s3cr3t", Store: shared})
	b, _ := token.New(token.Config{TokenURL: p.URL, ClientID: "orders", ClientSecret: "s3cr3t", Store: shared})
	ctx := context.Background()
	ta, _ := a.Token(ctx) // granted
	tb, _ := b.Token(ctx) // from the store
	fmt.Println(ta.AccessToken, tb.AccessToken)
	fmt.Println(ta.TokenType) // printing the token itself redacts it
	// Output:
	// token-1 token-1
	// Bearer
}

func ExampleTransport() {
	p := idp()
	defer p.Close()
	src, _ := token.New(token.Config{TokenURL: p.URL, ClientID: "orders", ClientSecret: "s3cr3t"})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()
	client := &http.Client{Transport: &token.Transport{Source: src}}
	resp, err := client.Get(api.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// Bearer token-1
}

func ExampleSource_OAuth2() {
	p := idp()
	defer p.Close()
	src, _ := token.New(token.Config{TokenURL: p.URL, ClientID: "orders", ClientSecret: "s3cr3t"})
	tok, err := oauth2.ReuseTokenSource(nil, src.OAuth2()).Token()
	fmt.Println(tok.AccessToken, tok.Valid(), err)
	// Output:
	// token-1 true <nil>
}

func ExampleToken_String() {
	tok := token.Token{AccessToken: "eyJhbGciOi...", TokenType: "Bearer", Scope: "orders:order:read"}
	fmt.Println(tok.String()[:23])
	// Output:
	// Bearer token [REDACTED]
}
