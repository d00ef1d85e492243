package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/funcify/funcify/jwtauth"
)

// BenchmarkBearer compares the full bearer check of funcify's jwtauth
// (header extraction, strict parsing, signature, claims) with golang-jwt
// used raw on the same token and key, keys cached in both.
func BenchmarkBearer(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	const iss, aud = "https://idp.example.com/", "api://orders"
	for _, c := range []struct {
		alg    string
		method jwt.SigningMethod
		priv   crypto.Signer
	}{
		{"RS256", jwt.SigningMethodRS256, rsaKey},
		{"ES256", jwt.SigningMethodES256, ecKey},
	} {
		tok := jwt.NewWithClaims(c.method, jwt.MapClaims{
			"iss": iss, "aud": aud, "sub": "user-42", "scope": "orders:order:read",
			"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
		})
		tok.Header["kid"] = "k1"
		signed, err := tok.SignedString(c.priv)
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/orders", nil)
		req.Header.Set("Authorization", "Bearer "+signed)
		pub := c.priv.Public()

		b.Run("golangjwt/"+c.alg, func(b *testing.B) {
			parser := jwt.NewParser(jwt.WithValidMethods([]string{c.alg}), jwt.WithIssuer(iss),
				jwt.WithAudience(aud), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
			keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
			b.ReportAllocs()
			for b.Loop() {
				raw, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
				if !ok {
					b.Fatal("no token")
				}
				if _, err := parser.Parse(raw, keyFunc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("funcify/"+c.alg, func(b *testing.B) {
			keys, err := jwtauth.StaticKeys(map[string]crypto.PublicKey{"k1": pub})
			if err != nil {
				b.Fatal(err)
			}
			v, err := jwtauth.New(jwtauth.Config{Keys: keys, Issuer: iss, Audience: []string{aud}, Algorithms: []string{c.alg}})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				raw, err := jwtauth.BearerToken(req)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Validate(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
