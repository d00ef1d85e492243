package jwtauth

import "errors"

// The errors of [Validator.Validate], [BearerToken] and the key sources.
// Test for them with errors.Is; the text of an error is for logs and must
// not be shown to the caller ([Challenge] and [Middleware] show none of it).
var (
	// ErrMalformed: the token is not a well-formed JWS compact
	// serialization with a JSON object header and claims set, or a
	// registered claim has the wrong JSON type.
	ErrMalformed = errors.New("jwtauth: malformed token")
	// ErrTooLarge: the token is longer than Config.MaxSize.
	ErrTooLarge = errors.New("jwtauth: token too large")
	// ErrAlgorithm: the token's "alg" is not one of Config.Algorithms.
	ErrAlgorithm = errors.New("jwtauth: algorithm not allowed")
	// ErrCritical: the token has a "crit" header.
	ErrCritical = errors.New("jwtauth: critical header not understood")
	// ErrHeader: the token has a header that names a key or where to find
	// one ("jku", "x5u", "jwk", "x5c") or one of JWE.
	ErrHeader = errors.New("jwtauth: header not allowed")
	// ErrType: the token's "typ" is not Config.Type, or it has a "cty"
	// (a nested JWT).
	ErrType = errors.New("jwtauth: wrong token type")
	// ErrUnknownKey: the key set has no key of the token's "kid" that fits
	// its algorithm.
	ErrUnknownKey = errors.New("jwtauth: unknown key")
	// ErrKeysUnavailable: the key set could not be had and none is held:
	// the provider failed, its URL is unusable, or the validation's own
	// context ended before the keys came. It says nothing of the token.
	ErrKeysUnavailable = errors.New("jwtauth: keys unavailable")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("jwtauth: invalid signature")
	// ErrExpired: the token's "exp" has passed. A token without "exp"
	// fails with an error that matches both ErrMalformed and ErrExpired.
	ErrExpired = errors.New("jwtauth: token expired")
	// ErrNotYetValid: the token's "nbf" is in the future.
	ErrNotYetValid = errors.New("jwtauth: token not yet valid")
	// ErrIssuedInFuture: the token's "iat" is in the future.
	ErrIssuedInFuture = errors.New("jwtauth: token issued in the future")
	// ErrIssuer: the token's "iss" is not Config.Issuer.
	ErrIssuer = errors.New("jwtauth: wrong issuer")
	// ErrAudience: the token's "aud" has none of Config.Audience.
	ErrAudience = errors.New("jwtauth: wrong audience")
	// ErrNoToken: the request carries no bearer token.
	ErrNoToken = errors.New("jwtauth: no bearer token")
	// ErrInvalidKey: a key given to [StaticKeys] or found in a JWKS is of
	// an unsupported type or too weak (RSA under 2048 bits).
	ErrInvalidKey = errors.New("jwtauth: invalid key")
)
