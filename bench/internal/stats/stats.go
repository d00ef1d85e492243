// Package stats summarizes the samples the bench commands measure:
// durations such as cold starts, or CPU and wall time per invocation.
package stats

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of durations.
type Summary struct {
	Min, Median, P90, Max time.Duration
}

// Summarize returns the summary of samples, which must not be empty. It does
// not reorder samples.
func Summarize(samples []time.Duration) Summary {
	s := slices.Clone(samples)
	slices.Sort(s)
	return Summary{
		Min:    s[0],
		Median: Percentile(s, 50),
		P90:    Percentile(s, 90),
		Max:    s[len(s)-1],
	}
}

// Median returns the median of samples, which must not be empty. It does not
// reorder samples.
func Median(samples []time.Duration) time.Duration {
	s := slices.Clone(samples)
	slices.Sort(s)
	return Percentile(s, 50)
}

// Percentile returns the p-th percentile, 0 <= p <= 100, of sorted, which
// must not be empty, interpolating linearly between the two closest ranks
// (numpy's default method): the value at rank p/100*(n-1), counting from 0,
// to the nearest nanosecond.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(rank)
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := rank - float64(lo)
	return sorted[lo] + time.Duration(math.Round(frac*float64(sorted[lo+1]-sorted[lo])))
}
