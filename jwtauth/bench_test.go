package jwtauth_test

import (
	"context"
	"crypto"
	"testing"

	"github.com/funcify/funcify/jwtauth"
)

// BenchmarkJWKSValidate is the hot path of a bearer check against fetched
// keys: the key set is cached, so a validation takes the source's lock once
// and never fetches.
func BenchmarkJWKSValidate(b *testing.B) {
	k := testKeys(b)
	p := newProvider(b, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	v := newClocked(b, jwtauth.Config{Keys: jwtauth.NewJWKS(p.srv.URL+"/jwks", jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)),
		Issuer: testIssuer, Audience: []string{testAudience}}, clk.Now)
	tok := validRS256(b)
	ctx := context.Background()
	if _, err := v.Validate(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	if got := p.jwksHits.Load(); got != 1 {
		b.Errorf("got %d fetches, want 1", got)
	}
}
