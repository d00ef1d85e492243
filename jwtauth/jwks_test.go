package jwtauth_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/store/memstore"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// provider is an httptest identity provider serving a JWKS and a discovery
// document, counting the requests for each.
type provider struct {
	srv       *httptest.Server
	jwksHits  atomic.Int64
	discHits  atomic.Int64
	mu        sync.Mutex // guards doc, down, issuer
	doc       []byte
	down      bool
	issuer    string
	jwksDelay time.Duration
	// hook, if set, sees every request first and answers it when it
	// returns true (after the hit is counted).
	hook func(w http.ResponseWriter, r *http.Request) bool
}

func newProvider(t testing.TB, keys map[string]crypto.PublicKey) *provider {
	p := &provider{doc: jwksDoc(t, keys)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		doc, down, issuer, delay, hook := p.doc, p.down, p.issuer, p.jwksDelay, p.hook
		p.mu.Unlock()
		switch r.URL.Path {
		case "/jwks":
			p.jwksHits.Add(1)
			if hook != nil && hook(w, r) {
				return
			}
			time.Sleep(delay) // lets concurrent validations pile up on one fetch
			if down {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(doc)
		case "/.well-known/openid-configuration":
			p.discHits.Add(1)
			if hook != nil && hook(w, r) {
				return
			}
			if issuer == "" {
				issuer = p.srv.URL
			}
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, issuer, p.srv.URL+"/jwks")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) set(t testing.TB, keys map[string]crypto.PublicKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.doc = jwksDoc(t, keys)
}

func (p *provider) setHook(hook func(w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = hook
}

func (p *provider) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func jwksValidator(t *testing.T, src jwtauth.KeySource, clk *fakeClock) *jwtauth.Validator {
	t.Helper()
	v, err := jwtauth.New(jwtauth.Config{Keys: src, Issuer: testIssuer, Audience: []string{testAudience}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJWKSOneFetchForConcurrentColdValidations(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	p.jwksDelay = 50 * time.Millisecond
	clk := &fakeClock{t: now}
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	tok := validRS256(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			if _, err := v.Validate(context.Background(), tok); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Validate: %v", err)
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Errorf("got %d fetches, want 1", got)
	}
}

func TestJWKSUnknownKidFloodIsBounded(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	src := jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithRefreshInterval(time.Minute), jwtauth.WithLogger(quiet))
	v := jwksValidator(t, src, clk)
	ctx := context.Background()
	if _, err := v.Validate(ctx, validRS256(t)); err != nil {
		t.Fatal(err)
	}
	flood := func(n int) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				tok := sign(t, hdr("EdDSA", fmt.Sprintf("kid-%d", i)), claims(nil), "EdDSA", k.attackerEd)
				if _, err := v.Validate(ctx, tok); !errors.Is(err, jwtauth.ErrUnknownKey) {
					t.Errorf("unknown kid: got %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
	}
	flood(200)
	if got := p.jwksHits.Load(); got != 1 {
		t.Errorf("after a flood within the interval: got %d fetches, want 1", got)
	}
	// Past the short backoff that follows a failed fetch, but within the
	// interval that follows a successful one.
	clk.Advance(6 * time.Second)
	flood(50)
	if got := p.jwksHits.Load(); got != 1 {
		t.Errorf("6s after a successful fetch: got %d fetches, want 1", got)
	}
	for i := range 5 {
		clk.Advance(61 * time.Second)
		flood(50)
		if got, want := p.jwksHits.Load(), int64(i+2); got != want {
			t.Errorf("after %d intervals: got %d fetches, want %d", i+1, got, want)
		}
	}
	// The known key kept working throughout.
	if _, err := v.Validate(ctx, validRS256(t)); err != nil {
		t.Errorf("known kid after the flood: %v", err)
	}
}

func TestJWKSKeyRotation(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	ctx := context.Background()
	if _, err := v.Validate(ctx, validRS256(t)); err != nil {
		t.Fatal(err)
	}
	p.set(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey, "rsa2": &k.rsa2.PublicKey})
	rotated := sign(t, hdr("RS256", "rsa2"), claims(nil), "RS256", k.rsa2)
	if _, err := v.Validate(ctx, rotated); !errors.Is(err, jwtauth.ErrUnknownKey) {
		t.Errorf("new kid within the interval: got %v, want ErrUnknownKey", err)
	}
	clk.Advance(time.Minute)
	if _, err := v.Validate(ctx, rotated); err != nil {
		t.Errorf("new kid after the interval: %v", err)
	}
	if got := p.jwksHits.Load(); got != 2 {
		t.Errorf("got %d fetches, want 2", got)
	}
	// The old key is retired: after the max age the set is fetched again
	// and the old kid is no longer accepted.
	p.set(t, map[string]crypto.PublicKey{"rsa2": &k.rsa2.PublicKey})
	clk.Advance(2 * time.Hour)
	if _, err := v.Validate(ctx, validRS256(t)); !errors.Is(err, jwtauth.ErrUnknownKey) {
		t.Errorf("retired kid after max age: got %v, want ErrUnknownKey", err)
	}
}

func TestJWKSProviderDown(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	b := breaker.New(breaker.Settings{Name: "idp", Now: clk.Now, OpenFor: time.Hour, Window: time.Hour, Logger: quiet})
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithBreaker(b), jwtauth.WithLogger(quiet)), clk)
	ctx := context.Background()
	good := validRS256(t)
	if _, err := v.Validate(ctx, good); err != nil {
		t.Fatal(err)
	}
	p.setDown(true)
	unknown := sign(t, hdr("RS256", "new"), claims(nil), "RS256", k.attackerRSA)
	for i := range 10 {
		clk.Advance(61 * time.Second)
		if _, err := v.Validate(ctx, unknown); err == nil {
			t.Fatal("unknown kid accepted")
		}
		// Cached keys still validate, though past the max age by the end.
		if _, err := v.Validate(ctx, good); err != nil {
			t.Errorf("round %d: cached key: %v", i, err)
		}
	}
	// 1 fetch while up; 3 failures open the circuit; then no more calls.
	if got := p.jwksHits.Load(); got != 4 {
		t.Errorf("got %d requests, want 4", got)
	}
	if s := b.State(ctx); s != breaker.Open {
		t.Errorf("breaker is %v, want open", s)
	}
}

func TestJWKSColdProviderDown(t *testing.T) {
	t.Parallel()
	p := newProvider(t, map[string]crypto.PublicKey{})
	p.setDown(true)
	clk := &fakeClock{t: now}
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	for range 5 {
		if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
			t.Errorf("got %v, want ErrKeysUnavailable", err)
		}
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Errorf("got %d requests, want 1 per interval", got)
	}
}

func TestJWKSPersistedKeys(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	shared := memstore.New(memstore.WithClock(clk.Now))
	url := p.srv.URL + "/jwks"
	ctx := context.Background()
	first := jwksValidator(t, jwtauth.NewJWKS(url, jwtauth.WithStore(shared), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	if _, err := first.Validate(ctx, validRS256(t)); err != nil {
		t.Fatal(err)
	}
	// A fresh source, as in a cold instance, finds the keys in the store.
	clk.Advance(10 * time.Minute)
	fresh := jwksValidator(t, jwtauth.NewJWKS(url, jwtauth.WithStore(shared), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	if _, err := fresh.Validate(ctx, validRS256(t)); err != nil {
		t.Fatal(err)
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Errorf("got %d fetches, want 1", got)
	}
	// Past the max age with the provider down, a cold instance still uses
	// the stored keys.
	p.setDown(true)
	clk.Advance(2 * time.Hour)
	cold := jwksValidator(t, jwtauth.NewJWKS(url, jwtauth.WithStore(shared), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	later := sign(t, hdr("RS256", "rsa"), claims(map[string]any{"exp": now.Add(3 * time.Hour).Unix()}), "RS256", k.rsa)
	if _, err := cold.Validate(ctx, later); err != nil {
		t.Errorf("stale stored keys, provider down: %v", err)
	}
}

func TestJWKSResponseCapped(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	v := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithMaxSize(100), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)), clk)
	if _, err := v.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
		t.Errorf("got %v, want ErrKeysUnavailable", err)
	}
}

func TestOIDCDiscovery(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	shared := memstore.New(memstore.WithClock(clk.Now))
	ctx := context.Background()
	issuer := p.srv.URL
	tok := sign(t, hdr("RS256", "rsa"), claims(map[string]any{"iss": issuer}), "RS256", k.rsa)
	newV := func() *jwtauth.Validator {
		v, err := jwtauth.New(jwtauth.Config{Keys: jwtauth.NewOIDC(issuer, jwtauth.WithStore(shared), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)),
			Issuer: issuer, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := newV()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := v.Validate(ctx, tok); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
	wg.Wait()
	if d, j := p.discHits.Load(), p.jwksHits.Load(); d != 1 || j != 1 {
		t.Errorf("got %d discovery and %d JWKS fetches, want 1 and 1", d, j)
	}
	// A cold instance finds both in the store.
	if _, err := newV().Validate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if d, j := p.discHits.Load(), p.jwksHits.Load(); d != 1 || j != 1 {
		t.Errorf("cold instance: got %d discovery and %d JWKS fetches, want 1 and 1", d, j)
	}
}

func TestOIDCIssuerMismatch(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	p.issuer = "https://attacker.example"
	clk := &fakeClock{t: now}
	src := jwtauth.NewOIDC(p.srv.URL, jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))
	for range 3 {
		_, err := src.Key(context.Background(), "rsa", "RS256")
		if !errors.Is(err, jwtauth.ErrKeysUnavailable) {
			t.Errorf("got %v, want ErrKeysUnavailable", err)
		}
	}
	if got := p.discHits.Load(); got != 1 {
		t.Errorf("got %d discovery fetches, want 1 per backoff", got)
	}
	if got := p.jwksHits.Load(); got != 0 {
		t.Errorf("got %d JWKS fetches, want 0", got)
	}
	if !strings.HasPrefix(p.srv.URL, "http://") {
		t.Fatal("test server is not http")
	}
}
