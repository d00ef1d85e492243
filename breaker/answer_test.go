package breaker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/funcify/funcify/httperror"
)

// answer is the HTTP answer that funcify's error writer gives err.
func answer(err error) (status int, header http.Header, message string) {
	a := httperror.AnswerOf(err)
	return a.Status, a.Header, a.Message
}

// TestRejectionAnswers: a call the breaker rejects answers funcify's caller
// 503 "service unavailable", with Retry-After when the breaker knows when
// its circuit lets a trial through; the errors still match the sentinels.
func TestRejectionAnswers(t *testing.T) {
	clk := newClock()
	open := New(Settings{Name: "open", now: clk.Now, FailureThreshold: 1, OpenFor: 2 * time.Minute})
	call(open, errDown)
	clk.Advance(30*time.Second + 500*time.Millisecond) // 89.5 s of the stand-down left
	rejectedOpen := call(open, nil)

	busy := New(Settings{Name: "busy", now: clk.Now, FailureThreshold: 1, OpenFor: time.Minute})
	call(busy, errDown)
	clk.Advance(time.Minute)
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := Execute(context.Background(), busy, func(context.Context) (int, error) {
			close(started)
			<-release
			return 1, nil
		})
		done <- err
	}()
	await(t, started)
	rejectedBusy := call(busy, nil)
	close(release)
	if err := await(t, done); err != nil {
		t.Fatalf("trial: %v", err)
	}

	tests := []struct {
		name       string
		err        error
		retryAfter string // "" for no Retry-After
		trialLimit bool   // matches ErrTrialLimit
		text       string
	}{
		{"ErrOpen", ErrOpen, "", false, "breaker: circuit open"},
		{"ErrTrialLimit", ErrTrialLimit, "", true, "breaker: circuit open: trial calls in flight"},
		{"ErrOpen wrapped", fmt.Errorf("orders: %w", ErrOpen), "", false, "orders: breaker: circuit open"},
		{"open circuit, 89.5 s left", rejectedOpen, "90", false, "breaker: circuit open"},
		{"open circuit wrapped", fmt.Errorf("orders: %w", rejectedOpen), "90", false, "orders: breaker: circuit open"},
		{"trial slots taken", rejectedBusy, "", true, "breaker: circuit open: trial calls in flight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("the call was not rejected")
			}
			status, header, message := answer(tt.err)
			if status != http.StatusServiceUnavailable || message != "service unavailable" {
				t.Errorf("answer: got %d %q, want 503 %q", status, message, "service unavailable")
			}
			if got := header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tt.retryAfter)
			}
			if !errors.Is(tt.err, ErrOpen) {
				t.Errorf("errors.Is(err, ErrOpen) is false")
			}
			if got := errors.Is(tt.err, ErrTrialLimit); got != tt.trialLimit {
				t.Errorf("errors.Is(err, ErrTrialLimit): got %v, want %v", got, tt.trialLimit)
			}
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("message: got %q, want %q", got, tt.text)
			}
		})
	}
	if errors.Is(ErrOpen, ErrTrialLimit) {
		t.Error("errors.Is(ErrOpen, ErrTrialLimit): got true, want false")
	}
	var oe *OpenError
	if !errors.As(rejectedOpen, &oe) || oe.RetryAfter != 89*time.Second+500*time.Millisecond {
		t.Errorf("errors.As(err, *OpenError): got %v, want RetryAfter 89.5s", oe)
	}
}
