package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/funcify/funcify/metrics"
)

// TestReviewMetadataEscapedSize: AddMetadata bounds a string value by its
// bytes, but the document carries it JSON-escaped, up to six times longer
// (a control character is written \u00XX). 60,000 bytes of control
// characters (a caller's header or body put in metadata) are accepted and
// make every document of the invocation about 360 KB, past the 256 KB of a
// CloudWatch Logs event: the metrics are lost, with no error at the call.
// Either the value is refused (ErrInvalid) or every document fits.
func TestReviewMetadataEscapedSize(t *testing.T) {
	e, w := newEmitter(t)
	var metaErr error
	invocation(e, false, func(ctx context.Context) {
		mustAdd(t, ctx, "OrdersCreated", 1, metrics.Count)
		metaErr = metrics.AddMetadata(ctx, "user_agent", strings.Repeat("\x01", 60000))
	})
	if errors.Is(metaErr, metrics.ErrInvalid) {
		return // refused at the call: fine
	}
	if metaErr != nil {
		t.Fatalf("AddMetadata: %v", metaErr)
	}
	out, _ := w.take()
	parseOutput(t, out) // each document within 256 KB
}

// TestReviewMetadataKeySize: the 64 KiB bound on an invocation's metadata
// counts the values only: a key of 300 KB (or many long keys) is accepted
// and the document passes 256 KB.
func TestReviewMetadataKeySize(t *testing.T) {
	e, w := newEmitter(t)
	var metaErr error
	invocation(e, false, func(ctx context.Context) {
		mustAdd(t, ctx, "OrdersCreated", 1, metrics.Count)
		metaErr = metrics.AddMetadata(ctx, strings.Repeat("k", 300<<10), 1)
	})
	if errors.Is(metaErr, metrics.ErrInvalid) {
		return // refused at the call: fine
	}
	if metaErr != nil {
		t.Fatalf("AddMetadata: %v", metaErr)
	}
	out, _ := w.take()
	parseOutput(t, out)
}
