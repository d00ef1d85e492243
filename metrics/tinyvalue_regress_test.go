package metrics_test

import (
	"context"
	"errors"
	"testing"

	"github.com/funcify/funcify/metrics"
)

// TestTinyValueRefused: CloudWatch "rejects values that are either
// too small or too large": magnitudes from 2^-360 (8.515920e-109) to 2^360,
// and zero. Add checks the upper bound only, so 1e-200 (or a subnormal) is
// accepted, written, and then refused by CloudWatch, with no error at the
// call. It should return ErrInvalid (or be written as 0, saying so).
func TestTinyValueRefused(t *testing.T) {
	e, _ := newEmitter(t)
	invocation(e, false, func(ctx context.Context) {
		for _, v := range []float64{1e-200, -1e-120, 5e-324} {
			if err := metrics.Add(ctx, "Latency", v, metrics.Seconds); !errors.Is(err, metrics.ErrInvalid) {
				t.Errorf("Add(%v) = %v, want ErrInvalid", v, err)
			}
		}
		mustAdd(t, ctx, "Latency", 0, metrics.Seconds) // zero is fine
	})
}
