package jwtauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// KeySet is a fixed set of verification keys; it is a [KeySource]. Build one
// with [StaticKeys] or [ParseJWKS]. It is safe for concurrent use.
type KeySet struct {
	keys []setKey
}

type setKey struct {
	kid string
	alg string // the JWK's "alg", or "" for any that fits
	key crypto.PublicKey
}

// StaticKeys returns the key set of keys, by key id. Each key must be an
// *rsa.PublicKey of at least 2048 bits, an *ecdsa.PublicKey on P-256, P-384
// or P-521, or an ed25519.PublicKey; otherwise StaticKeys returns an error
// matching ErrInvalidKey. A token without "kid" is verified only when the
// set holds one key that fits its algorithm.
func StaticKeys(keys map[string]crypto.PublicKey) (*KeySet, error) {
	s := &KeySet{keys: make([]setKey, 0, len(keys))}
	for kid, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, fmt.Errorf("jwtauth: key %q: %w", kid, err)
		}
		s.keys = append(s.keys, setKey{kid: kid, key: k})
	}
	return s, nil
}

func checkKey(k crypto.PublicKey) error {
	switch k := k.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: RSA key under 2048 bits", ErrInvalidKey)
		}
		if k.E < 3 || k.E%2 == 0 {
			return fmt.Errorf("%w: RSA exponent", ErrInvalidKey)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Errorf("%w: unsupported curve", ErrInvalidKey)
		}
		//lint:ignore SA1019 the point check needs the coordinates
		if k.X == nil || k.Y == nil || !k.Curve.IsOnCurve(k.X, k.Y) {
			return fmt.Errorf("%w: point not on curve", ErrInvalidKey)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 key size", ErrInvalidKey)
		}
	default:
		return fmt.Errorf("%w: unsupported key type %T", ErrInvalidKey, k)
	}
	return nil
}

// Key returns the key of id kid that fits alg: one whose JWK "alg", if
// any, is alg and whose type and curve fit it. kid is compared byte for
// byte. A token without a kid gets the set's only key that fits alg.
func (s *KeySet) Key(_ context.Context, kid, alg string) (crypto.PublicKey, error) {
	var found crypto.PublicKey
	n := 0
	for _, k := range s.keys {
		if (kid != "" && k.kid != kid) || (k.alg != "" && k.alg != alg) || fits(k.key, alg) != nil {
			continue
		}
		if kid != "" {
			return k.key, nil
		}
		found = k.key
		n++
	}
	if n == 1 {
		return found, nil
	}
	return nil, ErrUnknownKey
}

// Len returns the number of keys in the set.
func (s *KeySet) Len() int { return len(s.keys) }

type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Kid    string   `json:"kid"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	D      string   `json:"d"`
}

// ParseJWKS parses a JSON Web Key Set (RFC 7517 §5) into a key set. It keeps
// the signature keys it can use and skips the others: "use" other than
// "sig", "key_ops" without "verify", an "alg" this package does not
// support, an unknown "kty" or "crv", private keys, RSA keys under 2048
// bits, EC points not on their curve. Only a document that is not a JWKS is
// an error.
func ParseJWKS(data []byte) (*KeySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Keys == nil {
		return nil, errors.New("jwtauth: not a JWKS document")
	}
	s := &KeySet{keys: make([]setKey, 0, len(doc.Keys))}
	for _, raw := range doc.Keys {
		var k jwk
		if json.Unmarshal(raw, &k) != nil {
			continue
		}
		if key, ok := k.publicKey(); ok {
			s.keys = append(s.keys, setKey{kid: k.Kid, alg: k.Alg, key: key})
		}
	}
	return s, nil
}

func (k *jwk) publicKey() (crypto.PublicKey, bool) {
	if (k.Use != "" && k.Use != "sig") || k.D != "" {
		return nil, false
	}
	if k.KeyOps != nil {
		verify := false
		for _, op := range k.KeyOps {
			verify = verify || op == "verify"
		}
		if !verify {
			return nil, false
		}
	}
	if _, ok := supported[k.Alg]; k.Alg != "" && !ok {
		return nil, false
	}
	var key crypto.PublicKey
	switch k.Kty {
	case "RSA":
		n, err1 := b64.DecodeString(k.N)
		e, err2 := b64.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 || len(n) == 0 || n[0] == 0 {
			return nil, false
		}
		ev := int(new(big.Int).SetBytes(e).Int64())
		key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, false
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, false
		}
		point := append(append([]byte{4}, x...), y...)
		pk, err := ecdsa.ParseUncompressedPublicKey(curve, point) // checks the point is on the curve
		if err != nil {
			return nil, false
		}
		key = pk
	case "OKP":
		x, err := b64.DecodeString(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, false
		}
		key = ed25519.PublicKey(x)
	default:
		return nil, false
	}
	if checkKey(key) != nil {
		return nil, false
	}
	if k.Alg != "" && fits(key, k.Alg) != nil {
		return nil, false
	}
	return key, true
}
