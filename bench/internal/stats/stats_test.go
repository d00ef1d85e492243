package stats

import (
	"math"
	"slices"
	"testing"
	"time"
)

// ms returns the durations of v milliseconds.
func ms(v ...float64) []time.Duration {
	d := make([]time.Duration, len(v))
	for i, x := range v {
		d[i] = time.Duration(math.Round(x * float64(time.Millisecond)))
	}
	return d
}

func TestPercentile(t *testing.T) {
	oneToTen := ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"one sample, median", ms(3), 50, ms(3)[0]},
		{"one sample, p90", ms(3), 90, ms(3)[0]},
		{"two samples, median is their mean", ms(2, 4), 50, ms(3)[0]},
		{"odd count, median is the middle", ms(1, 2, 10), 50, ms(2)[0]},
		{"even count, median", oneToTen, 50, ms(5.5)[0]},
		{"p90 interpolates", oneToTen, 90, ms(9.1)[0]},
		{"p0 is the minimum", oneToTen, 0, ms(1)[0]},
		{"p100 is the maximum", oneToTen, 100, ms(10)[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	samples := ms(9, 1, 5, 3, 7, 2, 10, 4, 8, 6)
	orig := slices.Clone(samples)
	got := Summarize(samples)
	want := Summary{Min: ms(1)[0], Median: ms(5.5)[0], P90: ms(9.1)[0], Max: ms(10)[0]}
	if got != want {
		t.Errorf("Summarize(%v) = %+v, want %+v", orig, got, want)
	}
	if !slices.Equal(samples, orig) {
		t.Errorf("Summarize reordered its input: %v, want %v", samples, orig)
	}
}

func TestMedian(t *testing.T) {
	samples := ms(3, 1, 2)
	if got, want := Median(samples), ms(2)[0]; got != want {
		t.Errorf("Median(%v) = %v, want %v", samples, got, want)
	}
	if want := ms(3, 1, 2); !slices.Equal(samples, want) {
		t.Errorf("Median reordered its input: %v, want %v", samples, want)
	}
}
