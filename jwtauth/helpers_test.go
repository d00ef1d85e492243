package jwtauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/funcify/funcify/jwtauth"
)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api://orders"
)

// now is the fixed time of the tests.
var now = time.Unix(1_750_000_000, 0)

func clock() time.Time { return now }

type keys struct {
	rsa, rsa2, attackerRSA, rsa1024 *rsa.PrivateKey
	ec, ec384, ec521, attackerEC    *ecdsa.PrivateKey
	ed, attackerEd                  ed25519.PrivateKey
}

var (
	fixtureOnce sync.Once
	fixture     keys
)

func testKeys(t testing.TB) *keys {
	t.Helper()
	fixtureOnce.Do(func() {
		rk := func(bits int) *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			return k
		}
		ek := func(c elliptic.Curve) *ecdsa.PrivateKey {
			k, err := ecdsa.GenerateKey(c, rand.Reader)
			if err != nil {
				panic(err)
			}
			return k
		}
		edk := func() ed25519.PrivateKey {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				panic(err)
			}
			return k
		}
		fixture = keys{
			rsa: rk(2048), rsa2: rk(2048), attackerRSA: rk(2048), rsa1024: rk(1024),
			ec: ek(elliptic.P256()), ec384: ek(elliptic.P384()), ec521: ek(elliptic.P521()), attackerEC: ek(elliptic.P256()),
			ed: edk(), attackerEd: edk(),
		}
	})
	return &fixture
}

// keySet is the verifier's key set: kid -> public key.
func (k *keys) keySet() map[string]crypto.PublicKey {
	return map[string]crypto.PublicKey{
		"rsa":  &k.rsa.PublicKey,
		"rsa2": &k.rsa2.PublicKey,
		"ec":   &k.ec.PublicKey,
		"p384": &k.ec384.PublicKey,
		"p521": &k.ec521.PublicKey,
		"ed":   k.ed.Public(),
	}
}

func newValidator(t testing.TB, mod func(*jwtauth.Config)) *jwtauth.Validator {
	t.Helper()
	k := testKeys(t)
	set, err := jwtauth.StaticKeys(k.keySet())
	if err != nil {
		t.Fatal(err)
	}
	cfg := jwtauth.Config{Keys: set, Issuer: testIssuer, Audience: []string{testAudience}}
	jwtauth.SetClock(&cfg, clock)
	if mod != nil {
		mod(&cfg)
	}
	v, err := jwtauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newClocked returns the Validator of cfg on the clock now.
func newClocked(t testing.TB, cfg jwtauth.Config, now func() time.Time) *jwtauth.Validator {
	t.Helper()
	jwtauth.SetClock(&cfg, now)
	v, err := jwtauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// sign returns header.payload.signature, signing with golang-jwt's method
// for alg.
func sign(t testing.TB, header, payload, alg string, key any) string {
	t.Helper()
	si := enc([]byte(header)) + "." + enc([]byte(payload))
	m := jwt.GetSigningMethod(alg)
	if m == nil {
		t.Fatalf("no signing method %q", alg)
	}
	sig, err := m.Sign(si, key)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return si + "." + enc(sig)
}

func hdr(alg, kid string) string {
	a, _ := json.Marshal(alg)
	k, _ := json.Marshal(kid)
	return fmt.Sprintf(`{"alg":%s,"kid":%s,"typ":"JWT"}`, a, k)
}

// claims returns a valid claims set with the fields of extra added or, for
// a nil value, removed.
func claims(extra map[string]any) string {
	c := map[string]any{
		"iss": testIssuer,
		"sub": "user-1",
		"aud": testAudience,
		"exp": now.Add(time.Hour).Unix(),
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
	}
	raws := map[string]string{}
	for k, v := range extra {
		switch v := v.(type) {
		case nil:
			delete(c, k)
		case raw:
			ph := "__raw_" + k + "__"
			raws[`"`+ph+`"`] = string(v)
			c[k] = ph
		default:
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	out := string(b)
	for ph, v := range raws {
		out = strings.Replace(out, ph, v, 1)
	}
	return out
}

// raw is a JSON fragment for claims, kept as written.
type raw string

func validRS256(t testing.TB) string {
	return sign(t, hdr("RS256", "rsa"), claims(nil), "RS256", testKeys(t).rsa)
}

// jwksDoc returns a JWKS document of the public keys.
func jwksDoc(t testing.TB, keys map[string]crypto.PublicKey) []byte {
	if t == nil { // from an example
		t = &testing.T{}
	} else {
		t.Helper()
	}
	var out []map[string]any
	for kid, key := range keys {
		switch key := key.(type) {
		case *rsa.PublicKey:
			out = append(out, map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": enc(key.N.Bytes()), "e": enc(big.NewInt(int64(key.E)).Bytes())})
		case *ecdsa.PublicKey:
			size := (key.Curve.Params().BitSize + 7) / 8
			out = append(out, map[string]any{"kty": "EC", "kid": kid, "crv": key.Curve.Params().Name,
				"x": enc(key.X.FillBytes(make([]byte, size))), "y": enc(key.Y.FillBytes(make([]byte, size)))})
		case ed25519.PublicKey:
			out = append(out, map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": enc(key)})
		default:
			t.Fatalf("jwksDoc: %T", key)
		}
	}
	b, err := json.Marshal(map[string]any{"keys": out})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jwksJSON(kid string, key *ecdsa.PublicKey) []byte {
	return jwksDoc(nil, map[string]crypto.PublicKey{kid: key})
}
