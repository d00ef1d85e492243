package retry

import (
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

// notFound is an error that chooses its own answer.
type notFound struct{}

func (notFound) Error() string         { return "order 7 not found" }
func (notFound) HTTPStatus() int       { return http.StatusNotFound }
func (notFound) PublicMessage() string { return "not found" }

// TestAnswers: when Do gives up because the deadline or a server's delay
// leaves no room for another try, or fn asked for a delay, the caller of
// funcify's handler that returns the error gets 503 "service unavailable",
// with Retry-After when a delay was asked for; an answer chosen by fn's own
// error comes first; a plain error of fn stays a 500.
func TestAnswers(t *testing.T) {
	giveUp := func(t *testing.T, fnErr error, deadline time.Duration, opts ...Option) error {
		f := newFakeClock()
		ctx := t.Context()
		if deadline > 0 {
			ctx = withFakeDeadline(ctx, f, deadline)
		}
		calls := 0
		_, err := Do(ctx, failing(f, 300*time.Millisecond, fnErr, &calls), append([]Option{withClock(f), fixedRand(1)}, opts...)...)
		return err
	}
	tests := []struct {
		name        string
		err         func(t *testing.T) error
		wantStatus  int
		wantMessage string
		retryAfter  string
		wantIs      error
	}{
		{"ErrDeadline", func(*testing.T) error { return ErrDeadline }, 503, "service unavailable", "", ErrDeadline},
		{"ErrRetryAfterTooLong", func(*testing.T) error { return ErrRetryAfterTooLong }, 503, "service unavailable", "", ErrRetryAfterTooLong},
		{"gave up at the deadline", func(t *testing.T) error { return giveUp(t, errTemp, 500*time.Millisecond) },
			503, "service unavailable", "", ErrDeadline},
		{"gave up at the deadline, server asked 2.5 s", func(t *testing.T) error {
			return giveUp(t, RetryAfter(2500*time.Millisecond, errTemp), 2*time.Second)
		}, 503, "service unavailable", "3", ErrDeadline},
		{"server asked 2 h, over the cap", func(t *testing.T) error { return giveUp(t, RetryAfter(2*time.Hour, errTemp), 0) },
			503, "service unavailable", "60", ErrRetryAfterTooLong},
		{"server asked 2 h, under a raised cap", func(t *testing.T) error {
			return giveUp(t, RetryAfter(2*time.Hour, errTemp), 0, WithMaxTries(1), WithMaxRetryAfter(3*time.Hour))
		}, 503, "service unavailable", "3600", errTemp},
		{"server asked 90 s, over a lowered cap", func(t *testing.T) error {
			return giveUp(t, RetryAfter(90*time.Second, errTemp), 0, WithMaxRetryAfter(30*time.Second))
		}, 503, "service unavailable", "30", ErrRetryAfterTooLong},
		{"a cap of 0, no Retry-After", func(t *testing.T) error {
			return giveUp(t, RetryAfter(90*time.Second, errTemp), 0, WithMaxRetryAfter(0))
		}, 503, "service unavailable", "", ErrRetryAfterTooLong},
		{"RetryAfter of two days on its own", func(*testing.T) error { return RetryAfter(48*time.Hour, errTemp) },
			503, "service unavailable", "3600", errTemp},
		{"fn's own answer around a RetryAfter", func(t *testing.T) error {
			return giveUp(t, fmt.Errorf("%w: %w", notFound{}, RetryAfter(2*time.Hour, errTemp)), 0)
		}, 404, "not found", "", ErrRetryAfterTooLong},
		{"tries ran out, server asked 1 s", func(t *testing.T) error { return giveUp(t, RetryAfter(time.Second, errTemp), 0) },
			503, "service unavailable", "1", errTemp},
		{"RetryAfter of 0", func(*testing.T) error { return RetryAfter(0, errTemp) }, 503, "service unavailable", "", errTemp},
		{"RetryAfter wrapped", func(*testing.T) error { return fmt.Errorf("quote: %w", RetryAfter(90*time.Second, errTemp)) },
			503, "service unavailable", "90", errTemp},
		{"fn's own answer beats the deadline", func(t *testing.T) error { return giveUp(t, notFound{}, 500*time.Millisecond) },
			404, "not found", "", ErrDeadline},
		{"tries ran out on a plain error", func(t *testing.T) error { return giveUp(t, errTemp, 0) },
			500, "internal error", "", errTemp},
		{"permanent plain error", func(t *testing.T) error { return giveUp(t, Permanent(errTemp), 0) },
			500, "internal error", "", errTemp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err(t)
			status, header, message := answer(err)
			if status != tt.wantStatus || message != tt.wantMessage {
				t.Errorf("answer: got %d %q, want %d %q (err %v)", status, message, tt.wantStatus, tt.wantMessage, err)
			}
			if got := header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tt.retryAfter)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.wantIs)
			}
		})
	}
	if ErrDeadline.Error() != "retry: deadline too close for another attempt" ||
		ErrRetryAfterTooLong.Error() != "retry: delay asked for is over the maximum" {
		t.Errorf("sentinel messages changed: %q, %q", ErrDeadline, ErrRetryAfterTooLong)
	}
	if errors.Is(ErrDeadline, ErrRetryAfterTooLong) || errors.Is(ErrRetryAfterTooLong, ErrDeadline) {
		t.Error("ErrDeadline and ErrRetryAfterTooLong match each other")
	}
}
