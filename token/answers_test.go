package token_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/token"
)

// The provider says it is unavailable (503, Retry-After): Token's error
// matches ErrUnavailable, whose doc says a handler returning it answers 503
// "service unavailable" and the caller may try again later; the caller gets
// 502 "upstream error" instead, and no Retry-After.
func TestProvider503AnswersAsErrUnavailable(t *testing.T) {
	p := newProvider(t)
	p.set(status(http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`, "Retry-After", "30"))
	src, err := token.New(token.Config{TokenURL: p.URL, ClientID: "c", ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = src.Token(ctx)
	if !errors.Is(err, token.ErrUnavailable) {
		t.Fatalf("Token: %v, want one matching ErrUnavailable", err)
	}
	a := httperror.AnswerOf(err)
	if a.Status != http.StatusServiceUnavailable || a.Message != "service unavailable" || a.Header.Get("Retry-After") == "" {
		t.Errorf("answer to an error matching ErrUnavailable (provider 503, Retry-After 30): %d %q, Retry-After %q; want 503 \"service unavailable\" with a Retry-After",
			a.Status, a.Message, a.Header.Get("Retry-After"))
	}
}

// The token endpoint's circuit is open: breaker's own error (*OpenError)
// answers 503 with the stand-down left in Retry-After, but token wraps it
// (or breaker.ErrOpen) behind ErrUnavailable, which is found first: the
// caller gets 503 without Retry-After.
func TestOpenCircuitKeepsRetryAfter(t *testing.T) {
	p := newProvider(t)
	p.set(status(http.StatusInternalServerError, `{}`))
	b := breaker.New(breaker.Settings{Name: "review-token", FailureThreshold: 1, OpenFor: time.Minute})
	src, err := token.New(token.Config{TokenURL: p.URL, ClientID: "c", ClientSecret: secret, Breaker: b})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := src.Token(ctx); err == nil {
		t.Fatal("Token: no error from a 500")
	}
	_, err = src.Token(ctx)
	if !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("second Token: %v, want one matching breaker.ErrOpen", err)
	}
	a := httperror.AnswerOf(err)
	if a.Status != http.StatusServiceUnavailable || a.Header.Get("Retry-After") == "" {
		t.Errorf("answer to an open circuit: %d %q, Retry-After %q; want 503 with the stand-down's Retry-After, as breaker.OpenError gives", a.Status, a.Message, a.Header.Get("Retry-After"))
	}
}
