package jwtauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/store/memstore"
)

// issue returns a token signed by key, as an identity provider would.
func issue(key crypto.Signer, kid string, exp time.Time) string {
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": "https://idp.example.com/", "aud": "api://orders", "sub": "user-42", "exp": exp.Unix(),
	})
	t.Header["kid"] = kid
	s, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return s
}

func ExampleValidator_Validate() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys, err := jwtauth.StaticKeys(map[string]crypto.PublicKey{"2026-01": key.Public()})
	if err != nil {
		panic(err)
	}
	v, err := jwtauth.New(jwtauth.Config{
		Keys:     keys,
		Issuer:   "https://idp.example.com/",
		Audience: []string{"api://orders"},
	})
	if err != nil {
		panic(err)
	}

	tok, err := v.Validate(context.Background(), issue(key, "2026-01", time.Now().Add(time.Hour)))
	fmt.Println(tok.Subject, err)

	_, err = v.Validate(context.Background(), issue(key, "2026-01", time.Now().Add(-time.Hour)))
	fmt.Println(errors.Is(err, jwtauth.ErrExpired))
	// Output:
	// user-42 <nil>
	// true
}

func ExampleMiddleware() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys, _ := jwtauth.StaticKeys(map[string]crypto.PublicKey{"k1": key.Public()})
	v, _ := jwtauth.New(jwtauth.Config{Keys: keys, Issuer: "https://idp.example.com/", Audience: []string{"api://orders"}})

	h := jwtauth.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtauth.TokenFromContext(r.Context())
		fmt.Fprint(w, "hello ", tok.Subject)
	}))

	for _, auth := range []string{"", "Bearer not.a.token", "Bearer " + issue(key, "k1", time.Now().Add(time.Hour))} {
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
	}
	// Output:
	// 401 Bearer {"error":"authentication required","code":401,"step":"authenticate","ctx":{}}
	// 401 Bearer error="invalid_token" {"error":"invalid token","code":401,"step":"authenticate","ctx":{}}
	// 200  hello user-42
}

func ExampleBearerToken() {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl")
	tok, err := jwtauth.BearerToken(r)
	fmt.Println(tok, err)
	// Output: eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl <nil>
}

func ExampleNewJWKS() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(jwksJSON("k1", &key.PublicKey))
	}))
	defer idp.Close()

	v, _ := jwtauth.New(jwtauth.Config{
		Keys:   jwtauth.NewJWKS(idp.URL, jwtauth.WithRefreshInterval(time.Minute)),
		Issuer: "https://idp.example.com/",
	})
	tok, err := v.Validate(context.Background(), issue(key, "k1", time.Now().Add(time.Hour)))
	fmt.Println(tok.Subject, err)
	// Output: user-42 <nil>
}

func ExampleWithSealKey() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var fetches atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Write(jwksJSON("k1", &key.PublicKey))
	}))
	defer idp.Close()

	// In a function: a store shared by every instance (Redis, DynamoDB),
	// and a seal key of 32 random bytes from a secret, the same for every
	// instance.
	shared := memstore.New()
	sealKey := make([]byte, 32)
	rand.Read(sealKey)

	// Two instances, one after the other: the second finds the sealed
	// keys in the store, checks their seal and does not fetch.
	for range 2 {
		v, _ := jwtauth.New(jwtauth.Config{
			Keys:   jwtauth.NewJWKS(idp.URL, jwtauth.WithStore(shared), jwtauth.WithSealKey(sealKey)),
			Issuer: "https://idp.example.com/",
		})
		tok, err := v.Validate(context.Background(), issue(key, "k1", time.Now().Add(time.Hour)))
		fmt.Println(tok.Subject, err)
	}
	fmt.Println("fetches:", fetches.Load())
	// Output:
	// user-42 <nil>
	// user-42 <nil>
	// fetches: 1
}
