// Package jwtauth authenticates the callers of a function by the JWT bearer
// token of their request (RFC 6750, RFC 7519), validated against the
// identity provider's keys as the JWT best current practices (RFC 8725)
// ask. Signatures are verified by github.com/golang-jwt/jwt/v5; parsing and
// every check around them are this package's own, stricter than
// golang-jwt's parser.
//
// # Use
//
//	keys := jwtauth.NewOIDC("https://idp.example.com/", // or NewJWKS(url), StaticKeys, ParseJWKS
//		jwtauth.WithStore(shared),     // a cold instance finds the keys here
//		jwtauth.WithSealKey(storeKey), // 32+ bytes: what the store holds is authenticated
//		jwtauth.WithBreaker(idp))      // a provider that is down is left alone
//	v, err := jwtauth.New(jwtauth.Config{
//		Keys:     keys,
//		Issuer:   "https://idp.example.com/",
//		Audience: []string{"api://orders"},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	a.Use(jwtauth.Middleware(v)) // 401 with WWW-Authenticate; the *Token in the context
//
// # What is refused
//
// [Validator.Validate] refuses, with errors that match the package's Err
// values:
//
//   - a token longer than Config.MaxSize (16 KiB), checked first; any
//     character outside base64url and '.'; anything but exactly two dots,
//     counted before any split; an empty part;
//   - non-canonical base64url: padding, the standard alphabet, non-zero
//     trailing bits;
//   - a header or claims set that is not one JSON object in UTF-8, or has
//     a member name twice at any depth (after unescaping);
//   - an "alg" outside Config.Algorithms (default RS256, ES256, EdDSA),
//     compared byte for byte and written without escapes; "none" and HMAC
//     can never be allowed;
//   - a "crit" header (no extension is understood); a "jku", "x5u", "jwk"
//     or "x5c" header: keys come only from the configured source, never
//     from the token, and a token that names one is refused outright rather
//     than ignored; JWE's "enc" and "zip"; any "cty" (nested JWTs); a "typ"
//     other than Config.Type when set;
//   - a registered claim of the wrong JSON type: "exp", "nbf", "iat" must
//     be numbers, "iss", "sub", "jti" strings, "aud" a string or an array
//     of strings; a missing "exp";
//   - a key the source does not hold under the token's "kid" (compared byte
//     for byte), or whose type, curve or size does not fit "alg" (RSA of at
//     least 2048 bits for RS* and PS*; P-256, P-384, P-521 for ES256,
//     ES384, ES512; Ed25519 for EdDSA);
//   - a signature that does not verify, including ECDSA signatures of the
//     wrong length or with r or s zero or out of range;
//   - "exp" passed, "nbf" or "iat" in the future, beyond Config.Leeway
//     (30 s); "iss" other than Config.Issuer; "aud" without one of
//     Config.Audience.
//
// # Keys
//
// [StaticKeys] and [ParseJWKS] build a fixed [KeySet]. [NewJWKS] and
// [NewOIDC] fetch the provider's keys lazily, during a validation: a
// Lambda that is frozen runs no background goroutine. Concurrent
// validations share one fetch. After a successful fetch, a token of an
// unknown "kid" triggers a refetch at most once per refresh interval (1
// minute), so a flood of made-up kids cannot hammer the provider. After a
// failed fetch (an error status, a refused connection, a timeout, an
// unusable document, an open circuit) the next is tried after a short
// backoff (5 seconds from the failure), so that one failure does not turn
// every request away for a minute. A failed fetch keeps the keys already
// held; documents are capped at 1 MiB. Every fetch goes through a circuit
// breaker (its own, or the one of [WithBreaker]), which stops the fetches
// while the provider keeps failing. The breaker counts as failures what
// says the provider is unwell: a 5xx status, a refused connection, a
// timeout, an answer that the provider broke off (cut short, reset), and
// an answer of status 200 that cannot be used (an HTML maintenance page, a
// JWKS without a usable key, a discovery document of another issuer or
// without a usable jwks_uri); these last two count as a 502.
//
// A fetch runs with the context of the validation that started it,
// bounded by a timeout of its own: 10 seconds, and at most three quarters
// of the time left before the context's deadline. A provider that hangs
// thus fails the fetch on its own timeout, which counts in the breaker
// and starts the backoff, while the invocation keeps time to answer. When
// the validation's context itself ends mid-fetch (a cancelled request, a
// deadline reached first), the fetch counts for nothing: the breaker does
// not count it, it is not logged as a failure, and a validation waiting
// for the same fetch with a live context fetches again with its own, as
// does the next request. A fetch whose own timeout the caller's deadline
// made shorter than 10 seconds, and that ran out of it, counts in the
// breaker, but the failure is the caller's lack of time as much as the
// provider's: a validation waiting for it with more time does not inherit
// it but fetches again, and its backoff holds back only the callers short
// of time too, not one that can give a fetch its full 10 seconds. A
// validation that needs keys and gets none fails
// with an error matching ErrKeysUnavailable, whatever kept them away, its
// own context ending included: [Middleware] answers 503, never a 401 that
// would tell the client to drop a valid token.
//
// Errors, log lines, breaker names and store keys name a document's URL
// without its query, user information or fragment, which may carry
// secrets; a store key and the name of the default breaker add a hash of
// the whole URL, so that URLs that differ only in their query (Azure AD
// B2C's key sets of two user flows) keep apart, each with its own circuit. A URL that does not parse, or is
// not an absolute http or https URL, fails every fetch with such an error.
//
// # Shared store
//
// With [WithStore] the key set and the discovered jwks_uri are shared by
// every instance: a cold instance reads them instead of fetching. What a
// source reads back from the store decides which signatures it accepts,
// so by default the store is a trust anchor: whoever can write to it can
// plant signing keys or point jwks_uri at keys of their own. Grant write
// access to it only to the functions that validate, or set
// [WithSealKey]: the values are then authenticated with HMAC-SHA256 under
// a key that the store never sees, and a value without a valid tag is
// logged, ignored and replaced by a fetch from the provider.
//
// A key set read from the store is used as it is while it is younger than
// the refresh interval (or newer than the one held). An older one serves
// only a cold instance whose fetch fails, and only while it is younger
// than 7 days, the time the store keeps it: a seal proves who wrote a
// document, not that it is current, and a document replayed from months
// ago may hold a key that the provider rotated out because it leaked.
//
// # Concurrency
//
// Validator, KeySet, JWKS and OIDC are safe for concurrent use. Build them
// once, at init, and share them across invocations.
package jwtauth
