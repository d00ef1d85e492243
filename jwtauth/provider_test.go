package jwtauth_test

import (
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/internal/breakerclock"
	"github.com/funcify/funcify/jwtauth"
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

// newBreaker returns the breaker of s on the clock now.
func newBreaker(s breaker.Settings, now func() time.Time) *breaker.Breaker {
	breakerclock.Set(&s, now)
	return breaker.New(s)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func jwksValidator(t *testing.T, src jwtauth.KeySource, clk *fakeClock) *jwtauth.Validator {
	t.Helper()
	v := newClocked(t, jwtauth.Config{Keys: src, Issuer: testIssuer, Audience: []string{testAudience}}, clk.Now)
	return v
}
