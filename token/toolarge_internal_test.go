package token

import (
	"errors"
	"fmt"
	"testing"

	"github.com/funcify/funcify/store"
)

type oldTooLarge struct{}

func (oldTooLarge) Error() string  { return "too large" }
func (oldTooLarge) TooLarge() bool { return true }

// TestTooLarge: a store's refusal for size is recognised by
// store.ErrTooLarge (dynamostore's has no TooLarge method) and by the older
// TooLarge() method; other errors are not.
func TestTooLarge(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("dynamostore: put: %w", store.ErrTooLarge), true},
		{fmt.Errorf("wrapped: %w", oldTooLarge{}), true},
		{errors.New("throttled"), false},
		{store.ErrConflict, false},
	}
	for _, tt := range tests {
		if got := tooLarge(tt.err); got != tt.want {
			t.Errorf("tooLarge(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
