package jwtauth_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

// The parts of a URL that may carry secrets, as the tests below write
// them, and the strings that must show in no log line, error or store key.
var urlSecrets = []string{"s3cret", "api_key", "pw@"}

// downStore is a shared store whose every call fails, as a store in an
// outage does.
type downStore struct{}

func (downStore) Get(context.Context, string) (store.Item, error) {
	return store.Item{}, errors.New("store: connection refused")
}
func (downStore) CompareAndSet(context.Context, string, int64, []byte, time.Duration) (int64, error) {
	return 0, errors.New("store: connection refused")
}
func (downStore) Delete(context.Context, string, int64) error {
	return errors.New("store: connection refused")
}

// keyRecorder is a memstore that records every key it is asked about.
type keyRecorder struct {
	*memstore.Store
	mu   sync.Mutex // guards keys
	keys []string
}

func (k *keyRecorder) rec(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = append(k.keys, key)
}

func (k *keyRecorder) Get(ctx context.Context, key string) (store.Item, error) {
	k.rec(key)
	return k.Store.Get(ctx, key)
}

func (k *keyRecorder) CompareAndSet(ctx context.Context, key string, v int64, b []byte, ttl time.Duration) (int64, error) {
	k.rec(key)
	return k.Store.CompareAndSet(ctx, key, v, b, ttl)
}

func (k *keyRecorder) recorded() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.keys...)
}

// The default breaker of a source is named after its URL without the query
// and user information: the breaker logs its name (here when the store
// fails), and the secret must not reach the log through it.
func TestDefaultBreakerNameHidesQuery(t *testing.T) {
	t.Parallel()
	const secretURL = "http://user:pw@127.0.0.1:1/jwks?api_key=s3cret"
	for _, tc := range []struct {
		name string
		src  func(opts ...jwtauth.Option) jwtauth.KeySource
	}{
		{"jwks", func(opts ...jwtauth.Option) jwtauth.KeySource { return jwtauth.NewJWKS(secretURL, opts...) }},
		{"oidc", func(opts ...jwtauth.Option) jwtauth.KeySource { return jwtauth.NewOIDC(secretURL, opts...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := &logBuffer{}
			clk := &fakeClock{t: now}
			src := tc.src(jwtauth.WithStore(downStore{}), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(logs.logger()))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			src.Key(ctx, "rsa", "RS256")
			logged := logs.String()
			if !strings.Contains(logged, "breaker") {
				t.Fatalf("the breaker logged nothing: this test tests nothing\n%s", logged)
			}
			for _, secret := range urlSecrets {
				if strings.Contains(logged, secret) {
					t.Errorf("the log shows %q:\n%s", secret, logged)
				}
			}
		})
	}
}

// No key that a source (or its breaker) reads or writes in the shared
// store holds a URL's query: not the JWKS URL's, the issuer's, or that of
// a discovered jwks_uri. The store's key space is not sealed.
func TestStoreKeysHideQuery(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/.well-known/openid-configuration" {
			return false
		}
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, p.srv.URL, p.srv.URL+"/jwks?api_key=s3cret")
		return true
	})
	for _, tc := range []struct {
		name string
		src  func(opts ...jwtauth.Option) jwtauth.KeySource
	}{
		{"unreachable jwks", func(opts ...jwtauth.Option) jwtauth.KeySource {
			return jwtauth.NewJWKS("http://user:pw@127.0.0.1:1/jwks?api_key=s3cret", opts...)
		}},
		{"jwks", func(opts ...jwtauth.Option) jwtauth.KeySource {
			return jwtauth.NewJWKS(p.srv.URL+"/jwks?api_key=s3cret", opts...)
		}},
		{"discovered jwks_uri", func(opts ...jwtauth.Option) jwtauth.KeySource { return jwtauth.NewOIDC(p.srv.URL, opts...) }},
		{"unreachable issuer", func(opts ...jwtauth.Option) jwtauth.KeySource {
			return jwtauth.NewOIDC("http://user:pw@127.0.0.1:1/?api_key=s3cret", opts...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{t: now}
			rec := &keyRecorder{Store: memstore.New(memstore.WithClock(clk.Now))}
			src := tc.src(jwtauth.WithStore(rec), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			src.Key(ctx, "rsa", "RS256")
			keys := rec.recorded()
			if len(keys) == 0 {
				t.Fatal("no store key was used: this test tests nothing")
			}
			for _, key := range keys {
				for _, secret := range urlSecrets {
					if strings.Contains(key, secret) {
						t.Errorf("store key %q holds %q", key, secret)
					}
				}
			}
		})
	}
}

// Two JWKS URLs that differ only in their query (two tenants of one
// provider) keep their documents apart in a shared store.
func TestStoreKeysKeepQueriesApart(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, nil)
	docA := jwksDoc(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	docB := jwksDoc(t, map[string]crypto.PublicKey{"rsa2": &k.rsa2.PublicKey})
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("tenant") == "b" {
			w.Write(docB)
		} else {
			w.Write(docA)
		}
		return true
	})
	clk := &fakeClock{t: now}
	shared := memstore.New(memstore.WithClock(clk.Now))
	opts := []jwtauth.Option{jwtauth.WithStore(shared), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)}
	a := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks?tenant=a", opts...), clk)
	b := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks?tenant=b", opts...), clk)
	if _, err := a.Validate(context.Background(), validRS256(t)); err != nil {
		t.Fatalf("tenant a: %v", err)
	}
	if _, err := b.Validate(context.Background(), sign(t, hdr("RS256", "rsa2"), claims(nil), "RS256", k.rsa2)); err != nil {
		t.Errorf("tenant b, after tenant a stored its keys: %v; want tenant b's own keys", err)
	}
	if got := p.jwksHits.Load(); got != 2 {
		t.Errorf("got %d fetches, want 2: one per tenant", got)
	}
}

// A JWKS URL or an issuer that does not parse (a typo in the port) fails
// every validation with ErrKeysUnavailable and an error that names neither
// the query nor the user information: the app logs it.
func TestUnparsableURLErrorHidesSecrets(t *testing.T) {
	t.Parallel()
	const badURL = "https://user:pw@idp.example.com:44x/jwks?api_key=s3cret"
	for _, tc := range []struct {
		name string
		src  func(opts ...jwtauth.Option) jwtauth.KeySource
	}{
		{"jwks", func(opts ...jwtauth.Option) jwtauth.KeySource { return jwtauth.NewJWKS(badURL, opts...) }},
		{"oidc", func(opts ...jwtauth.Option) jwtauth.KeySource { return jwtauth.NewOIDC(badURL, opts...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := &logBuffer{}
			clk := &fakeClock{t: now}
			src := tc.src(jwtauth.WithClock(clk.Now), jwtauth.WithLogger(logs.logger()))
			_, err := src.Key(context.Background(), "rsa", "RS256")
			if !errors.Is(err, jwtauth.ErrKeysUnavailable) {
				t.Fatalf("got %v, want ErrKeysUnavailable", err)
			}
			logged := logs.String()
			for _, secret := range urlSecrets {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows %q: %v", secret, err)
				}
				if strings.Contains(logged, secret) {
					t.Errorf("the log shows %q:\n%s", secret, logged)
				}
			}
		})
	}
}

// Two key sets whose URLs differ only in their query (Azure AD B2C serves
// one JWKS per user flow: ".../discovery/v2.0/keys?p=B2C_1_signin" and
// "?p=B2C_1_signup") have a circuit each, in the shared store too: one
// failing document does not open the circuit of the other.
func TestBreakersKeepQueriesApart(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("p") == "down" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	shared := memstore.New()
	clk := &fakeClock{t: now}
	opts := []jwtauth.Option{jwtauth.WithClock(clk.Now), jwtauth.WithStore(shared), jwtauth.WithLogger(quiet)}
	down := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks?p=down", opts...), clk)
	up := jwksValidator(t, jwtauth.NewJWKS(p.srv.URL+"/jwks?p=up", opts...), clk)
	for range 3 {
		if _, err := down.Validate(context.Background(), validRS256(t)); !errors.Is(err, jwtauth.ErrKeysUnavailable) {
			t.Fatalf("failing document: got %v, want ErrKeysUnavailable", err)
		}
		clk.Advance(5 * time.Second)
	}
	if _, err := up.Validate(context.Background(), validRS256(t)); err != nil {
		t.Errorf("the healthy document, after another one's failures: %v", err)
	}
}
