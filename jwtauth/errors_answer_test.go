package jwtauth

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/funcify/funcify/breaker"
)

// TestFetchErrorsCountInBreaker: the breaker's default classifier
// reads DownstreamStatus since the breaker change (5039bfe), but
// statusError and unusableError still implement only HTTPStatus, "so 5xx
// answers count as failures": a JWKS or discovery endpoint answering 5xx
// or an HTML maintenance page no longer counts, and the default breaker
// never opens.
func TestFetchErrorsCountInBreaker(t *testing.T) {
	for _, err := range []error{&statusError{status: 503}, &statusError{status: 500},
		&unusableError{errors.New("jwtauth: document too large")}} {
		if !breaker.IsDownstreamFailure(err) {
			t.Errorf("breaker.IsDownstreamFailure(%T %v) = false; want true", err, err)
		}
	}
}

// TestChallengeAgreesWithErrors: Challenge is a second mapping of
// errors to WWW-Authenticate, and disagrees with the errors' own Header:
// for ErrKeysUnavailable (503, no challenge) it says the caller's token is
// invalid, and for pdp/pip-like errors it ignores what they carry.
func TestChallengeAgreesWithErrors(t *testing.T) {
	for _, err := range []error{ErrKeysUnavailable, ErrNoToken, ErrSignature} {
		want := ""
		if h := err.(interface{ Header() http.Header }).Header(); h != nil {
			want = h.Get("WWW-Authenticate")
		}
		if got := Challenge(err); got != want {
			t.Errorf("Challenge(%v) = %q; the error's own Header says %q", err, got, want)
		}
	}
}

type revFailingKeys struct{}

func (revFailingKeys) Key(context.Context, string, string) (crypto.PublicKey, error) {
	return nil, errors.New("my key service: connection refused")
}

// TestMiddlewareForeignKeySourceError: Middleware's doc says it
// answers 401 (with a challenge) or 503; a KeySource of the user's own
// (KeySource is a public interface) that fails with a plain error makes it
// answer 500 "internal error", which neither doc mentions (before the
// change: 401 invalid_token).
func TestMiddlewareForeignKeySourceError(t *testing.T) {
	v, err := New(Config{Keys: revFailingKeys{}, Algorithms: []string{"ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	// A well-formed ES256 token; its key is looked up before the signature.
	const tok = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln"
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	Middleware(v)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized && w.Code != http.StatusServiceUnavailable {
		t.Errorf("Middleware answered %d %s; its doc promises 401 or 503", w.Code, w.Body)
	}
}
