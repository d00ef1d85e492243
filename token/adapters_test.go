package token_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/token"
	"github.com/funcify/funcify/window"
)

// downstream answers 401 to the tokens in refused, else echoes the
// Authorization header and the body.
func downstream(t *testing.T, refused ...string) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		auth := r.Header.Get("Authorization")
		for _, bad := range refused {
			if auth == "Bearer "+bad {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, auth+"|"+string(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestTransport(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL}))
	api, calls := downstream(t, "tok-1")
	c := &http.Client{Transport: &token.Transport{Source: src}}
	mustToken(t, src)
	clk.Add(2 * time.Minute) // a token younger than a minute is not invalidated

	resp, err := c.Post(api.URL, "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "Bearer tok-2|hello" {
		t.Errorf("got %d %q, want the retry with tok-2 and the body", resp.StatusCode, body)
	}
	if calls.Load() != 2 || p.grants.Load() != 2 {
		t.Errorf("downstream calls %d, grants %d, want 2 and 2", calls.Load(), p.grants.Load())
	}

	// A body that cannot be replayed: the 401 is returned, no retry.
	api2, calls2 := downstream(t, "tok-2")
	req, _ := http.NewRequest(http.MethodPost, api2.URL, io.NopCloser(strings.NewReader("x")))
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || calls2.Load() != 1 {
		t.Errorf("got %d after %d calls, want one 401", resp.StatusCode, calls2.Load())
	}

	// Refused twice: retried once only.
	clk.Add(2 * time.Minute)
	api3, calls3 := downstream(t, "tok-2", "tok-3")
	resp, err = c.Get(api3.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || calls3.Load() != 2 {
		t.Errorf("got %d after %d calls, want 401 after 2", resp.StatusCode, calls3.Load())
	}
}

func TestOAuth2Adapter(t *testing.T) {
	p := newProvider(t)
	src := newSource(t, token.Config{TokenURL: p.URL})
	api, _ := downstream(t)
	c := oauth2.NewClient(context.Background(), src.OAuth2())
	for range 2 {
		resp, err := c.Get(api.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "Bearer tok-1|" {
			t.Errorf("got %q", body)
		}
	}
	if p.grants.Load() != 1 {
		t.Errorf("grants = %d, want 1", p.grants.Load())
	}
}

// TestNoSecretInLogs drives every path at debug level and checks that
// neither the client secret nor an access token is in any log line.
func TestNoSecretInLogs(t *testing.T) {
	p := newProvider(t)
	access := "at-" + strings.Repeat("x", 20)
	p.set(status(200, `{"access_token":"`+access+`","token_type":"Bearer","expires_in":3600}`))
	log, logs := newLogger()
	clk := newClock()
	cfg := token.Config{TokenURL: p.URL, ClientID: "svc", ClientSecret: secret, Logger: log,
		Store: memstore.New(), Window: window.Settings{Width: time.Minute, Threshold: time.Minute}}
	token.SetClock(&cfg, clk.Now)
	var src *token.Source
	var tok *token.Token
	good := status(200, `{"access_token":"`+access+`","token_type":"Bearer","expires_in":3600}`)
	for _, reply := range []func(int64, http.ResponseWriter){
		status(500, `{"error":"server_error"}`),
		status(429, ``, "Retry-After", "1"),
		status(400, `{"error":"invalid_client","error_description":"bad client"}`),
		status(200, `{"access_token":"`+access+`",`),
		status(200, `{"access_token":"`+access+`","token_type":"mac"}`),
	} {
		p.set(good)
		src = newSource(t, cfg)
		tok = mustToken(t, src)
		log.Debug("the caller logs", "token", tok, "config_secret", cfg.ClientSecret)
		p.set(reply)
		clk.Add(59 * time.Minute)
		_, _ = src.Token(ctx) // cached token served, failure logged
		clk.Add(2 * time.Minute)
		_, err := src.Token(ctx) // no valid token: the error
		if err == nil {
			t.Error("no error without a valid token")
		}
		log.Error("the caller logs the error", "error", err)
	}
	down := newSource(t, token.Config{TokenURL: p.URL, ClientSecret: secret, Logger: log, Store: &downStore{}})
	_, _ = down.Token(ctx)
	_ = src.Invalidate(ctx, tok)
	out := logs.String()
	if out == "" {
		t.Fatal("nothing logged")
	}
	for _, leak := range []string{secret, access} {
		if strings.Contains(out, leak) {
			t.Errorf("the logs hold %q:\n%s", leak, out)
		}
		if testing.Verbose() {
			t.Log(out)
		}
	}
	_ = logging.Secret("")
}

// TestRealProvider gets a token from a real OpenID provider by the client
// credentials grant, serves it from memory, and checks that jwtauth accepts
// it.
func TestRealProvider(t *testing.T) {
	idp := testenv.StartOIDC(t)
	shared := memstore.New()
	cfg := token.Config{
		TokenURL: idp.TokenURL, ClientID: idp.ClientID, ClientSecret: logging.Secret(idp.ClientSecret),
		Resource: idp.Audience, Scopes: []string{"orders:order:read"}, Store: shared,
	}
	src, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := src.Token(ctx); err != nil || again != tok {
		t.Errorf("second call: %v %v, want the cached token", again, err)
	}
	if d := time.Until(tok.Expiry); d <= 0 || d > testenv.DefaultOIDCTokenTTL {
		t.Errorf("expires in %v", d)
	}
	v, err := jwtauth.New(jwtauth.Config{Keys: jwtauth.NewJWKS(idp.JWKSURL), Issuer: idp.Issuer, Audience: []string{idp.Audience}})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Validate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("jwtauth refused the token: %v", err)
	}
	if claims.Subject != idp.ClientID || claims.Claims["scope"] != "orders:order:read" {
		t.Errorf("claims %+v", claims)
	}
	// Another instance reads it from the store, even with the provider
	// down; form authentication works too.
	idp.Stop()
	cfg.AuthStyle = token.AuthForm
	other, _ := token.New(cfg)
	if got, err := other.Token(ctx); err != nil || got.AccessToken != tok.AccessToken {
		t.Errorf("from the store: %v", err)
	}
}

// TestTransportRefusedEverywhere: a downstream that refuses every token (a
// wrong audience, say) costs at most one grant per minute and instance,
// not one per call, and does not delete from the store a fresh token that
// every instance shares.
func TestTransportRefusedEverywhere(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	shared := memstore.New(memstore.WithClock(clk.Now))
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared}))
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(api.Close)
	c := &http.Client{Transport: &token.Transport{Source: src}}
	call := func() {
		t.Helper()
		resp, err := c.Get(api.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %d, want the 401", resp.StatusCode)
		}
	}
	for range 20 {
		call()
	}
	if got := p.grants.Load(); got != 1 {
		t.Errorf("20 calls refused with a fresh token made %d grants, want 1", got)
	}
	if got := calls.Load(); got != 20 {
		t.Errorf("downstream calls = %d, want 20: no resend with the same token", got)
	}
	other := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared}))
	if tok := mustToken(t, other); tok.AccessToken != "tok-1" || p.grants.Load() != 1 {
		t.Errorf("another instance got %v after %d grants: the fresh token was deleted from the store", tok.AccessToken, p.grants.Load())
	}
	// Older than the minimum age: one invalidation, then none for a while.
	clk.Add(2 * time.Minute)
	for range 20 {
		call()
	}
	if got := p.grants.Load(); got != 2 {
		t.Errorf("20 calls refused with a 2-minute-old token made %d grants in all, want 2", got)
	}
	if got := calls.Load(); got != 41 {
		t.Errorf("downstream calls = %d, want 41: one resend with the new token", got)
	}
}
