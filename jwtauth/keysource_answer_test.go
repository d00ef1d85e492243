package jwtauth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"testing"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/jwtauth"
)

// weakKeys is a KeySource of the user's own whose key store hands back a
// 1024-bit RSA key: a fault of the key source (its configuration or its
// provider), not of any caller's token.
type weakKeys struct{ k crypto.PublicKey }

func (w weakKeys) Key(context.Context, string, string) (crypto.PublicKey, error) { return w.k, nil }

// KeySource's doc: a source's failure "is not the caller's fault" and
// answers 503. A source that returns a key too weak to use is such a
// failure, but the Validator answers every caller, whatever their token,
// 401 invalid_token (ErrInvalidKey is of kind invalidToken), telling good
// clients to throw their tokens away.
func TestWeakKeyFromKeySourceIsNotCallers401(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(t, func(c *jwtauth.Config) { c.Keys = weakKeys{&weak.PublicKey} })
	_, err = v.Validate(context.Background(), validRS256(t))
	if err == nil {
		t.Fatal("validated against a 1024-bit key")
	}
	if a := httperror.AnswerOf(err); a.Status != http.StatusServiceUnavailable {
		t.Errorf("a KeySource's unusable key (%v) answers %d %q, challenge %q; want 503: no caller's token can fix it",
			err, a.Status, a.Message, a.Header.Get("Www-Authenticate"))
	}
}
