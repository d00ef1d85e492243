package breaker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestErr: Err gives, without a call, the refusal a call would get: an
// *OpenError with what is left of the stand-down while the circuit is
// open, nil while closed or once a trial would be admitted.
func TestErr(t *testing.T) {
	clk := newClock()
	b := New(Settings{Name: "err", now: clk.Now, FailureThreshold: 1, OpenFor: time.Minute})
	ctx := context.Background()
	if err := b.Err(ctx); err != nil {
		t.Fatalf("closed: Err = %v, want nil", err)
	}
	call(b, errDown)
	clk.Advance(20 * time.Second)
	err := b.Err(ctx)
	var oe *OpenError
	if !errors.As(err, &oe) || !errors.Is(err, ErrOpen) || oe.RetryAfter != 40*time.Second {
		t.Fatalf("open 20 s of 60: Err = %#v, want an *OpenError matching ErrOpen with RetryAfter 40s", err)
	}
	// What a call gets is the same refusal.
	_, callErr := Execute(ctx, b, func(context.Context) (int, error) { return 0, nil })
	if !errors.As(callErr, &oe) || oe.RetryAfter != 40*time.Second {
		t.Errorf("a call: %v, want the same refusal", callErr)
	}
	clk.Advance(40 * time.Second)
	if err := b.Err(ctx); err != nil {
		t.Errorf("stand-down over: Err = %v, want nil (the next call is a trial)", err)
	}
}
