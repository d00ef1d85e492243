package jwtauth_test

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/jwtauth"
)

func TestValidTokens(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	all := func(c *jwtauth.Config) {
		c.Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	}
	body := claims(nil)
	tests := []struct {
		name  string
		token string
		cfg   func(*jwtauth.Config)
	}{
		{"RS256", sign(t, hdr("RS256", "rsa"), body, "RS256", k.rsa), nil},
		{"RS256 second key", sign(t, hdr("RS256", "rsa2"), body, "RS256", k.rsa2), nil},
		{"ES256", sign(t, hdr("ES256", "ec"), body, "ES256", k.ec), nil},
		{"EdDSA", sign(t, hdr("EdDSA", "ed"), body, "EdDSA", k.ed), nil},
		{"RS384", sign(t, hdr("RS384", "rsa"), body, "RS384", k.rsa), all},
		{"RS512", sign(t, hdr("RS512", "rsa"), body, "RS512", k.rsa), all},
		{"PS256", sign(t, hdr("PS256", "rsa"), body, "PS256", k.rsa), all},
		{"PS384", sign(t, hdr("PS384", "rsa"), body, "PS384", k.rsa), all},
		{"PS512", sign(t, hdr("PS512", "rsa"), body, "PS512", k.rsa), all},
		{"ES384", sign(t, hdr("ES384", "p384"), body, "ES384", k.ec384), all},
		{"ES512", sign(t, hdr("ES512", "p521"), body, "ES512", k.ec521), all},
		{"aud array with ours", sign(t, hdr("RS256", "rsa"), claims(map[string]any{"aud": []string{"x", testAudience}}), "RS256", k.rsa), nil},
		{"no nbf, no iat", sign(t, hdr("RS256", "rsa"), claims(map[string]any{"nbf": nil, "iat": nil}), "RS256", k.rsa), nil},
		{"exp fractional", sign(t, hdr("RS256", "rsa"), claims(map[string]any{"exp": raw("1750003600.25")}), "RS256", k.rsa), nil},
		{"exp passed within leeway", sign(t, hdr("RS256", "rsa"), claims(map[string]any{"exp": now.Add(-10 * time.Second).Unix()}), "RS256", k.rsa), nil},
		{"iat ahead within leeway", sign(t, hdr("RS256", "rsa"), claims(map[string]any{"iat": now.Add(20 * time.Second).Unix()}), "RS256", k.rsa), nil},
		{"nbf ahead within leeway", sign(t, hdr("RS256", "rsa"), claims(map[string]any{"nbf": now.Add(20 * time.Second).Unix()}), "RS256", k.rsa), nil},
		{"no typ", sign(t, `{"alg":"RS256","kid":"rsa"}`, body, "RS256", k.rsa), nil},
		{"whitespace in JSON", sign(t, "{ \"alg\" : \"RS256\",\n \"kid\":\"rsa\" }", " "+body+"\n", "RS256", k.rsa), nil},
		{"escaped claim name", sign(t, hdr("RS256", "rsa"), strings.Replace(body, `{`, `{"n\u0061me":"x\/y",`, 1), "RS256", k.rsa), nil},
		{"x5t header ignored", sign(t, `{"alg":"RS256","kid":"rsa","x5t":"abc"}`, body, "RS256", k.rsa), nil},
		{"typ at+jwt required", sign(t, `{"alg":"RS256","kid":"rsa","typ":"at+jwt"}`, body, "RS256", k.rsa),
			func(c *jwtauth.Config) { c.Type = "at+jwt" }},
		{"typ application/AT+JWT", sign(t, `{"alg":"RS256","kid":"rsa","typ":"application/AT+JWT"}`, body, "RS256", k.rsa),
			func(c *jwtauth.Config) { c.Type = "at+jwt" }},
		{"no issuer or audience configured", sign(t, hdr("RS256", "rsa"), claims(map[string]any{"iss": nil, "aud": nil}), "RS256", k.rsa),
			func(c *jwtauth.Config) { c.Issuer, c.Audience = "", nil }},
		{"one of several audiences", sign(t, hdr("RS256", "rsa"), claims(map[string]any{"aud": "b"}), "RS256", k.rsa),
			func(c *jwtauth.Config) { c.Audience = []string{"a", "b"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newValidator(t, tt.cfg)
			tok, err := v.Validate(context.Background(), tt.token)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tok.Subject != "user-1" || tok.Raw != tt.token || tok.ExpiresAt.IsZero() || tok.Algorithm == "" {
				t.Errorf("got token %+v", tok)
			}
		})
	}
}

func TestTokenFields(t *testing.T) {
	t.Parallel()
	v := newValidator(t, nil)
	tok, err := v.Validate(context.Background(), validRS256(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Issuer != testIssuer || tok.Subject != "user-1" || tok.KeyID != "rsa" || tok.Algorithm != "RS256" {
		t.Errorf("got iss %q sub %q kid %q alg %q", tok.Issuer, tok.Subject, tok.KeyID, tok.Algorithm)
	}
	if len(tok.Audience) != 1 || tok.Audience[0] != testAudience {
		t.Errorf("got aud %v, want [%s]", tok.Audience, testAudience)
	}
	if !tok.ExpiresAt.Equal(now.Add(time.Hour)) || !tok.IssuedAt.Equal(now.Add(-time.Minute)) || !tok.NotBefore.Equal(now.Add(-time.Minute)) {
		t.Errorf("got exp %v iat %v nbf %v", tok.ExpiresAt, tok.IssuedAt, tok.NotBefore)
	}
	if tok.Header["typ"] != "JWT" || tok.Claims["sub"] != "user-1" {
		t.Errorf("got header %v claims %v", tok.Header, tok.Claims)
	}
}

func TestNewRefusesUnsafeConfig(t *testing.T) {
	t.Parallel()
	set, err := jwtauth.StaticKeys(testKeys(t).keySet())
	if err != nil {
		t.Fatal(err)
	}
	for _, algs := range [][]string{{"none"}, {"HS256"}, {"HS384"}, {"HS512"}, {"RS256", "none"}, {"rs256"}, {"ES256K"}} {
		if _, err := jwtauth.New(jwtauth.Config{Keys: set, Algorithms: algs}); !errors.Is(err, jwtauth.ErrAlgorithm) {
			t.Errorf("New with algorithms %v: got error %v, want ErrAlgorithm", algs, err)
		}
	}
	if _, err := jwtauth.New(jwtauth.Config{}); err == nil {
		t.Error("New without Keys: got no error")
	}
}

func TestMaxSize(t *testing.T) {
	t.Parallel()
	tok := validRS256(t)
	v := newValidator(t, func(c *jwtauth.Config) { c.MaxSize = len(tok) })
	if _, err := v.Validate(context.Background(), tok); err != nil {
		t.Errorf("token of MaxSize: %v", err)
	}
	v = newValidator(t, func(c *jwtauth.Config) { c.MaxSize = len(tok) - 1 })
	if _, err := v.Validate(context.Background(), tok); !errors.Is(err, jwtauth.ErrTooLarge) {
		t.Errorf("token over MaxSize: got %v, want ErrTooLarge", err)
	}
}

func TestKeyWithoutKid(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	one, err := jwtauth.StaticKeys(map[string]crypto.PublicKey{"only": &k.rsa.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	v := newClocked(t, jwtauth.Config{Keys: one}, clock)
	tok := sign(t, `{"alg":"RS256"}`, claims(nil), "RS256", k.rsa)
	if _, err := v.Validate(context.Background(), tok); err != nil {
		t.Errorf("one key, no kid: %v", err)
	}
	// With several keys that fit, a token without kid names none of them.
	if _, err := newValidator(t, nil).Validate(context.Background(), tok); !errors.Is(err, jwtauth.ErrUnknownKey) {
		t.Errorf("several keys, no kid: got %v, want ErrUnknownKey", err)
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	doc := jwksDoc(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey, "ec": &k.ec.PublicKey, "ed": k.ed.Public()})
	var parsed map[string][]map[string]any
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	skipped := []map[string]any{
		{"kty": "RSA", "kid": "small", "n": enc(k.rsa1024.N.Bytes()), "e": "AQAB"},
		{"kty": "RSA", "kid": "enc", "use": "enc", "n": enc(k.rsa.N.Bytes()), "e": "AQAB"},
		{"kty": "RSA", "kid": "ops", "key_ops": []string{"encrypt"}, "n": enc(k.rsa.N.Bytes()), "e": "AQAB"},
		{"kty": "RSA", "kid": "hs", "alg": "HS256", "n": enc(k.rsa.N.Bytes()), "e": "AQAB"},
		{"kty": "oct", "kid": "oct", "k": "c2VjcmV0"},
		{"kty": "EC", "kid": "off", "crv": "P-256", "x": enc(make([]byte, 32)), "y": enc(make([]byte, 32))},
		{"kty": "EC", "kid": "k1", "crv": "secp256k1", "x": enc(make([]byte, 32)), "y": enc(make([]byte, 32))},
		{"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": enc(make([]byte, 32))},
		{"kty": "RSA", "kid": "priv", "n": enc(k.rsa.N.Bytes()), "e": "AQAB", "d": "AQAB"},
		{"kty": "EC", "kid": "wrongalg", "alg": "ES384", "crv": "P-256", "x": enc(k.ec.X.Bytes()), "y": enc(k.ec.Y.Bytes())},
		{"kty": "XYZ", "kid": "unknown"},
	}
	parsed["keys"] = append(parsed["keys"], skipped...)
	doc, _ = json.Marshal(parsed)
	set, err := jwtauth.ParseJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 {
		t.Errorf("got %d keys, want 3", set.Len())
	}
	ctx := context.Background()
	for _, c := range []struct{ kid, alg string }{{"rsa", "RS256"}, {"ec", "ES256"}, {"ed", "EdDSA"}} {
		if _, err := set.Key(ctx, c.kid, c.alg); err != nil {
			t.Errorf("Key(%s, %s): %v", c.kid, c.alg, err)
		}
	}
	for _, c := range []struct{ kid, alg string }{{"rsa", "ES256"}, {"rsa", "PS256"}, {"ec", "ES384"}, {"small", "RS256"}, {"oct", "HS256"}, {"wrongalg", "ES256"}} {
		if _, err := set.Key(ctx, c.kid, c.alg); !errors.Is(err, jwtauth.ErrUnknownKey) {
			t.Errorf("Key(%s, %s): got %v, want ErrUnknownKey", c.kid, c.alg, err)
		}
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"keys":{}}`, `null`} {
		if _, err := jwtauth.ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("ParseJWKS(%q): got no error", bad)
		}
	}
}
