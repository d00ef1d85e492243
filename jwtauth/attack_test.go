package jwtauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/jwtauth"
)

type attack struct {
	name  string
	token string
	want  error                 // the error the token must fail with
	cfg   func(*jwtauth.Config) // a validator other than the default, if set
}

// oneKey is a KeySource that returns the same key for any kid, as a
// careless custom source would.
type oneKey struct{ key crypto.PublicKey }

func (s oneKey) Key(context.Context, string, string) (crypto.PublicKey, error) { return s.key, nil }

func attacks(t *testing.T) []attack {
	k := testKeys(t)
	valid := validRS256(t)
	parts := strings.Split(valid, ".")
	h64, p64, s64 := parts[0], parts[1], parts[2]
	body := claims(nil)

	var out []attack
	add := func(name, token string, want error) {
		out = append(out, attack{name: name, token: token, want: want})
	}
	withCfg := func(name, token string, want error, cfg func(*jwtauth.Config)) {
		out = append(out, attack{name: name, token: token, want: want, cfg: cfg})
	}
	// unsigned builds header.payload.sig from raw JSON and a raw signature.
	unsigned := func(header, payload string, sig []byte) string {
		return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc(sig)
	}

	// alg none, every spelling, with and without a signature.
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		add("alg "+none+" no signature", enc([]byte(`{"alg":"`+none+`","typ":"JWT"}`))+"."+enc([]byte(body))+".", jwtauth.ErrMalformed)
		add("alg "+none+" with signature", unsigned(`{"alg":"`+none+`","typ":"JWT"}`, body, []byte("signature")), jwtauth.ErrAlgorithm)
	}
	add("alg none with kid and RS256 signature", enc([]byte(`{"alg":"none","kid":"rsa"}`))+"."+p64+"."+s64, jwtauth.ErrAlgorithm)

	// RS256 -> HS256 key confusion: the public key as the HMAC secret.
	der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	add("HS256 with public key PEM as secret", sign(t, hdr("HS256", "rsa"), body, "HS256", pemKey), jwtauth.ErrAlgorithm)
	add("HS256 with public key DER as secret", sign(t, hdr("HS256", "rsa"), body, "HS256", der), jwtauth.ErrAlgorithm)
	add("HS384 with modulus as secret", sign(t, hdr("HS384", "rsa"), body, "HS384", k.rsa.N.Bytes()), jwtauth.ErrAlgorithm)
	add("HS512 with public key PEM, no kid", sign(t, `{"alg":"HS512"}`, body, "HS512", pemKey), jwtauth.ErrAlgorithm)

	// ECDSA signatures out of range (CVE-2022-21449).
	esHeader := hdr("ES256", "ec")
	add("ES256 r=s=0", unsigned(esHeader, body, make([]byte, 64)), jwtauth.ErrSignature)
	n := elliptic.P256().Params().N
	nb := n.FillBytes(make([]byte, 32))
	add("ES256 r=s=n", unsigned(esHeader, body, append(append([]byte{}, nb...), nb...)), jwtauth.ErrSignature)
	one := big.NewInt(1).FillBytes(make([]byte, 32))
	add("ES256 r=0 s=1", unsigned(esHeader, body, append(make([]byte, 32), one...)), jwtauth.ErrSignature)
	add("ES256 r=1 s=0", unsigned(esHeader, body, append(append([]byte{}, one...), make([]byte, 32)...)), jwtauth.ErrSignature)
	add("ES256 all ones", unsigned(esHeader, body, []byte(strings.Repeat("\xff", 64))), jwtauth.ErrSignature)
	add("ES256 single zero byte", unsigned(esHeader, body, []byte{0}), jwtauth.ErrSignature)
	goodES := sign(t, esHeader, body, "ES256", k.ec)
	esSig, _ := base64.RawURLEncoding.DecodeString(goodES[strings.LastIndexByte(goodES, '.')+1:])
	add("ES256 signature one byte short", goodES[:strings.LastIndexByte(goodES, '.')+1]+enc(esSig[:63]), jwtauth.ErrSignature)
	hash := sha256.Sum256([]byte(goodES[:strings.LastIndexByte(goodES, '.')]))
	asn1Sig, err := ecdsa.SignASN1(nil, k.ec, hash[:])
	if err != nil {
		t.Fatal(err)
	}
	add("ES256 signature in ASN.1 DER", goodES[:strings.LastIndexByte(goodES, '.')+1]+enc(asn1Sig), jwtauth.ErrSignature)

	// Headers that carry or point at a key.
	attJWK, _ := json.Marshal(map[string]string{"kty": "RSA", "n": enc(k.attackerRSA.N.Bytes()), "e": "AQAB"})
	add("embedded jwk, no kid", sign(t, `{"alg":"RS256","jwk":`+string(attJWK)+`}`, body, "RS256", k.attackerRSA), jwtauth.ErrHeader)
	add("embedded jwk with our kid", sign(t, `{"alg":"RS256","kid":"rsa","jwk":`+string(attJWK)+`}`, body, "RS256", k.attackerRSA), jwtauth.ErrHeader)
	add("jku to attacker", sign(t, `{"alg":"RS256","kid":"rsa","jku":"https://attacker.example/jwks.json"}`, body, "RS256", k.attackerRSA), jwtauth.ErrHeader)
	add("x5u to attacker", sign(t, `{"alg":"RS256","kid":"rsa","x5u":"https://attacker.example/cert.pem"}`, body, "RS256", k.attackerRSA), jwtauth.ErrHeader)
	add("x5c attacker cert", sign(t, `{"alg":"RS256","x5c":["`+base64.StdEncoding.EncodeToString(der)+`"]}`, body, "RS256", k.attackerRSA), jwtauth.ErrHeader)
	add("jku on a validly signed token", sign(t, `{"alg":"RS256","kid":"rsa","jku":"https://issuer.example/jwks"}`, body, "RS256", k.rsa), jwtauth.ErrHeader)

	// kid is only a key id.
	for _, kid := range []string{"../../dev/null", "' OR 1=1 --", "/etc/passwd", `C:\Windows\win.ini`, "rsa\x00", "RSA", " rsa", "rsa/../rsa", "|cat /etc/passwd"} {
		add("kid "+fmt.Sprintf("%q", kid), sign(t, hdr("RS256", kid), body, "RS256", k.attackerRSA), jwtauth.ErrUnknownKey)
	}
	add("kid number", sign(t, `{"alg":"RS256","kid":1}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("no kid signed by attacker", sign(t, `{"alg":"RS256"}`, body, "RS256", k.attackerRSA), jwtauth.ErrUnknownKey)

	// Registered claims.
	rs := func(payload string) string { return sign(t, hdr("RS256", "rsa"), payload, "RS256", k.rsa) }
	add("missing exp", rs(claims(map[string]any{"exp": nil})), jwtauth.ErrExpired)
	add("exp as string", rs(claims(map[string]any{"exp": "9999999999"})), jwtauth.ErrMalformed)
	add("exp as float string", rs(claims(map[string]any{"exp": "9999999999.5"})), jwtauth.ErrMalformed)
	add("exp null", rs(claims(map[string]any{"exp": raw("null")})), jwtauth.ErrMalformed)
	add("exp true", rs(claims(map[string]any{"exp": true})), jwtauth.ErrMalformed)
	add("exp array", rs(claims(map[string]any{"exp": []int{9999999999}})), jwtauth.ErrMalformed)
	add("exp 1e400", rs(claims(map[string]any{"exp": raw("1e400")})), jwtauth.ErrMalformed)
	add("exp leading zero", rs(claims(map[string]any{"exp": raw("09999999999")})), jwtauth.ErrMalformed)
	add("exp passed", rs(claims(map[string]any{"exp": now.Add(-time.Minute).Unix()})), jwtauth.ErrExpired)
	add("exp just past the leeway", rs(claims(map[string]any{"exp": now.Add(-30 * time.Second).Unix()})), jwtauth.ErrExpired)
	withCfg("exp at now, no leeway", rs(claims(map[string]any{"exp": now.Unix()})), jwtauth.ErrExpired,
		func(c *jwtauth.Config) { c.Leeway = -1 })
	add("iat in the future", rs(claims(map[string]any{"iat": now.Add(5 * time.Minute).Unix()})), jwtauth.ErrIssuedInFuture)
	add("iat as string", rs(claims(map[string]any{"iat": "1"})), jwtauth.ErrMalformed)
	add("nbf in the future", rs(claims(map[string]any{"nbf": now.Add(5 * time.Minute).Unix()})), jwtauth.ErrNotYetValid)
	add("nbf as string", rs(claims(map[string]any{"nbf": "0"})), jwtauth.ErrMalformed)
	add("wrong iss", rs(claims(map[string]any{"iss": "https://attacker.example"})), jwtauth.ErrIssuer)
	add("iss with trailing slash", rs(claims(map[string]any{"iss": testIssuer + "/"})), jwtauth.ErrIssuer)
	add("no iss", rs(claims(map[string]any{"iss": nil})), jwtauth.ErrIssuer)
	add("iss array", rs(claims(map[string]any{"iss": []string{testIssuer}})), jwtauth.ErrMalformed)
	add("sub number", rs(claims(map[string]any{"sub": 42})), jwtauth.ErrMalformed)
	add("wrong aud", rs(claims(map[string]any{"aud": "api://other"})), jwtauth.ErrAudience)
	add("aud array without ours", rs(claims(map[string]any{"aud": []string{"api://a", "api://b"}})), jwtauth.ErrAudience)
	add("aud empty array", rs(claims(map[string]any{"aud": []string{}})), jwtauth.ErrAudience)
	add("no aud", rs(claims(map[string]any{"aud": nil})), jwtauth.ErrAudience)
	add("aud number", rs(claims(map[string]any{"aud": 1})), jwtauth.ErrMalformed)
	add("aud array with a number", rs(claims(map[string]any{"aud": []any{testAudience, 1}})), jwtauth.ErrMalformed)
	add("aud object", rs(claims(map[string]any{"aud": map[string]string{"x": testAudience}})), jwtauth.ErrMalformed)

	// Header parameters.
	add("crit exp", sign(t, `{"alg":"RS256","kid":"rsa","crit":["exp"],"exp":1}`, body, "RS256", k.rsa), jwtauth.ErrCritical)
	add("crit empty", sign(t, `{"alg":"RS256","kid":"rsa","crit":[]}`, body, "RS256", k.rsa), jwtauth.ErrCritical)
	add("crit b64 false", sign(t, `{"alg":"RS256","kid":"rsa","b64":false,"crit":["b64"]}`, body, "RS256", k.rsa), jwtauth.ErrCritical)
	add("nested JWT cty JWT", sign(t, `{"alg":"RS256","kid":"rsa","cty":"JWT"}`, body, "RS256", k.rsa), jwtauth.ErrType)
	add("nested JWT cty application/jwt", sign(t, `{"alg":"RS256","kid":"rsa","cty":"application/jwt"}`, body, "RS256", k.rsa), jwtauth.ErrType)
	add("JWE enc header", sign(t, `{"alg":"RS256","kid":"rsa","enc":"A256GCM"}`, body, "RS256", k.rsa), jwtauth.ErrHeader)
	withCfg("typ JWT when at+jwt required", valid, jwtauth.ErrType, func(c *jwtauth.Config) { c.Type = "at+jwt" })
	withCfg("no typ when at+jwt required", sign(t, `{"alg":"RS256","kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrType,
		func(c *jwtauth.Config) { c.Type = "at+jwt" })
	add("typ number", sign(t, `{"alg":"RS256","kid":"rsa","typ":1}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)

	// Strict JSON.
	add("duplicate exp claim", rs(strings.Replace(body, `{`, `{"exp":9999999999,`, 1)), jwtauth.ErrMalformed)
	add("duplicate sub claim", rs(strings.Replace(body, `{`, `{"sub":"admin",`, 1)), jwtauth.ErrMalformed)
	add("duplicate claim via escape", rs(strings.Replace(body, `{`, `{"\u0073ub":"admin",`, 1)), jwtauth.ErrMalformed)
	add("duplicate nested member", rs(strings.Replace(body, `{`, `{"x":{"a":1,"a":2},`, 1)), jwtauth.ErrMalformed)
	add("duplicate alg header", sign(t, `{"alg":"none","alg":"RS256","kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("duplicate kid header", sign(t, `{"alg":"RS256","kid":"attacker","kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("header is an array", sign(t, `["RS256"]`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("header is a string", sign(t, `"RS256"`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("header not JSON", sign(t, `{alg:RS256}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("header with trailing comma", sign(t, `{"alg":"RS256","kid":"rsa",}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("header with BOM", sign(t, "\ufeff"+hdr("RS256", "rsa"), body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("payload is an array", rs(`[`+body+`]`), jwtauth.ErrMalformed)
	add("payload is null", rs(`null`), jwtauth.ErrMalformed)
	add("payload is a number", rs(`1`), jwtauth.ErrMalformed)
	add("payload truncated", rs(body[:len(body)-1]), jwtauth.ErrMalformed)
	add("payload with trailing data", rs(body+`x`), jwtauth.ErrMalformed)
	add("payload two objects", rs(body+`{}`), jwtauth.ErrMalformed)
	add("payload with comment", rs(strings.Replace(body, `{`, `{/*c*/`, 1)), jwtauth.ErrMalformed)
	add("payload invalid UTF-8", rs(strings.Replace(body, `{`, "{\"name\":\"\xff\",", 1)), jwtauth.ErrMalformed)
	add("payload lone surrogate", rs(strings.Replace(body, `{`, `{"name":"\ud800",`, 1)), jwtauth.ErrMalformed)
	add("payload nested too deep", rs(strings.Replace(body, `{`, `{"x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`,`, 1)), jwtauth.ErrMalformed)
	add("alg with unicode escape", sign(t, `{"alg":"\u0052S256","kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrAlgorithm)
	add("alg none via unicode escape", unsigned(`{"alg":"\u006eone"}`, body, []byte("x")), jwtauth.ErrAlgorithm)
	add("alg with NUL", sign(t, `{"alg":"RS256\u0000","kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrAlgorithm)
	add("alg with space", sign(t, `{"alg":" RS256","kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrAlgorithm)
	add("alg lower case", sign(t, `{"alg":"rs256","kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrAlgorithm)
	add("alg missing", sign(t, `{"kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("alg number", sign(t, `{"alg":256,"kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)
	add("alg array", sign(t, `{"alg":["RS256"],"kid":"rsa"}`, body, "RS256", k.rsa), jwtauth.ErrMalformed)

	// Base64url and framing.
	flip := func(s string) string { // change the last character's unused low bits
		last := s[len(s)-1]
		i := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last)
		return s[:len(s)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i^1])
	}
	add("signature with non-canonical trailing bits", h64+"."+p64+"."+flip(s64), jwtauth.ErrMalformed)
	if len(h64)%4 != 0 {
		add("header with non-canonical trailing bits", flip(h64)+"."+p64+"."+s64, jwtauth.ErrMalformed)
		add("header with padding", h64+strings.Repeat("=", 4-len(h64)%4)+"."+p64+"."+s64, jwtauth.ErrMalformed)
	}
	add("signature with padding", h64+"."+p64+"."+s64+"==", jwtauth.ErrMalformed)
	std := strings.NewReplacer("-", "+", "_", "/").Replace(s64)
	if std == s64 {
		t.Fatal("signature has neither - nor _; run again")
	}
	add("signature in standard alphabet", h64+"."+p64+"."+std, jwtauth.ErrMalformed)
	add("header in standard base64 with padding", base64.StdEncoding.EncodeToString([]byte(hdr("RS256", "rsa")+" "))+"."+p64+"."+s64, jwtauth.ErrMalformed)
	add("space inside", h64+"."+p64[:10]+" "+p64[10:]+"."+s64, jwtauth.ErrMalformed)
	add("newline at end", valid+"\n", jwtauth.ErrMalformed)
	add("leading space", " "+valid, jwtauth.ErrMalformed)
	add("tab before signature", h64+"."+p64+".\t"+s64, jwtauth.ErrMalformed)
	add("CRLF inside", h64+"\r\n."+p64+"."+s64, jwtauth.ErrMalformed)
	big := sign(t, hdr("RS256", "rsa"), claims(map[string]any{"pad": strings.Repeat("a", jwtauth.DefaultMaxSize)}), "RS256", k.rsa)
	add("oversized token", big, jwtauth.ErrTooLarge)
	add("dot flood within size", strings.Repeat(".", 10_000), jwtauth.ErrMalformed)
	add("dot flood after a valid token", valid+strings.Repeat(".", 1000), jwtauth.ErrMalformed)
	add("dot flood 10 MB", strings.Repeat(".", 10<<20), jwtauth.ErrTooLarge)
	add("four segments", valid+"."+s64, jwtauth.ErrMalformed)
	add("five segments (JWE shape)", h64+"."+p64+"."+s64+"."+s64+"."+s64, jwtauth.ErrMalformed)
	add("two segments", h64+"."+p64, jwtauth.ErrMalformed)
	add("one segment", h64, jwtauth.ErrMalformed)
	add("empty token", "", jwtauth.ErrMalformed)
	add("only dots", "..", jwtauth.ErrMalformed)
	add("empty header", "."+p64+"."+s64, jwtauth.ErrMalformed)
	add("empty payload", h64+".."+s64, jwtauth.ErrMalformed)
	add("empty signature", h64+"."+p64+".", jwtauth.ErrMalformed)

	// Signatures.
	sig, _ := base64.RawURLEncoding.DecodeString(s64)
	add("truncated signature", h64+"."+p64+"."+enc(sig[:len(sig)-1]), jwtauth.ErrSignature)
	add("signature cut in half", h64+"."+p64+"."+enc(sig[:len(sig)/2]), jwtauth.ErrSignature)
	add("signature with a byte appended", h64+"."+p64+"."+enc(append(append([]byte{}, sig...), 0)), jwtauth.ErrSignature)
	sig[len(sig)/2] ^= 1
	add("signature one bit flipped", h64+"."+p64+"."+enc(sig), jwtauth.ErrSignature)
	add("re-signed with another key", sign(t, hdr("RS256", "rsa"), body, "RS256", k.attackerRSA), jwtauth.ErrSignature)
	add("signed by our other key", sign(t, hdr("RS256", "rsa"), body, "RS256", k.rsa2), jwtauth.ErrSignature)
	other := sign(t, hdr("RS256", "rsa"), claims(map[string]any{"sub": "admin"}), "RS256", k.rsa)
	add("signature of another token", h64+"."+strings.Split(other, ".")[1]+"."+s64, jwtauth.ErrSignature)
	longer := enc([]byte(claims(map[string]any{"exp": now.Add(1000 * time.Hour).Unix()})))
	add("exp extended, old signature", h64+"."+longer+"."+s64, jwtauth.ErrSignature)
	add("RS256 header swapped to RS512", enc([]byte(hdr("RS512", "rsa")))+"."+p64+"."+s64, jwtauth.ErrAlgorithm)
	add("PS256 signature under RS256", sign(t, hdr("RS256", "rsa"), body, "PS256", k.rsa), jwtauth.ErrSignature)

	// Keys of the wrong type, curve or size.
	add("RS256 with the EC key's kid", sign(t, hdr("RS256", "ec"), body, "RS256", k.attackerRSA), jwtauth.ErrUnknownKey)
	add("ES256 with the RSA key's kid", sign(t, hdr("ES256", "rsa"), body, "ES256", k.attackerEC), jwtauth.ErrUnknownKey)
	add("EdDSA with the RSA key's kid", sign(t, hdr("EdDSA", "rsa"), body, "EdDSA", k.attackerEd), jwtauth.ErrUnknownKey)
	add("ES256 with the P-384 key's kid", unsigned(hdr("ES256", "p384"), body, make([]byte, 64)), jwtauth.ErrUnknownKey)
	add("EdDSA signed by attacker with our kid", sign(t, hdr("EdDSA", "ed"), body, "EdDSA", k.attackerEd), jwtauth.ErrSignature)
	add("ES256 signed by attacker with our kid", sign(t, hdr("ES256", "ec"), body, "ES256", k.attackerEC), jwtauth.ErrSignature)
	withCfg("RSA 1024-bit key from a custom source", sign(t, hdr("RS256", "weak"), body, "RS256", k.rsa1024), jwtauth.ErrInvalidKey,
		func(c *jwtauth.Config) { c.Keys = oneKey{&k.rsa1024.PublicKey} })
	withCfg("EC key for RS256 from a custom source", sign(t, hdr("RS256", "x"), body, "RS256", k.rsa), jwtauth.ErrUnknownKey,
		func(c *jwtauth.Config) { c.Keys = oneKey{&k.ec.PublicKey} })
	withCfg("P-384 key for ES256 from a custom source", sign(t, hdr("ES256", "x"), body, "ES256", k.ec), jwtauth.ErrUnknownKey,
		func(c *jwtauth.Config) { c.Keys = oneKey{&k.ec384.PublicKey} })
	withCfg("RSA private key from a custom source", valid, jwtauth.ErrUnknownKey,
		func(c *jwtauth.Config) { c.Keys = oneKey{k.rsa} })
	withCfg("HMAC secret from a custom source", valid, jwtauth.ErrUnknownKey,
		func(c *jwtauth.Config) { c.Keys = oneKey{[]byte("secret")} })

	// Algorithms outside the allow list.
	onlyRS256 := func(c *jwtauth.Config) { c.Algorithms = []string{"RS256"} }
	withCfg("RS512 when only RS256 allowed", sign(t, hdr("RS512", "rsa"), body, "RS512", k.rsa), jwtauth.ErrAlgorithm, onlyRS256)
	withCfg("ES256 when only RS256 allowed", sign(t, hdr("ES256", "ec"), body, "ES256", k.ec), jwtauth.ErrAlgorithm, onlyRS256)
	add("PS256 not allowed by default", sign(t, hdr("PS256", "rsa"), body, "PS256", k.rsa), jwtauth.ErrAlgorithm)
	add("ES384 not allowed by default", sign(t, hdr("ES384", "p384"), body, "ES384", k.ec384), jwtauth.ErrAlgorithm)
	add("ES512 not allowed by default", sign(t, hdr("ES512", "p521"), body, "ES512", k.ec521), jwtauth.ErrAlgorithm)
	add("HS256 empty secret", sign(t, hdr("HS256", "rsa"), body, "HS256", []byte{}), jwtauth.ErrAlgorithm)
	add("unknown alg", unsigned(`{"alg":"XS256","kid":"rsa"}`, body, []byte("x")), jwtauth.ErrAlgorithm)
	return out
}

func TestAttackCorpus(t *testing.T) {
	t.Parallel()
	cases := attacks(t)
	if len(cases) < 60 {
		t.Fatalf("corpus has %d cases, want at least 60", len(cases))
	}
	seen := map[string]bool{}
	def := newValidator(t, nil)
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			v := def
			if c.cfg != nil {
				v = newValidator(t, c.cfg)
			}
			tok, err := v.Validate(context.Background(), c.token)
			if err == nil {
				t.Fatalf("Validate accepted the token: claims %v", tok.Claims)
			}
			if tok != nil {
				t.Errorf("Validate returned a token with error %v", err)
			}
			if !errors.Is(err, c.want) {
				t.Errorf("got error %v, want %v", err, c.want)
			}
		})
	}
	t.Logf("%d attack tokens refused", len(cases))
}

// TestWeakKeysRefusedAtLoad checks that key sets refuse weak or unusable
// keys when they are built.
func TestWeakKeysRefusedAtLoad(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	for name, key := range map[string]crypto.PublicKey{
		"RSA 1024":        &k.rsa1024.PublicKey,
		"RSA exponent 1":  &rsa.PublicKey{N: k.rsa.N, E: 1},
		"P-224":           &ecdsa.PublicKey{Curve: elliptic.P224(), X: big.NewInt(1), Y: big.NewInt(1)},
		"HMAC secret":     []byte("secret"),
		"private RSA key": k.rsa,
		"Ed25519 short":   ed25519.PublicKey(make([]byte, 31)),
		"EC off curve":    &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)},
		"nil":             nil,
	} {
		if _, err := jwtauth.StaticKeys(map[string]crypto.PublicKey{"k": key}); !errors.Is(err, jwtauth.ErrInvalidKey) {
			t.Errorf("%s: got error %v, want ErrInvalidKey", name, err)
		}
	}
}
