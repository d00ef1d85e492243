package main

import (
	"math"
	"slices"
	"time"
)

// summary describes a set of durations.
type summary struct {
	min, median, p90 time.Duration
}

// summarize returns the summary of samples, which must not be empty. It does
// not reorder samples.
func summarize(samples []time.Duration) summary {
	s := slices.Clone(samples)
	slices.Sort(s)
	return summary{
		min:    s[0],
		median: percentile(s, 50),
		p90:    percentile(s, 90),
	}
}

// percentile returns the p-th percentile, 0 <= p <= 100, of sorted, which
// must not be empty, interpolating linearly between the two closest ranks
// (numpy's default method): the value at rank p/100*(n-1), counting from 0,
// to the nearest nanosecond.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(rank)
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := rank - float64(lo)
	return sorted[lo] + time.Duration(math.Round(frac*float64(sorted[lo+1]-sorted[lo])))
}
