package retry

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/funcify/funcify/httperror"
)

// TestHostileRetryAfterCappedForCaller: the documented pattern,
// fn returning RetryAfter(ParseRetryAfter(resp.Header.Get("Retry-After")),
// err), hands a downstream's Retry-After to funcify's own caller unbounded:
// Do refuses to wait more than WithMaxRetryAfter (a minute) for it, but the
// *Error it returned answered 503 with the downstream's value, up to
// "Retry-After: 9223372037" (292 years): a hostile or broken downstream
// told every client of the function to stay away for as long as it liked.
// The answer's Retry-After is now at most the cap Do used.
func TestHostileRetryAfterCappedForCaller(t *testing.T) {
	errThrottled := errors.New("downstream: 503")
	for _, header := range []string{
		"86400",
		"99999999999999999999",
		"Fri, 31 Dec 9999 23:59:59 GMT",
	} {
		t.Run(header, func(t *testing.T) {
			d, ok := ParseRetryAfter(header, time.Now())
			if !ok {
				t.Fatalf("ParseRetryAfter(%q) failed", header)
			}
			_, err := Do(context.Background(), func(context.Context) (int, error) {
				return 0, RetryAfter(d, errThrottled)
			})
			if !errors.Is(err, ErrRetryAfterTooLong) {
				t.Fatalf("Do: got %v, want ErrRetryAfterTooLong", err)
			}
			a := httperror.AnswerOf(err)
			if v, want := a.Header.Get("Retry-After"), "60"; a.Status != 503 || v != want {
				t.Errorf("answer %d with Retry-After: %q, want 503 with %q (the cap)", a.Status, v, want)
			}
			if v := a.Header.Get("Retry-After"); v != "" {
				secs, _ := strconv.ParseInt(v, 10, 64)
				if secs > int64(DefaultMaxRetryAfter/time.Second) {
					t.Errorf("answer %d with Retry-After: %s from the downstream's %q: longer than the %v Do itself would wait", a.Status, v, header, DefaultMaxRetryAfter)
				}
			}
		})
	}
}
