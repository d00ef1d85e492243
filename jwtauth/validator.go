package jwtauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// KeySource finds the public key that verifies a token: the key of id kid
// for algorithm alg, or ErrUnknownKey. kid is the token's "kid" header, or
// "" when it has none. The Validator checks that the key's type fits alg,
// so a source may return any key it holds under kid. An error that is not
// one of this package's is taken as ErrKeysUnavailable (wrapped): the keys
// could not be had, which answers 503, not the caller's 401.
// Implementations must be safe for concurrent use.
type KeySource interface {
	Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error)
}

// Config configures a [Validator]. The zero value of every field but Keys
// means the documented default.
type Config struct {
	// Keys finds the verification keys: [StaticKeys], [ParseJWKS],
	// [NewJWKS] or [NewOIDC]. Required.
	Keys KeySource
	// Issuer, if set, must equal the token's "iss".
	Issuer string
	// Audience, if set, must share one value with the token's "aud" (a
	// string or an array of strings).
	Audience []string
	// Algorithms lists the allowed "alg" values. Default RS256, ES256 and
	// EdDSA. Supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256,
	// ES384, ES512 and EdDSA (Ed25519). "none" and the HMAC algorithms
	// are refused by New.
	Algorithms []string
	// Leeway is the clock skew allowed when checking "exp", "nbf" and
	// "iat". Default 30 seconds; negative means none.
	Leeway time.Duration
	// MaxSize caps the length of a token, checked before anything else.
	// Default 16 KiB.
	MaxSize int
	// Type, if set, must equal the token's "typ" header, compared as RFC
	// 7515 §4.1.9 says (case-insensitive, "application/" optional), such
	// as "at+jwt" for RFC 9068 access tokens. Unset, any "typ" is accepted.
	Type string

	// now returns the current time: time.Now, unless this package's tests
	// set another clock (export_test.go).
	now func() time.Time
}

// DefaultMaxSize is the default cap on the length of a token.
const DefaultMaxSize = 16 << 10

// Validator validates JWS compact tokens. It is safe for concurrent use;
// build one at init and share it.
type Validator struct {
	cfg    Config
	algs   map[string]jwt.SigningMethod
	leeway float64 // seconds
	typ    string  // lower case, without "application/"
}

var supported = map[string]jwt.SigningMethod{
	"RS256": jwt.SigningMethodRS256, "RS384": jwt.SigningMethodRS384, "RS512": jwt.SigningMethodRS512,
	"PS256": jwt.SigningMethodPS256, "PS384": jwt.SigningMethodPS384, "PS512": jwt.SigningMethodPS512,
	"ES256": jwt.SigningMethodES256, "ES384": jwt.SigningMethodES384, "ES512": jwt.SigningMethodES512,
	"EdDSA": jwt.SigningMethodEdDSA,
}

// New returns a Validator, or an error if the configuration is unsafe or
// incomplete: no Keys, or an algorithm that is not supported.
func New(cfg Config) (*Validator, error) {
	if cfg.Keys == nil {
		return nil, errors.New("jwtauth: Config.Keys is required")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{"RS256", "ES256", "EdDSA"}
	}
	v := &Validator{algs: make(map[string]jwt.SigningMethod, len(cfg.Algorithms))}
	for _, a := range cfg.Algorithms {
		m, ok := supported[a]
		if !ok {
			return nil, fmt.Errorf("%w: %q is not supported", ErrAlgorithm, a)
		}
		v.algs[a] = m
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = 30 * time.Second
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	v.cfg = cfg
	v.leeway = cfg.Leeway.Seconds()
	v.typ = mediaType(cfg.Type)
	return v, nil
}

// mediaType normalises a "typ" or "cty" value (RFC 7515 §4.1.9).
func mediaType(s string) string {
	s = strings.ToLower(s)
	if !strings.Contains(s, "/") {
		return s
	}
	return strings.TrimPrefix(s, "application/")
}

// Token is a validated token.
type Token struct {
	// Raw is the token as received.
	Raw string
	// Header is the decoded JOSE header.
	Header map[string]any
	// Claims is the decoded claims set; numbers are float64.
	Claims map[string]any
	// Algorithm and KeyID are the "alg" and "kid" headers.
	Algorithm, KeyID string
	// Subject and Issuer are the "sub" and "iss" claims, or "".
	Subject, Issuer string
	// Audience is the "aud" claim, as a list.
	Audience []string
	// ExpiresAt is the "exp" claim; NotBefore and IssuedAt are the "nbf"
	// and "iat" claims or the zero time.
	ExpiresAt, NotBefore, IssuedAt time.Time
}

// headers that name a key or where to fetch one (RFC 8725 §3.10): never
// used, and a token that carries one is refused, since a verifier that
// ignores them silently is one configuration change from trusting them.
// "enc" and "zip" belong to JWE.
var forbiddenHeaders = [...]string{"jku", "x5u", "jwk", "x5c", "enc", "zip"}

var b64 = base64.RawURLEncoding.Strict()

// b64url holds the characters of a compact serialization: the base64url
// alphabet and '.'.
var b64url = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_." {
		t[c] = true
	}
	return t
}()

// Validate validates a token in JWS compact serialization and returns it.
// The checks, in order: size; exactly three non-empty parts; strict
// base64url; the header (a JSON object without duplicate names, "alg"
// allowed, no "crit", no key-locating or JWE headers, "typ" when
// configured, no "cty"); the claims set (a JSON object without duplicate
// names, registered claims of their RFC 7519 types, "exp" present); the
// signature, with the key the Keys source holds for "kid", of a type that
// fits "alg"; then the times, issuer and audience. Errors match the
// package's Err values.
func (v *Validator) Validate(ctx context.Context, token string) (*Token, error) {
	if len(token) > v.cfg.MaxSize {
		return nil, ErrTooLarge
	}
	// Only base64url characters and dots: encoding/base64 skips CR and
	// LF, which must not pass.
	for i := 0; i < len(token); i++ {
		if !b64url[token[i]] {
			return nil, fmt.Errorf("%w: character outside base64url", ErrMalformed)
		}
	}
	// Count the dots before splitting anything (CVE-2025-30204).
	first := strings.IndexByte(token, '.')
	if first < 0 {
		return nil, fmt.Errorf("%w: not three parts", ErrMalformed)
	}
	second := strings.IndexByte(token[first+1:], '.')
	if second < 0 {
		return nil, fmt.Errorf("%w: not three parts", ErrMalformed)
	}
	second += first + 1
	if strings.IndexByte(token[second+1:], '.') >= 0 {
		return nil, fmt.Errorf("%w: not three parts", ErrMalformed)
	}
	h64, p64, s64 := token[:first], token[first+1:second], token[second+1:]
	if h64 == "" || p64 == "" || s64 == "" {
		return nil, fmt.Errorf("%w: empty part", ErrMalformed)
	}

	t := &Token{Raw: token}
	if err := v.header(t, h64); err != nil {
		return nil, err
	}
	if err := v.claims(t, p64); err != nil {
		return nil, err
	}
	sig, err := b64.DecodeString(s64)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}

	key, err := v.cfg.Keys.Key(ctx, t.KeyID, t.Algorithm)
	if err != nil {
		var ae *authError
		if !errors.As(err, &ae) {
			// A KeySource of the user's own failed without saying how:
			// its keys could not be had, which is not the caller's fault.
			return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
		}
		return nil, err
	}
	if key == nil {
		return nil, ErrUnknownKey
	}
	if err := fits(key, t.Algorithm); err != nil {
		if errors.Is(err, ErrInvalidKey) {
			// The source handed over a key no token can be checked
			// with (too weak): its failure, not the caller's.
			return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
		}
		return nil, err
	}
	if err := v.algs[t.Algorithm].Verify(token[:second], sig, key); err != nil {
		return nil, ErrSignature
	}
	if err := v.check(t); err != nil {
		return nil, err
	}
	return t, nil
}

func (v *Validator) header(t *Token, h64 string) error {
	raw, err := b64.DecodeString(h64)
	if err != nil {
		return fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	h, escaped, err := decodeObject(raw, true)
	if err != nil {
		return fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	t.Header = h
	alg, ok := h["alg"].(string)
	if !ok {
		return fmt.Errorf("%w: header has no string alg", ErrMalformed)
	}
	// "alg" is compared byte for byte, and written without escapes: no
	// issuer escapes a name of ASCII letters and digits.
	if _, ok := v.algs[alg]; !ok || escaped["alg"] {
		return ErrAlgorithm
	}
	t.Algorithm = alg
	if _, ok := h["crit"]; ok {
		return ErrCritical
	}
	for _, name := range forbiddenHeaders {
		if _, ok := h[name]; ok {
			return fmt.Errorf("%w: %s", ErrHeader, name)
		}
	}
	if kid, ok := h["kid"]; ok {
		if t.KeyID, ok = kid.(string); !ok {
			return fmt.Errorf("%w: kid is not a string", ErrMalformed)
		}
	}
	if typ, ok := h["typ"]; ok {
		s, ok := typ.(string)
		if !ok {
			return fmt.Errorf("%w: typ is not a string", ErrMalformed)
		}
		if v.typ != "" && mediaType(s) != v.typ {
			return ErrType
		}
	} else if v.typ != "" {
		return ErrType
	}
	if _, ok := h["cty"]; ok {
		return fmt.Errorf("%w: cty (nested JWT) not accepted", ErrType)
	}
	return nil
}

func (v *Validator) claims(t *Token, p64 string) error {
	raw, err := b64.DecodeString(p64)
	if err != nil {
		return fmt.Errorf("%w: claims are not base64url", ErrMalformed)
	}
	c, _, err := decodeObject(raw, false)
	if err != nil {
		return fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	t.Claims = c
	for _, name := range [...]string{"iss", "sub", "jti"} {
		if x, ok := c[name]; ok {
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("%w: %s is not a string", ErrMalformed, name)
			}
			switch name {
			case "iss":
				t.Issuer = s
			case "sub":
				t.Subject = s
			}
		}
	}
	switch aud := c["aud"].(type) {
	case nil:
		if _, ok := c["aud"]; ok {
			return fmt.Errorf("%w: aud is null", ErrMalformed)
		}
	case string:
		t.Audience = []string{aud}
	case []any:
		t.Audience = make([]string, len(aud))
		for i, a := range aud {
			s, ok := a.(string)
			if !ok {
				return fmt.Errorf("%w: aud is not a string or an array of strings", ErrMalformed)
			}
			t.Audience[i] = s
		}
	default:
		return fmt.Errorf("%w: aud is not a string or an array of strings", ErrMalformed)
	}
	if _, ok := c["exp"]; !ok {
		return fmt.Errorf("%w: %w: no exp", ErrMalformed, ErrExpired)
	}
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		x, ok := c[name]
		if !ok {
			continue
		}
		f, ok := x.(float64)
		if !ok {
			return fmt.Errorf("%w: %s is not a number", ErrMalformed, name)
		}
		at := numericDate(f)
		switch name {
		case "exp":
			t.ExpiresAt = at
		case "nbf":
			t.NotBefore = at
		case "iat":
			t.IssuedAt = at
		}
	}
	return nil
}

// maxDate bounds a NumericDate that becomes a time.Time: year 9999.
const maxDate = 253402300799

func numericDate(f float64) time.Time {
	f = math.Max(math.Min(f, maxDate), -maxDate)
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// check checks the times, the issuer and the audience.
func (v *Validator) check(t *Token) error {
	now := v.cfg.now()
	nowSec := float64(now.Unix()) + float64(now.Nanosecond())/1e9
	// RFC 7519 §4.1.4: the current time must be before exp.
	if exp := t.Claims["exp"].(float64); nowSec >= exp+v.leeway {
		return ErrExpired
	}
	if nbf, ok := t.Claims["nbf"].(float64); ok && nowSec+v.leeway < nbf {
		return ErrNotYetValid
	}
	if iat, ok := t.Claims["iat"].(float64); ok && nowSec+v.leeway < iat {
		return ErrIssuedInFuture
	}
	if v.cfg.Issuer != "" && t.Issuer != v.cfg.Issuer {
		return ErrIssuer
	}
	if len(v.cfg.Audience) > 0 && !shares(t.Audience, v.cfg.Audience) {
		return ErrAudience
	}
	return nil
}

func shares(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// fits checks that key is of the type and size alg needs (RFC 8725 §3.1):
// the key is chosen by the verifier and must agree with the algorithm.
func fits(key crypto.PublicKey, alg string) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg[0] == 'R' || alg[0] == 'P' {
			if k.N == nil || k.N.BitLen() < 2048 {
				return fmt.Errorf("%w: RSA key under 2048 bits", ErrInvalidKey)
			}
			return nil
		}
	case *ecdsa.PublicKey:
		var want elliptic.Curve
		switch alg {
		case "ES256":
			want = elliptic.P256()
		case "ES384":
			want = elliptic.P384()
		case "ES512":
			want = elliptic.P521()
		}
		if want != nil && k.Curve == want {
			return nil
		}
	case ed25519.PublicKey:
		if alg == "EdDSA" && len(k) == ed25519.PublicKeySize {
			return nil
		}
	}
	return fmt.Errorf("%w: key does not fit %s", ErrUnknownKey, alg)
}
