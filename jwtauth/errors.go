package jwtauth

import "net/http"

// The errors of [Validator.Validate], [BearerToken] and the key sources.
// Test for them with errors.Is; the text of an error is for logs and must
// not be shown to the caller ([Challenge] and [Middleware] show none of it).
//
// Each carries the HTTP answer it calls for, through the methods
// HTTPStatus() int, Header() http.Header and PublicMessage() string, which
// funcify's httperror.Write and app.WriteError honour wherever the error is
// wrapped:
//
//   - ErrNoToken: 401 "authentication required", WWW-Authenticate: Bearer
//     (RFC 6750 §3.1: a request without credentials gets no error code);
//   - ErrKeysUnavailable: 503 "authentication unavailable", the provider's
//     failure and not the caller's;
//   - every other: 401 "invalid token", WWW-Authenticate:
//     Bearer error="invalid_token", which says nothing of why.
var (
	// ErrMalformed: the token is not a well-formed JWS compact
	// serialization with a JSON object header and claims set, or a
	// registered claim has the wrong JSON type.
	ErrMalformed = &authError{msg: "jwtauth: malformed token", kind: invalidToken}
	// ErrTooLarge: the token is longer than Config.MaxSize.
	ErrTooLarge = &authError{msg: "jwtauth: token too large", kind: invalidToken}
	// ErrAlgorithm: the token's "alg" is not one of Config.Algorithms.
	ErrAlgorithm = &authError{msg: "jwtauth: algorithm not allowed", kind: invalidToken}
	// ErrCritical: the token has a "crit" header.
	ErrCritical = &authError{msg: "jwtauth: critical header not understood", kind: invalidToken}
	// ErrHeader: the token has a header that names a key or where to find
	// one ("jku", "x5u", "jwk", "x5c") or one of JWE.
	ErrHeader = &authError{msg: "jwtauth: header not allowed", kind: invalidToken}
	// ErrType: the token's "typ" is not Config.Type, or it has a "cty"
	// (a nested JWT).
	ErrType = &authError{msg: "jwtauth: wrong token type", kind: invalidToken}
	// ErrUnknownKey: the key set has no key of the token's "kid" that fits
	// its algorithm.
	ErrUnknownKey = &authError{msg: "jwtauth: unknown key", kind: invalidToken}
	// ErrKeysUnavailable: the key set could not be had and none is held:
	// the provider failed, its URL is unusable, or the validation's own
	// context ended before the keys came. It says nothing of the token.
	ErrKeysUnavailable = &authError{msg: "jwtauth: keys unavailable", kind: unavailable}
	// ErrSignature: the signature does not verify.
	ErrSignature = &authError{msg: "jwtauth: invalid signature", kind: invalidToken}
	// ErrExpired: the token's "exp" has passed. A token without "exp"
	// fails with an error that matches both ErrMalformed and ErrExpired.
	ErrExpired = &authError{msg: "jwtauth: token expired", kind: invalidToken}
	// ErrNotYetValid: the token's "nbf" is in the future.
	ErrNotYetValid = &authError{msg: "jwtauth: token not yet valid", kind: invalidToken}
	// ErrIssuedInFuture: the token's "iat" is in the future.
	ErrIssuedInFuture = &authError{msg: "jwtauth: token issued in the future", kind: invalidToken}
	// ErrIssuer: the token's "iss" is not Config.Issuer.
	ErrIssuer = &authError{msg: "jwtauth: wrong issuer", kind: invalidToken}
	// ErrAudience: the token's "aud" has none of Config.Audience.
	ErrAudience = &authError{msg: "jwtauth: wrong audience", kind: invalidToken}
	// ErrNoToken: the request carries no bearer token.
	ErrNoToken = &authError{msg: "jwtauth: no bearer token", kind: noToken}
	// ErrInvalidKey: a key given to [StaticKeys] or found in a JWKS is of
	// an unsupported type or too weak (RSA under 2048 bits).
	ErrInvalidKey = &authError{msg: "jwtauth: invalid key", kind: invalidToken}
)

// refusal says which answer an error calls for.
type refusal int

const (
	invalidToken refusal = iota // 401, Bearer error="invalid_token"
	noToken                     // 401, Bearer
	unavailable                 // 503
)

// authError is the type of jwtauth's errors: a message for logs and the
// HTTP answer it calls for.
type authError struct {
	msg  string
	kind refusal
}

func (e *authError) Error() string { return e.msg }

// HTTPStatus returns 401, or 503 for ErrKeysUnavailable.
func (e *authError) HTTPStatus() int {
	if e.kind == unavailable {
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// Header returns the WWW-Authenticate challenge of a 401 (RFC 6750 §3).
func (e *authError) Header() http.Header {
	switch e.kind {
	case noToken:
		return http.Header{"Www-Authenticate": {"Bearer"}}
	case invalidToken:
		return http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}
	}
	return nil
}

// PublicMessage returns the message the caller sees.
func (e *authError) PublicMessage() string {
	switch e.kind {
	case noToken:
		return "authentication required"
	case unavailable:
		return "authentication unavailable"
	}
	return "invalid token"
}
