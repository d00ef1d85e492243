package token_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/token"
	"github.com/funcify/funcify/window"
)

var ctx = context.Background()

func newSource(t testing.TB, cfg token.Config) *token.Source {
	t.Helper()
	if cfg.ClientID == "" {
		cfg.ClientID = "svc"
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = secret
	}
	src, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func mustToken(t testing.TB, src *token.Source) *token.Token {
	t.Helper()
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  token.Config
	}{
		{"no TokenURL", token.Config{ClientID: "a"}},
		{"relative TokenURL", token.Config{TokenURL: "/token", ClientID: "a"}},
		{"no ClientID", token.Config{TokenURL: "https://idp.example/token"}},
		{"short EncryptionKey", token.Config{TokenURL: "https://idp.example/token", ClientID: "a", EncryptionKey: make([]byte, 16)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := token.New(tt.cfg); err == nil {
				t.Error("got no error")
			}
		})
	}
}

func TestGrantAndMemory(t *testing.T) {
	p := newProvider(t)
	src := newSource(t, token.Config{TokenURL: p.URL, Scopes: []string{"a", "b"}, Audience: "https://api", Resource: "https://res",
		Params: map[string][]string{"extra": {"1"}}})
	tok := mustToken(t, src)
	if tok.AccessToken != "tok-1" || tok.TokenType != "Bearer" || tok.Scope != "a b" {
		t.Errorf("got %#v", *tok)
	}
	if d := time.Until(tok.Expiry); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expiry in %v, want an hour", d)
	}
	if again := mustToken(t, src); again != tok {
		t.Error("the second call did not come from memory")
	}
	if got := p.grants.Load(); got != 1 {
		t.Errorf("grants = %d, want 1", got)
	}
	f := p.lastForm()
	for k, want := range map[string]string{"grant_type": "client_credentials", "scope": "a b", "audience": "https://api", "resource": "https://res", "extra": "1", "client_secret": ""} {
		if got := f.Get(k); got != want {
			t.Errorf("form %s = %q, want %q", k, got, want)
		}
	}
	if !p.hasBasic || p.user != "svc" || p.pass != secret {
		t.Errorf("Basic auth = %v %q, want svc and the secret", p.hasBasic, p.user)
	}
}

func TestAuthForm(t *testing.T) {
	p := newProvider(t)
	src := newSource(t, token.Config{TokenURL: p.URL, AuthStyle: token.AuthForm, ClientSecret: "a b&c"})
	mustToken(t, src)
	f := p.lastForm()
	if p.hasBasic || f.Get("client_id") != "svc" || f.Get("client_secret") != "a b&c" {
		t.Errorf("basic %v, form %v", p.hasBasic, f)
	}
}

func jwtWith(exp int64) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(fmt.Sprintf(`{"sub":"x","exp":%d}`, exp))) + ".sig"
}

func TestExpiry(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(90 * time.Minute).Unix()
	tests := []struct {
		name string
		body string
		want time.Time
	}{
		{"number", `{"access_token":"x","token_type":"bearer","expires_in":600}`, now.Add(10 * time.Minute)},
		{"string", `{"access_token":"x","token_type":"BEARER","expires_in":"600"}`, now.Add(10 * time.Minute)},
		{"JWT exp", `{"access_token":"` + jwtWith(exp) + `","token_type":"Bearer"}`, time.Unix(exp, 0)},
		{"expires_in wins over exp", `{"access_token":"` + jwtWith(exp) + `","expires_in":60}`, now.Add(time.Minute)},
		{"bad expires_in, JWT exp", `{"access_token":"` + jwtWith(exp) + `","expires_in":"soon"}`, time.Unix(exp, 0)},
		{"default", `{"access_token":"opaque","token_type":"Bearer"}`, now.Add(7 * time.Minute)},
		{"zero expires_in: default", `{"access_token":"opaque","expires_in":0}`, now.Add(7 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			p.set(status(200, tt.body))
			src := newSource(t, clocked(func() time.Time { return now }, token.Config{TokenURL: p.URL, DefaultExpiry: 7 * time.Minute}))
			if got := mustToken(t, src).Expiry; !got.Equal(tt.want) {
				t.Errorf("expiry %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSingleFlight(t *testing.T) {
	p := newProvider(t)
	release, inFlight := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.set(func(n int64, w http.ResponseWriter) {
		once.Do(func() { close(inFlight) })
		<-release
		fresh(3600)(n, w)
	})
	src := newSource(t, token.Config{TokenURL: p.URL})
	var wg sync.WaitGroup
	toks := make([]*token.Token, 100)
	errs := make([]error, 100)
	for i := range toks {
		wg.Go(func() { toks[i], errs[i] = src.Token(ctx) })
	}
	<-inFlight // a grant is under way: callers now join it or find its token
	close(release)
	wg.Wait()
	for i := range toks {
		if errs[i] != nil || toks[i].AccessToken != "tok-1" {
			t.Fatalf("caller %d: %v %v", i, toks[i], errs[i])
		}
	}
	if got := p.grants.Load(); got != 1 {
		t.Errorf("grants = %d, want 1", got)
	}
}

func TestRefreshInWindow(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	src := newSource(t, clocked(clk.Now, drawing(func() float64 { return 0.5 }, token.Config{TokenURL: p.URL})))
	first := mustToken(t, src) // an hour: the window is scaled to [30, 45) minutes
	clk.Add(37 * time.Minute)
	if got := mustToken(t, src); got != first {
		t.Errorf("before its moment: got %v, want the first token", got.AccessToken)
	}
	clk.Add(time.Minute)
	if got := mustToken(t, src); got.AccessToken != "tok-2" {
		t.Errorf("after its moment: got %v, want tok-2", got.AccessToken)
	}
}

func TestProviderDownServesValidToken(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply func(int64, http.ResponseWriter)
	}{
		{"500", status(500, `oops`)},
		{"503 with Retry-After", status(503, ``, "Retry-After", "120")},
		{"429 with Retry-After", status(429, `{"error":"slow_down"}`, "Retry-After", "120")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			clk := newClock()
			log, logs := newLogger()
			src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Logger: log, Window: window.Settings{Width: time.Minute, Threshold: time.Minute}}))
			first := mustToken(t, src)
			p.set(tt.reply)
			clk.Add(59 * time.Minute) // past the window's end, 1 minute left
			for range 3 {
				if got := mustToken(t, src); got != first {
					t.Fatalf("got %v, want the cached token", got)
				}
				clk.Add(10 * time.Second)
			}
			if n := strings.Count(logs.String(), "refresh failed"); n != 1 {
				t.Errorf("logged the failure %d times, want once:\n%s", n, logs)
			}
			// The first token, then one attempt every 10 s (the back-off
			// is 5 s) or, with Retry-After: 120, one attempt only.
			wantGrants := int64(4)
			if strings.Contains(tt.name, "Retry-After") {
				wantGrants = 2
			}
			if got := p.grants.Load(); got != wantGrants {
				t.Errorf("grants = %d, want %d", got, wantGrants)
			}
		})
	}
}

func TestProviderDownNoToken(t *testing.T) {
	for _, tt := range []struct {
		name   string
		reply  func(int64, http.ResponseWriter)
		status int
	}{
		{"500", status(500, `oops`), 500},
		{"429", status(429, `{"error":"slow_down"}`, "Retry-After", "30"), 429},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			p.set(tt.reply)
			clk := newClock()
			src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL}))
			_, err := src.Token(ctx)
			var re *token.RetrieveError
			if !errors.As(err, &re) || re.StatusCode != tt.status || !errors.Is(err, token.ErrUnavailable) {
				t.Fatalf("got %v, want a *RetrieveError %d matching ErrUnavailable", err, tt.status)
			}
			if tt.status == 429 {
				if re.RetryAfter != 30*time.Second {
					t.Errorf("RetryAfter = %v, want 30s", re.RetryAfter)
				}
				// Not before the Retry-After.
				p.set(nil)
				if _, err := src.Token(ctx); !errors.As(err, &re) {
					t.Errorf("within Retry-After: got %v, want the 429 again", err)
				}
				if got := p.grants.Load(); got != 1 {
					t.Errorf("grants within Retry-After = %d, want 1", got)
				}
				clk.Add(31 * time.Second)
				if tok := mustToken(t, src); tok.AccessToken != "tok-2" {
					t.Errorf("after Retry-After: got %v", tok.AccessToken)
				}
			}
		})
	}
}

func TestUnreachableProvider(t *testing.T) {
	p := newProvider(t)
	p.Close()
	src := newSource(t, token.Config{TokenURL: p.URL})
	if _, err := src.Token(ctx); !errors.Is(err, token.ErrUnavailable) {
		t.Errorf("got %v, want ErrUnavailable", err)
	}
}

func TestBadResponses(t *testing.T) {
	tests := []struct {
		name  string
		reply func(int64, http.ResponseWriter)
		check func(t *testing.T, err error)
	}{
		{"400 invalid_client", status(400, `{"error":"invalid_client","error_description":"bad secret","error_uri":"https://idp/doc"}`), func(t *testing.T, err error) {
			var re *token.RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want *RetrieveError", err)
			}
			if re.StatusCode != 400 || re.ErrorCode != "invalid_client" || re.ErrorDescription != "bad secret" || re.ErrorURI != "https://idp/doc" || !strings.Contains(string(re.Body), "invalid_client") {
				t.Errorf("got %+v", re)
			}
			if errors.Is(err, token.ErrUnavailable) {
				t.Error("a 400 matches ErrUnavailable")
			}
			if want := "token: token endpoint answered 400 Bad Request: invalid_client: bad secret (https://idp/doc)"; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		}},
		{"401 not JSON", status(401, `nope`), func(t *testing.T, err error) {
			var re *token.RetrieveError
			if !errors.As(err, &re) || re.StatusCode != 401 || re.ErrorCode != "" {
				t.Errorf("got %v", err)
			}
		}},
		{"malformed JSON", status(200, `{"access_token":"tok-secret",`), func(t *testing.T, err error) {
			if !errors.Is(err, token.ErrMalformed) || strings.Contains(err.Error(), "tok-secret") {
				t.Errorf("got %v", err)
			}
		}},
		{"missing access_token", status(200, `{"token_type":"Bearer","expires_in":60}`), func(t *testing.T, err error) {
			if !errors.Is(err, token.ErrMalformed) {
				t.Errorf("got %v", err)
			}
		}},
		{"token_type mac", status(200, `{"access_token":"x","token_type":"mac"}`), func(t *testing.T, err error) {
			if !errors.Is(err, token.ErrTokenType) {
				t.Errorf("got %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			p.set(tt.reply)
			src := newSource(t, token.Config{TokenURL: p.URL})
			tok, err := src.Token(ctx)
			if tok != nil {
				t.Errorf("got a token %v", tok)
			}
			tt.check(t, err)
		})
	}
}

func TestStoreDown(t *testing.T) {
	p := newProvider(t)
	log, logs := newLogger()
	down := &downStore{}
	clk := newClock()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: down, Logger: log}))
	tok := mustToken(t, src)
	if tok.AccessToken != "tok-1" {
		t.Errorf("got %v", tok.AccessToken)
	}
	if again := mustToken(t, src); again != tok {
		t.Error("not served from memory")
	}
	clk.Add(2 * time.Minute) // old enough to be invalidated
	src.Invalidate(ctx, tok)
	mustToken(t, src)
	if n := strings.Count(logs.String(), "the store failed"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs)
	}
	if got := down.calls.Load(); got != 2 {
		t.Errorf("store calls = %d, want 2 (a Get, then an Invalidate's Get; the refresh skips the store)", got)
	}
}

func TestStoreSharesToken(t *testing.T) {
	p := newProvider(t)
	shared := memstore.New()
	a := newSource(t, token.Config{TokenURL: p.URL, Store: shared})
	b := newSource(t, token.Config{TokenURL: p.URL, Store: shared})
	ta, tb := mustToken(t, a), mustToken(t, b)
	if ta.AccessToken != tb.AccessToken || p.grants.Load() != 1 {
		t.Errorf("a %v, b %v, grants %d", ta.AccessToken, tb.AccessToken, p.grants.Load())
	}
	if a.Key() != b.Key() || !strings.HasPrefix(a.Key(), "token/") {
		t.Errorf("keys %q %q", a.Key(), b.Key())
	}
	other := newSource(t, token.Config{TokenURL: p.URL, Store: shared, Scopes: []string{"x"}})
	if other.Key() == a.Key() {
		t.Error("other scopes, same key")
	}
}

func TestEncryptedAtRest(t *testing.T) {
	p := newProvider(t)
	shared := memstore.New()
	key := []byte("0123456789abcdef0123456789abcdef")
	a := newSource(t, token.Config{TokenURL: p.URL, Store: shared, EncryptionKey: key})
	tok := mustToken(t, a)
	it, err := shared.Get(ctx, a.Key())
	if err != nil || it.Version == 0 {
		t.Fatalf("stored: %v %v", it, err)
	}
	if strings.Contains(string(it.Value), tok.AccessToken) || strings.Contains(string(it.Value), "expires_in") {
		t.Errorf("the store holds the token in plain text: %s", it.Value)
	}
	b := newSource(t, token.Config{TokenURL: p.URL, Store: shared, EncryptionKey: key})
	if got := mustToken(t, b); got.AccessToken != tok.AccessToken || p.grants.Load() != 1 {
		t.Errorf("b got %v after %d grants", got.AccessToken, p.grants.Load())
	}
	// Without the key, the sealed token is unreadable: a new grant.
	c := newSource(t, token.Config{TokenURL: p.URL, Store: shared, EncryptionKey: []byte("another-key-of-32-bytes-long!!!!")})
	if got := mustToken(t, c); got.AccessToken == tok.AccessToken {
		t.Error("read the token with the wrong key")
	}
	// Without a key, the store holds the plain response.
	plain := newSource(t, token.Config{TokenURL: p.URL, Store: memstore.New()})
	mustToken(t, plain)
}

func TestInvalidate(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	shared := memstore.New(memstore.WithClock(clk.Now))
	a := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared}))
	b := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared}))
	t1 := mustToken(t, a)
	// A token younger than a minute is kept: a refusal says more about
	// the downstream than about the token.
	if err := a.Invalidate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	c := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared}))
	if got := mustToken(t, c); got.AccessToken != t1.AccessToken || p.grants.Load() != 1 {
		t.Fatalf("a fresh token was invalidated: another instance got %v after %d grants", got.AccessToken, p.grants.Load())
	}
	clk.Add(2 * time.Minute)
	if err := a.Invalidate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	t2 := mustToken(t, b)
	if t2.AccessToken == t1.AccessToken {
		t.Error("the store still served the invalidated token")
	}
	// A stale invalidation keeps the newer token in the store (by b, which
	// has invalidated nothing yet: a would skip it as too soon after its
	// own).
	if err := b.Invalidate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	if got := mustToken(t, a); got.AccessToken != t2.AccessToken {
		t.Errorf("got %v, want %v", got.AccessToken, t2.AccessToken)
	}
	if got := p.grants.Load(); got != 2 {
		t.Errorf("grants = %d, want 2", got)
	}
}

// TestInvalidateOncePerInterval: within a minute after a Source dropped a
// token, it drops no other, however old: here a token another instance
// granted two minutes before, which the age check alone would let go.
func TestInvalidateOncePerInterval(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	shared := memstore.New(memstore.WithClock(clk.Now))
	a := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared}))
	b := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared}))
	t1 := mustToken(t, a)
	mustToken(t, b)
	clk.Add(2 * time.Minute)
	if err := b.Invalidate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	t2 := mustToken(t, b) // granted now, stored
	clk.Add(2 * time.Minute)
	if err := a.Invalidate(ctx, t1); err != nil { // a's first: t1 dropped from its memory
		t.Fatal(err)
	}
	if got := mustToken(t, a); got.AccessToken != t2.AccessToken {
		t.Fatalf("a got %v, want %v from the store", got.AccessToken, t2.AccessToken)
	}
	// t2 is two minutes old, but a dropped a token a moment ago.
	if err := a.Invalidate(ctx, t2); err != nil {
		t.Fatal(err)
	}
	if got := mustToken(t, a); got.AccessToken != t2.AccessToken || p.grants.Load() != 2 {
		t.Errorf("a second invalidation within a minute: a got %v after %d grants, want %v after 2", got.AccessToken, p.grants.Load(), t2.AccessToken)
	}
}

// TestInvalidateKeepsYoungTokenInMemory: without a store, a token younger
// than a minute is kept in memory when a downstream refuses it.
func TestInvalidateKeepsYoungTokenInMemory(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL}))
	t1 := mustToken(t, src)
	clk.Add(30 * time.Second)
	if err := src.Invalidate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	if got := mustToken(t, src); got.AccessToken != t1.AccessToken || p.grants.Load() != 1 {
		t.Errorf("a 30-second-old token refused: got %v after %d grants, want %v after 1", got.AccessToken, p.grants.Load(), t1.AccessToken)
	}
	clk.Add(time.Minute)
	if err := src.Invalidate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	if got := mustToken(t, src); got.AccessToken == t1.AccessToken || p.grants.Load() != 2 {
		t.Errorf("a 90-second-old token refused: got %v after %d grants, want a new one", got.AccessToken, p.grants.Load())
	}
}

func TestLeaseHeldByAnother(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	shared := memstore.New(memstore.WithClock(clk.Now))
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared, LeaseWait: 100 * time.Millisecond}))
	// Another instance took the lease and vanished.
	lease := fmt.Sprintf(`{"holder":"ghost","lease":%d}`, clk.Now().Add(10*time.Second).UnixNano())
	if _, err := shared.CompareAndSet(ctx, src.Key(), 0, []byte(lease), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(ctx); !errors.Is(err, token.ErrUnavailable) {
		t.Errorf("within the lease: got %v, want ErrUnavailable", err)
	}
	clk.Add(11 * time.Second)
	if tok := mustToken(t, src); tok.AccessToken != "tok-1" {
		t.Errorf("after the lease: got %v", tok.AccessToken)
	}
}

func TestTokenRedacted(t *testing.T) {
	tok := token.Token{AccessToken: "tok-very-secret", TokenType: "Bearer", Scope: "a"}
	log, logs := newLogger()
	log.Info("x", "tok", tok, "ptr", &tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%#v %+v %s %q %x", tok, &tok, tok, tok, tok), tok.String(), logs.String()} {
		if strings.Contains(s, "tok-very-secret") || !strings.Contains(s, "[REDACTED]") {
			t.Errorf("leaks or lacks [REDACTED]: %s", s)
		}
	}
}

// TestFailedGrantReleasesLease: an instance whose grant fails gives its lease
// back at once, so another instance need not wait for the lease to expire.
func TestFailedGrantReleasesLease(t *testing.T) {
	p := newProvider(t)
	p.set(status(500, `{"error":"server_error"}`))
	shared := memstore.New()
	first := newSource(t, token.Config{TokenURL: p.URL, Store: shared})
	if _, err := first.Token(ctx); err == nil {
		t.Fatal("a 500 with no token: got no error")
	}
	p.set(fresh(3600))
	second := newSource(t, token.Config{TokenURL: p.URL, Store: shared})
	c, cancel := context.WithTimeout(ctx, 2*time.Second) // far under the 10 s lease
	defer cancel()
	tok, err := second.Token(c)
	if err != nil {
		t.Fatalf("after a failed grant elsewhere: %v (the lease was kept)", err)
	}
	if tok.AccessToken == "" {
		t.Fatal("got an empty token")
	}
}

// TestRetryAfterCapped: a 503 with Retry-After: 86400 holds a source with
// no valid token back for the cap only, not for a day.
func TestRetryAfterCapped(t *testing.T) {
	for _, warm := range []bool{false, true} {
		t.Run(map[bool]string{false: "cold", true: "expired"}[warm], func(t *testing.T) {
			p := newProvider(t)
			clk := newClock()
			src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL}))
			if warm {
				mustToken(t, src) // an hour
				p.set(status(503, ``, "Retry-After", "86400"))
				clk.Add(59 * time.Minute) // due and still valid: served
				mustToken(t, src)
				clk.Add(2 * time.Minute) // expired
			} else {
				p.set(status(503, ``, "Retry-After", "86400"))
			}
			_, err := src.Token(ctx)
			var re *token.RetrieveError
			if !errors.As(err, &re) || re.RetryAfter != 24*time.Hour {
				t.Fatalf("got %v, want the 503 with its Retry-After of a day", err)
			}
			n := p.grants.Load()
			p.set(nil) // the provider recovers
			clk.Add(token.DefaultMaxRetryAfter / 2)
			if _, err := src.Token(ctx); err == nil || p.grants.Load() != n {
				t.Fatalf("within the cap: got %v after %d requests, want the 503 again and no request", err, p.grants.Load()-n)
			}
			clk.Add(token.DefaultMaxRetryAfter/2 + time.Second)
			tok, err := src.Token(ctx)
			if err != nil {
				t.Fatalf("past the cap of %v: %v (held back by the server's day)", token.DefaultMaxRetryAfter, err)
			}
			if got := p.grants.Load(); got != n+1 || tok.AccessToken != fmt.Sprintf("tok-%d", n+1) {
				t.Errorf("past the cap: got %v after %d grants, want tok-%d", tok.AccessToken, got, n+1)
			}
		})
	}
}

// failingPut is a store that takes the lease but fails every write of a
// token, as a store does when the token is too large for it or the write
// times out.
type failingPut struct{ store.Store }

func (f failingPut) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if bytes.Contains(value, []byte(`"token"`)) || bytes.Contains(value, []byte(`"sealed"`)) {
		return 0, errDown
	}
	return f.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestFailedPutReleasesLease: an instance whose final write of the token
// fails gives its lease back, so that the next cold instance grants at
// once instead of waiting for the lease to end.
func TestFailedPutReleasesLease(t *testing.T) {
	p := newProvider(t)
	shared := failingPut{memstore.New()}
	first := newSource(t, token.Config{TokenURL: p.URL, Store: shared})
	if tok := mustToken(t, first); tok.AccessToken != "tok-1" {
		t.Fatalf("got %v, want tok-1 served from memory", tok.AccessToken)
	}
	it, err := shared.Get(ctx, first.Key())
	if err != nil || bytes.Contains(it.Value, []byte(`"holder"`)) {
		t.Fatalf("after the failed put the store holds %s (%v): the lease is still held", it.Value, err)
	}
	// LeaseWait of a millisecond: a held lease fails this at once.
	second := newSource(t, token.Config{TokenURL: p.URL, Store: shared, LeaseWait: time.Millisecond})
	if tok, err := second.Token(ctx); err != nil || tok.AccessToken != "tok-2" {
		t.Fatalf("the next cold instance got %v, %v; want tok-2", tok, err)
	}
}

// TestLogsCarryCallerContext: every line logged during a call, on the
// outage paths above all, is logged with the caller's context, so that its
// request and trace ids reach the line.
func TestLogsCarryCallerContext(t *testing.T) {
	h := newCtxHandler()
	p := newProvider(t)
	clk := newClock()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: &downStore{}, Logger: slog.New(h)}))
	rctx := context.WithValue(ctx, ctxKey{}, "req-1")
	if _, err := src.Token(rctx); err != nil { // the store failed: granted
		t.Fatal(err)
	}
	p.set(status(500, `{"error":"server_error"}`))
	clk.Add(59 * time.Minute) // due, still valid: the failure is logged
	if _, err := src.Token(rctx); err != nil {
		t.Fatal(err)
	}
	p.set(nil)
	clk.Add(10 * time.Second) // the provider answers again
	if _, err := src.Token(rctx); err != nil {
		t.Fatal(err)
	}
	lines := h.Lines()
	for _, want := range []string{"the store failed", "refresh failed", "answers again"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("no line with %q in %q", want, lines)
		}
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "request_id=req-1") {
			t.Errorf("logged without the caller's context: %q", l)
		}
	}
}

// flakyStore is a store that fails every call while down is set.
type flakyStore struct {
	store.Store
	down atomic.Bool
}

func (f *flakyStore) Get(ctx context.Context, key string) (store.Item, error) {
	if f.down.Load() {
		return store.Item{}, errDown
	}
	return f.Store.Get(ctx, key)
}

func (f *flakyStore) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if f.down.Load() {
		return 0, errDown
	}
	return f.Store.CompareAndSet(ctx, key, version, value, ttl)
}

// TestStoreLogsCarryCallerContext: the lines that say the store works
// again and that a stored token is ignored are logged with the caller's
// context too.
func TestStoreLogsCarryCallerContext(t *testing.T) {
	h := newCtxHandler()
	p := newProvider(t)
	clk := newClock()
	shared := &flakyStore{Store: memstore.New(memstore.WithClock(clk.Now))}
	shared.down.Store(true)
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared, Logger: slog.New(h)}))
	rctx := context.WithValue(ctx, ctxKey{}, "req-1")
	if _, err := src.Token(rctx); err != nil { // the store failed: granted
		t.Fatal(err)
	}
	shared.down.Store(false)
	// Another instance, with a key this one lacks, puts its token.
	sealer := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL, Store: shared, EncryptionKey: []byte("0123456789abcdef0123456789abcdef")}))
	mustToken(t, sealer)
	clk.Add(59 * time.Minute) // due: the store is read again
	if _, err := src.Token(rctx); err != nil {
		t.Fatal(err)
	}
	lines := h.Lines()
	for _, want := range []string{"the store failed", "the store works again", "ignoring the stored token"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("no line with %q in %q", want, lines)
		}
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "request_id=req-1") {
			t.Errorf("logged without the caller's context: %q", l)
		}
	}
}

// TestCallerCancelNotAnOutage: a refresh cut off by its caller's context
// is not a failure of the provider: it is not logged as one, and it puts
// the next refresh off by two seconds only (the valid token is served
// meanwhile), not by the five of a failure or a Retry-After.
func TestCallerCancelNotAnOutage(t *testing.T) {
	clk := newClock()
	inFlight := make(chan struct{}, 1)
	var n atomic.Int64
	var block atomic.Bool
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		k := n.Add(1)
		if block.Load() {
			inFlight <- struct{}{}
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
	})
	log, logs := newLogger()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}, Logger: log}))
	mustToken(t, src)
	clk.Add(50 * time.Minute) // due, still valid
	block.Store(true)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-inFlight:
			cancel()
		case <-cctx.Done():
		}
	}()
	tok, err := src.Token(cctx)
	if err != nil || tok.AccessToken != "tok-1" {
		t.Fatalf("a cancelled caller with a valid token: got %v, %v; want tok-1", tok, err)
	}
	if strings.Contains(logs.String(), "refresh failed") {
		t.Errorf("a caller's cancellation was logged as a failed refresh:\n%s", logs)
	}
	block.Store(false)
	if tok := mustToken(t, src); tok.AccessToken != "tok-1" || n.Load() != 2 {
		t.Errorf("the next caller at once got %v after %d requests, want tok-1 after 2: served while the refresh is put off", tok.AccessToken, n.Load())
	}
	clk.Add(2 * time.Second)
	if tok := mustToken(t, src); tok.AccessToken != "tok-3" {
		t.Errorf("the next caller 2 s later got %v, want tok-3: held back by another caller's cancellation", tok.AccessToken)
	}
}

// within runs f and fails the test if it does not return within 10
// seconds.
func within[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	c := make(chan T, 1)
	go func() { c <- f() }()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return within 10 s", what)
		var zero T
		return zero
	}
}

// TestDueTokenServedDuringRefresh: while one caller refreshes a token that
// is due but valid, the others are served that token at once.
func TestDueTokenServedDuringRefresh(t *testing.T) {
	clk := newClock()
	release, inFlight := make(chan struct{}), make(chan struct{})
	var n atomic.Int64
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		k := n.Add(1)
		if k == 2 {
			close(inFlight)
			select {
			case <-release:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		}
		return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
	})
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}}))
	mustToken(t, src)
	clk.Add(50 * time.Minute) // due, still valid
	leader := make(chan string, 1)
	go func() {
		tok, err := src.Token(ctx)
		if err != nil {
			leader <- err.Error()
			return
		}
		leader <- tok.AccessToken
	}()
	within(t, "the refresh", func() struct{} { <-inFlight; return struct{}{} })
	for range 10 {
		if got := within(t, "Token during the refresh", func() *token.Token { return mustToken(t, src) }); got.AccessToken != "tok-1" {
			t.Fatalf("during the refresh: got %v, want tok-1", got.AccessToken)
		}
	}
	close(release)
	if got := within(t, "the refreshing caller", func() string { return <-leader }); got != "tok-2" {
		t.Errorf("the refreshing caller got %v, want tok-2", got)
	}
	if got := mustToken(t, src); got.AccessToken != "tok-2" || n.Load() != 2 {
		t.Errorf("after the refresh: %v after %d grants, want tok-2 after 2", got.AccessToken, n.Load())
	}
}

// TestLeaderCancelledWaiterTakesOver: a caller that waits for a grant which
// another caller started, and which that caller's cancellation cut off,
// gets a token of its own instead of the other's cancellation.
func TestLeaderCancelledWaiterTakesOver(t *testing.T) {
	inFlight := make(chan struct{})
	var n atomic.Int64
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		k := n.Add(1)
		if k == 1 {
			close(inFlight)
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
	})
	src := newSource(t, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}})
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	leader := make(chan error, 1)
	go func() {
		_, err := src.Token(lctx)
		leader <- err
	}()
	within(t, "the first grant", func() struct{} { <-inFlight; return struct{}{} })
	type result struct {
		tok *token.Token
		err error
	}
	waiter := make(chan result, 1)
	go func() {
		tok, err := src.Token(ctx)
		waiter <- result{tok, err}
	}()
	waitWaiting(t, src) // cancel once the waiter is parked on the grant
	cancel()
	if err := within(t, "the cancelled caller", func() error { return <-leader }); !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled caller got %v, want context.Canceled", err)
	}
	r := within(t, "the waiting caller", func() result { return <-waiter })
	if r.err != nil || r.tok.AccessToken != "tok-2" {
		t.Errorf("the waiting caller got %v, %v; want tok-2", r.tok, r.err)
	}
}

// TestPanickingGrant: a grant that panics re-panics in its caller and
// leaves the Source usable.
func TestPanickingGrant(t *testing.T) {
	var n atomic.Int64
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		k := n.Add(1)
		if k == 1 {
			panic("boom")
		}
		return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
	})
	src := newSource(t, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the grant's panic", r)
			}
		}()
		_, _ = src.Token(ctx)
	}()
	if tok := within(t, "Token after a panic", func() *token.Token { return mustToken(t, src) }); tok.AccessToken != "tok-2" {
		t.Errorf("after the panic: got %v, want tok-2", tok.AccessToken)
	}
}

// TestInvalidateNothingDropped: an Invalidate that drops nothing (the
// refused token is neither in memory nor in the store any more) does not
// count as the one invalidation of the minute: the current token, refused
// a moment later, is dropped.
func TestInvalidateNothingDropped(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: p.URL}))
	t1 := mustToken(t, src)
	clk.Add(2 * time.Minute)
	if err := src.Invalidate(ctx, &token.Token{AccessToken: "tok-gone"}); err != nil {
		t.Fatal(err)
	}
	if err := src.Invalidate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	if got := mustToken(t, src); got.AccessToken == t1.AccessToken || p.grants.Load() != 2 {
		t.Errorf("after a refused token older than a minute: got %v after %d grants, want a new one (an Invalidate that dropped nothing held it back)", got.AccessToken, p.grants.Load())
	}
}

// TestInvalidateDuringRefresh: a downstream refuses the token while a
// refresh of it runs (it is due, still valid); the refresh then fails. The
// refused token must stay dropped: the refresh, which serves the token it
// started from when it fails, must not put it back in memory.
func TestInvalidateDuringRefresh(t *testing.T) {
	clk := newClock()
	inFlight, release := make(chan struct{}), make(chan struct{})
	var n atomic.Int64
	idp := idpFunc(func(req *http.Request) (*http.Response, error) {
		k := n.Add(1)
		if k == 2 {
			close(inFlight)
			select {
			case <-release:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
			return answer(req, 500, `{"error":"server_error"}`), nil
		}
		return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, k)), nil
	})
	src := newSource(t, clocked(clk.Now, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}, Logger: slog.New(slog.DiscardHandler)}))
	t1 := mustToken(t, src)
	clk.Add(50 * time.Minute) // due, still valid
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		_, _ = src.Token(ctx)
	}()
	within(t, "the refresh", func() struct{} { <-inFlight; return struct{}{} })
	if err := src.Invalidate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	close(release)
	within(t, "the refreshing caller", func() struct{} { <-refreshed; return struct{}{} })
	if got := mustToken(t, src); got.AccessToken == t1.AccessToken {
		t.Errorf("after Invalidate during a refresh that then failed: got the refused %v again, want a new token", got.AccessToken)
	}
}
