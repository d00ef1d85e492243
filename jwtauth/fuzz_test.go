package jwtauth_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzValidate checks that Validate never panics and that whatever it
// accepts is a well-formed token: three canonical base64url parts, a header
// and claims that are JSON objects, a string alg and a numeric exp.
func FuzzValidate(f *testing.F) {
	k := testKeys(f)
	f.Add(validRS256(f))
	f.Add(sign(f, hdr("ES256", "ec"), claims(nil), "ES256", k.ec))
	f.Add(sign(f, hdr("EdDSA", "ed"), claims(nil), "EdDSA", k.ed))
	f.Add(sign(f, hdr("EdDSA", "ed"), claims(map[string]any{"aud": []string{"a", testAudience}, "x": map[string]any{"y": []any{1.5, "z", nil, true}}}), "EdDSA", k.ed))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	f.Add(strings.Repeat(".", 100))
	v := newValidator(f, nil)
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := v.Validate(context.Background(), token)
		if err != nil {
			if tok != nil {
				t.Fatalf("token and error %v", err)
			}
			return
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %d parts", len(parts))
		}
		for _, p := range parts {
			b, err := base64.RawURLEncoding.Strict().DecodeString(p)
			if err != nil || base64.RawURLEncoding.EncodeToString(b) != p {
				t.Fatalf("accepted non-canonical part %q", p)
			}
		}
		if _, ok := tok.Header["alg"].(string); !ok {
			t.Fatalf("accepted alg %v", tok.Header["alg"])
		}
		if _, ok := tok.Claims["exp"].(float64); !ok {
			t.Fatalf("accepted exp %v", tok.Claims["exp"])
		}
		if tok.Header["crit"] != nil || tok.Header["jku"] != nil || tok.Header["jwk"] != nil {
			t.Fatalf("accepted header %v", tok.Header)
		}
	})
}
