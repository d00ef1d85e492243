package token_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/token"
)

// TestProviderErrorsOpenBreaker: the provider's 5xx answers are failures
// of the provider that the breaker counts (breaker.DownstreamError); its
// 4xx answers are not. With a FailureThreshold of 2, two 503s open the
// circuit and the third call fails at once, unsent.
func TestProviderErrorsOpenBreaker(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   breaker.State
	}{
		{http.StatusServiceUnavailable, breaker.Open},
		{http.StatusInternalServerError, breaker.Open},
		{http.StatusUnauthorized, breaker.Closed},
		{http.StatusTooManyRequests, breaker.Closed},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			idp := idpFunc(func(req *http.Request) (*http.Response, error) {
				return answer(req, tt.status, `{"error":"x"}`), nil
			})
			b := breaker.New(breaker.Settings{Name: "idp", FailureThreshold: 2})
			src := newSource(t, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}, Breaker: b})
			for range 2 {
				if _, err := src.Token(ctx); err == nil {
					t.Fatalf("a %d gave a token", tt.status)
				}
			}
			if got := b.State(ctx); got != tt.want {
				t.Errorf("after two %d answers the circuit is %v, want %v", tt.status, got, tt.want)
			}
		})
	}
}

// TestRetrieveErrorAnswer: a handler that returns a *RetrieveError answers
// its own caller 503 "service unavailable" when the provider is unavailable
// (429, 5xx) and 502 "upstream error" otherwise (HTTPStatus and
// PublicMessage, read by package httperror), never the provider's status
// or text: a provider's 401 (a wrong client secret) is not the caller's.
// DownstreamStatus keeps the provider's status for the breaker.
func TestRetrieveErrorAnswer(t *testing.T) {
	type answerer interface {
		HTTPStatus() int
		PublicMessage() string
	}
	for _, status := range []int{401, 400, 429, 500, 503} {
		var err error = &token.RetrieveError{StatusCode: status, ErrorCode: "invalid_client", ErrorDescription: "secret https://idp.internal/x"}
		var a answerer
		if !errors.As(err, &a) {
			t.Fatalf("%d: *RetrieveError chooses no HTTP answer", status)
		}
		wantStatus, wantMsg := http.StatusBadGateway, "upstream error"
		if status == 429 || status >= 500 {
			wantStatus, wantMsg = http.StatusServiceUnavailable, "service unavailable"
		}
		if got := a.HTTPStatus(); got != wantStatus {
			t.Errorf("%d: HTTPStatus() = %d, want %d", status, got, wantStatus)
		}
		if got := a.PublicMessage(); got != wantMsg {
			t.Errorf("%d: PublicMessage() = %q, want %q", status, got, wantMsg)
		}
		var d breaker.DownstreamError
		if !errors.As(err, &d) || d.DownstreamStatus() != status {
			t.Errorf("%d: DownstreamStatus() is not the provider's status", status)
		}
		// A Token that fails with it still says why, for the logs.
		if !errors.Is(err, token.ErrUnavailable) && (status == 429 || status >= 500) {
			t.Errorf("%d: does not match ErrUnavailable", status)
		}
	}
}

// TestUnavailableAnswer: a handler that fails for want of a token answers
// its caller 503, whether the provider was down (its 5xx under
// ErrUnavailable) or unreachable.
func TestUnavailableAnswer(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("%w: lease wait over", token.ErrUnavailable),
		fmt.Errorf("%w: %w", token.ErrUnavailable, &token.RetrieveError{StatusCode: 503}),
	} {
		if got := httperror.Status(err); got != http.StatusServiceUnavailable {
			t.Errorf("%v: answers %d, want 503", err, got)
		}
		if !errors.Is(err, token.ErrUnavailable) {
			t.Errorf("%v does not match ErrUnavailable", err)
		}
	}
}

// TestRetrieveErrorRetryAfterCapped: the provider's Retry-After reaches the
// caller of an unavailable provider capped at a minute, and not at all for
// another refusal.
func TestRetrieveErrorRetryAfterCapped(t *testing.T) {
	for _, tt := range []struct {
		status int
		after  time.Duration
		want   string
	}{
		{503, 30 * time.Second, "30"},
		{429, 1500 * time.Millisecond, "2"},
		{503, 24 * time.Hour, "60"},
		{503, 0, ""},
		{400, 30 * time.Second, ""},
	} {
		a := httperror.AnswerOf(&token.RetrieveError{StatusCode: tt.status, RetryAfter: tt.after})
		if got := a.Header.Get("Retry-After"); got != tt.want {
			t.Errorf("%d after %v: Retry-After %q, want %q", tt.status, tt.after, got, tt.want)
		}
	}
}
