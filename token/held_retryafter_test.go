package token_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/token"
)

// TestHeldRetryAfterIsLeft: while the Source holds back after a
// provider's 503 Retry-After: 30, every caller's error is the same stored
// *RetrieveError, whose Header gives the provider's 30 s as sent (capped
// at a minute), not what is left of the hold. 25 s in, the Source will
// ask again in 5 s but tells its caller to stay away 30 s more; with
// Config.MaxRetryAfter 5 s it asks again after 5 s yet tells every caller
// 30. The breaker's OpenError, by contrast, gives the stand-down left.
func TestHeldRetryAfterIsLeft(t *testing.T) {
	p := newProvider(t)
	p.set(status(http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`, "Retry-After", "30"))
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cfg := token.Config{TokenURL: p.URL, ClientID: "c", ClientSecret: secret}
	token.SetClock(&cfg, clock)
	src, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = src.Token(ctx)
	first := httperror.AnswerOf(err)
	t.Logf("first: %d Retry-After %q", first.Status, first.Header.Get("Retry-After"))

	mu.Lock()
	now = now.Add(25 * time.Second)
	mu.Unlock()
	_, err = src.Token(ctx)
	a := httperror.AnswerOf(err)
	ra, _ := strconv.Atoi(a.Header.Get("Retry-After"))
	t.Logf("25 s later (held: %v): %d Retry-After %q", err, a.Status, a.Header.Get("Retry-After"))
	if a.Status != http.StatusServiceUnavailable || ra > 5 {
		t.Errorf("25 s into a 30 s hold: answer %d with Retry-After %d, want 503 with at most the 5 s left", a.Status, ra)
	}
}
