package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/funcify/funcify/httperror"
)

// BearerToken returns the bearer token of r's Authorization header (RFC
// 6750 §2.1): the scheme "Bearer" in any case, one or more spaces, and one
// b64token. A request without an Authorization header, or whose header
// uses another scheme, fails with ErrNoToken; more than one Authorization
// header, or a Bearer credential of any other shape, fails with
// ErrMalformed.
func BearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", fmt.Errorf("%w: more than one Authorization header", ErrMalformed)
	}
	v := strings.Trim(values[0], " \t")
	if v == "" {
		return "", ErrNoToken
	}
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		if len(scheme) > 6 && strings.EqualFold(scheme[:6], "Bearer") {
			return "", fmt.Errorf("%w: bad Authorization header", ErrMalformed)
		}
		return "", ErrNoToken
	}
	tok := strings.TrimLeft(rest, " ")
	if !isB64Token(tok) {
		return "", fmt.Errorf("%w: bad Authorization header", ErrMalformed)
	}
	return tok, nil
}

// isB64Token reports whether s is a b64token (RFC 6750 §2.1):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for i < len(s) {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			i++
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// Challenge returns the WWW-Authenticate value for a request refused with
// err (RFC 6750 §3), the one err's answer carries: `Bearer` when it carried
// no token (ErrNoToken), `Bearer error="invalid_token"` when its token did
// not validate; "" when err calls for no challenge (ErrKeysUnavailable,
// which answers 503: the token may be fine) or is not jwtauth's. It says
// nothing of why.
func Challenge(err error) string {
	var e *authError
	if !errors.As(err, &e) {
		return ""
	}
	return e.Header().Get("Www-Authenticate")
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries t.
func NewContext(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, contextKey{}, t)
}

// TokenFromContext returns the validated token in ctx, if any: a request
// that passed [Middleware] has one.
func TokenFromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(contextKey{}).(*Token)
	return t, ok && t != nil
}

// Authenticate returns the validated bearer token of r.
func (v *Validator) Authenticate(r *http.Request) (*Token, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	return v.Validate(r.Context(), raw)
}

// Middleware returns middleware that lets a request through only with a
// valid bearer token, which it puts in the request's context
// ([TokenFromContext]). Otherwise it answers, at step "authenticate", with
// the answer the error calls for (see the errors' doc): 401 with a
// WWW-Authenticate challenge ([Challenge]), "authentication required" when
// the request carried no bearer token and "invalid token" when it did; or
// 503 "authentication unavailable" when the keys could not be had
// (ErrKeysUnavailable), which is the provider's failure and not the
// caller's. The answer is written with [httperror.Write]: funcify's error
// envelope, or problem details when funcify's app says so in the request's
// context. Middleware needs no app: it works in any net/http server.
func Middleware(v *Validator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t, err := v.Authenticate(r)
			if err != nil {
				httperror.WriteAt(w, r, err, "authenticate")
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), t)))
		})
	}
}
