package jwtauth_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/store/memstore"
)

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
	b := newBreaker(breaker.Settings{Name: "idp", OpenFor: time.Hour, Window: time.Hour, Logger: quiet}, clk.Now)
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
