package jwtauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/store/memstore"
)

// TestRealProvider validates access tokens issued by a real OpenID provider
// (npm oidc-provider, client-credentials grant, RS256 JWT access tokens),
// with keys found by OIDC discovery.
func TestRealProvider(t *testing.T) {
	idp := testenv.StartOIDC(t)
	shared := memstore.New()
	v, err := jwtauth.New(jwtauth.Config{
		Keys:     jwtauth.NewOIDC(idp.Issuer, jwtauth.WithStore(shared)),
		Issuer:   idp.Issuer,
		Audience: []string{idp.Audience},
		Type:     "at+jwt",
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := idp.Token(t, "orders:order:read")
	tok, err := v.Validate(context.Background(), raw)
	if err != nil {
		t.Fatalf("a token from the provider: %v", err)
	}
	if tok.Issuer != idp.Issuer || tok.Subject != idp.ClientID || tok.Algorithm != "RS256" || tok.Claims["scope"] != "orders:order:read" {
		t.Errorf("got %+v", tok)
	}

	// Another provider's token, for the same audience, is refused.
	other := testenv.StartOIDC(t)
	if _, err := v.Validate(context.Background(), other.Token(t)); err == nil {
		t.Error("a token from another provider was accepted")
	}

	// A wrong issuer in the configuration fails discovery.
	bad, err := jwtauth.New(jwtauth.Config{Keys: jwtauth.NewOIDC(idp.Issuer + "/nope"), Issuer: idp.Issuer, Audience: []string{idp.Audience}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Validate(context.Background(), raw); err == nil {
		t.Error("validated with keys from a failed discovery")
	}

	// A fresh source on the same store validates while the provider is down.
	idp.Stop()
	fresh, err := jwtauth.New(jwtauth.Config{
		Keys:   jwtauth.NewOIDC(idp.Issuer, jwtauth.WithStore(shared)),
		Issuer: idp.Issuer, Audience: []string{idp.Audience},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Validate(context.Background(), raw); err != nil {
		t.Errorf("persisted keys, provider down: %v", err)
	}
	if _, err := fresh.Validate(context.Background(), "x.y.z"); !errors.Is(err, jwtauth.ErrMalformed) {
		t.Errorf("got %v", err)
	}
}
