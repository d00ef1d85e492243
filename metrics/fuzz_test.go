package metrics_test

import (
	"context"
	"testing"

	"github.com/funcify/funcify/metrics"
)

// FuzzDocument: whatever names, values, units, dimensions and metadata
// the calls get, each is refused or written, and what is written is valid
// EMF that holds every value accepted.
func FuzzDocument(f *testing.F) {
	f.Add("Latency", 12.5, "Milliseconds", uint8(3), "route", "GET /", "request_id", "r-1")
	f.Add("", 1.0, "Count", uint8(1), "", "", "", "")
	f.Add("_aws", 1.0, "None", uint8(0), "_aws", "v", "_aws", "v")
	f.Add("m\"\\\x00é", -0.0, "Count/Second", uint8(250), "a:b", " ", "k\n", "\xff")
	f.Add("service", 1e300, "count", uint8(2), "service", "x", "service", "y")
	f.Fuzz(func(t *testing.T, name string, value float64, unit string, n uint8, dimName, dimValue, metaKey, metaValue string) {
		e, w := newEmitter(t)
		added := 0
		invocation(e, false, func(ctx context.Context) {
			metrics.AddDimension(ctx, dimName, dimValue)
			metrics.AddMetadata(ctx, metaKey, metaValue)
			for range n {
				if metrics.Add(ctx, name, value, metrics.Unit(unit)) == nil {
					added++
				}
			}
			metrics.Add(ctx, "Other", 1, metrics.Count)
		})
		out, _ := w.take()
		docs := parseOutput(t, out)
		var got []float64
		for _, d := range docs {
			if name != "Other" {
				got = append(got, d.Values[name]...)
			}
		}
		if name != "Other" && len(got) != added {
			t.Errorf("%d values of %q written, %d added", len(got), name, added)
		}
		for _, v := range got {
			if v != value {
				t.Errorf("value %v written, %v added", v, value)
			}
		}
	})
}
