package jwtauth_test

import (
	"context"
	"crypto"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/store/memstore"
)

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
		v := newClocked(t, jwtauth.Config{Keys: jwtauth.NewOIDC(issuer, jwtauth.WithStore(shared), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)),
			Issuer: issuer}, clk.Now)
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
