package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/funcify/funcify/metrics"
)

// TestMetadataEscapedSize: AddMetadata bounds a string value by its
// bytes, but the document carries it JSON-escaped, up to six times longer
// (a control character is written \u00XX). 60,000 bytes of control
// characters (a caller's header or body put in metadata) are accepted and
// make every document of the invocation about 360 KB, past the 256 KB of a
// CloudWatch Logs event: the metrics are lost, with no error at the call.
// Either the value is refused (ErrInvalid) or every document fits.
func TestMetadataEscapedSize(t *testing.T) {
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

// TestMetadataKeySize: the 64 KiB bound on an invocation's metadata
// counts the values only: a key of 300 KB (or many long keys) is accepted
// and the document passes 256 KB.
func TestMetadataKeySize(t *testing.T) {
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

// TestMetadataLargestDocument: with every part of a document at the
// largest the calls accept (namespace, 30 dimensions and a metric name
// whose characters each take two or four bytes written, 100 of the longest
// values, and 64 KiB of metadata, mostly 255-character keys of control
// characters), the document still fits in a log event, with room for what
// Lambda adds.
func TestMetadataLargestDocument(t *testing.T) {
	e, w := newEmitter(t, metrics.WithNamespace(strings.Repeat(`"`, 255)))
	name := strings.Repeat("\U0001D11E", 255) // four bytes each
	invocation(e, false, func(ctx context.Context) {
		for i := range 29 {
			if err := metrics.AddDimension(ctx, fmt.Sprintf("%s%05d", strings.Repeat(`"`, 250), i), strings.Repeat(`\`, 1024)); err != nil {
				t.Fatal(err)
			}
		}
		if err := metrics.AddDimension(ctx, "service", strings.Repeat(`"`, 1024)); err != nil {
			t.Fatal(err)
		}
		for k := range 100 {
			mustAdd(t, ctx, name, -1.2345678901234567e-100*float64(k+1), metrics.CountPerSecond, metrics.High)
		}
		var err error
		for i := 0; err == nil; i++ {
			err = metrics.AddMetadata(ctx, fmt.Sprintf("%s%05d", strings.Repeat("\x01", 250), i), strings.Repeat("\x02", 100))
		}
		if !errors.Is(err, metrics.ErrInvalid) {
			t.Fatalf("AddMetadata past 64 KiB: %v", err)
		}
	})
	out, _ := w.take()
	docs := parseOutput(t, out) // each within 256 KB
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	if len(out) > 200<<10 {
		t.Errorf("document of %d bytes, want at most 200 KiB", len(out))
	}
}
