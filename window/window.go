// Package window is pyfuncify's random retry window: when, before a token
// expires, an instance of a function should renew it, so that many
// instances sharing one token do not all renew it at the same moment.
//
// # The window
//
// A window of width [Settings.Width] (default 1 hour) ends
// [Settings.Threshold] (default 1 hour) before the token's expiry:
//
//	start = expiry - Threshold - Width
//	end   = expiry - Threshold
//
// Before start, keep the token. From the guard before end on, and past the
// expiry, refresh. Inside, refresh with a probability that grows linearly
// from 0 at start to 1 at end - guard: with f the fraction of that span
// elapsed, [Decide] refreshes when a draw u from the random source, uniform
// in [0, 1), is below f.
//
// The guard is a tenth of the width, at most [EndGuard] (10 seconds): 10
// seconds for the default window, 2 seconds for a 20-second one. It scales
// with the window so that a narrow window, fitted to a short-lived token by
// [Settings.Fit], keeps nine tenths of its width for the random moments: a
// fixed 10 seconds would put every instance's moment at the same point, or
// before the token was issued.
//
// # One draw per token
//
// A caller that checks often should draw once per token and keep the draw:
// an instance then refreshes at [At](expiry, s, u), a moment uniformly
// spread over the window, whatever its checking rate, and each instance
// has a moment of its own. Drawing anew at every check instead makes
// frequent checkers refresh early in the window (the chance of
// having refreshed compounds). token.Source keeps one draw per token.
//
// Everything here is a pure function of its arguments, safe for concurrent
// use, and deterministic under a fixed random source.
package window

import (
	"strconv"
	"time"
)

const (
	// DefaultWidth is the default width of the window.
	DefaultWidth = time.Hour
	// DefaultThreshold is the default time between the end of the window
	// and the expiry.
	DefaultThreshold = time.Hour
	// EndGuard caps the guard: how long before the end of the window
	// every check refreshes. The guard is a tenth of the window's width,
	// at most EndGuard.
	EndGuard = 10 * time.Second
)

// Settings place the window. The zero value of each field means its
// default; a negative value means zero.
type Settings struct {
	// Width is the width of the window. Default [DefaultWidth].
	Width time.Duration
	// Threshold is how long before the expiry the window ends. Default
	// [DefaultThreshold].
	Threshold time.Duration
}

func (s Settings) resolved() (width, threshold time.Duration) {
	width, threshold = s.Width, s.Threshold
	switch {
	case width == 0:
		width = DefaultWidth
	case width < 0:
		width = 0
	}
	switch {
	case threshold == 0:
		threshold = DefaultThreshold
	case threshold < 0:
		threshold = 0
	}
	return width, threshold
}

// Bounds returns the start and the end of the window for a token that
// expires at expiry.
func (s Settings) Bounds(expiry time.Time) (start, end time.Time) {
	width, threshold := s.resolved()
	end = expiry.Add(-threshold)
	return end.Add(-width), end
}

// guard returns how long before the end of the window every check
// refreshes: a tenth of the width, at most EndGuard.
func (s Settings) guard() time.Duration {
	width, _ := s.resolved()
	return min(EndGuard, width/10)
}

// last returns the start of the window for a token that expires at expiry
// and the moment from which every check refreshes: end - guard, or the
// expiry if earlier.
func (s Settings) last(expiry time.Time) (start, last time.Time) {
	start, end := s.Bounds(expiry)
	last = end.Add(-s.guard())
	if expiry.Before(last) {
		last = expiry
	}
	return start, last
}

// Fit returns settings whose window fits a token that lives for lifetime.
// When Threshold + Width is more than half the lifetime, so that a fresh
// token would be due for refresh at once or soon, both are scaled down in
// proportion until they add up to half the lifetime: the token is kept for
// the first half of its life, refreshed at a random moment of the next
// part, and the last part is the margin. The guard scales with the width
// (see the package doc), so this holds for a token of any lifetime, and the
// refresh moments of many instances spread over nine tenths of the window.
// Otherwise, and for a lifetime of zero or less (unknown), s is returned
// unchanged, with defaults filled in. A Width or Threshold of none (zero
// once resolved) comes back as -1 on every path, never as 0, which would
// mean the default.
func (s Settings) Fit(lifetime time.Duration) Settings {
	width, threshold := s.resolved()
	total := width + threshold
	half := lifetime / 2
	if lifetime <= 0 || total <= half || total <= 0 {
		return settings(width, threshold)
	}
	w := time.Duration(float64(width) * (float64(half) / float64(total)))
	return settings(w, half-w)
}

// settings returns Settings for a resolved width and threshold, a zero
// written as -1: "none", which a zero field would turn into the default.
func settings(width, threshold time.Duration) Settings {
	if width == 0 {
		width = -1
	}
	if threshold == 0 {
		threshold = -1
	}
	return Settings{Width: width, Threshold: threshold}
}

// Decision is what [Decide] says to do with a token.
type Decision int

const (
	// Keep means the token is not due: use it.
	Keep Decision = iota
	// Refresh means renew the token now.
	Refresh
)

// String returns "keep" or "refresh".
func (d Decision) String() string {
	switch d {
	case Keep:
		return "keep"
	case Refresh:
		return "refresh"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Decide says whether a token that expires at expiry should be kept or
// refreshed at now. rnd returns a number in [0, 1); it is called once, and
// only when now is inside the window, before the guard.
//
//   - now before the window's start: Keep;
//   - now at or after end - guard (a tenth of the width, at most
//     [EndGuard]), or at or after expiry: Refresh;
//   - otherwise Refresh if rnd() < f, where f is the fraction of
//     [start, end - guard) elapsed at now.
//
// A window longer than the token's life may start, or end, before the token
// was issued: then the token is due as soon as it is issued. Use
// [Settings.Fit] to scale a window to the token.
func Decide(now, expiry time.Time, s Settings, rnd func() float64) Decision {
	start, last, ok := span(now, expiry, s)
	if !ok {
		return Keep
	}
	if !now.Before(last) {
		return Refresh
	}
	f := float64(now.Sub(start)) / float64(last.Sub(start))
	if rnd() < f {
		return Refresh
	}
	return Keep
}

// span returns the start of the window and the moment from which every
// check refreshes (end - guard, or expiry if earlier), and false when
// now is before the window.
func span(now, expiry time.Time, s Settings) (start, last time.Time, ok bool) {
	start, last = s.last(expiry)
	if !now.Before(expiry) {
		return start, last, true
	}
	if start.After(last) {
		start = last
	}
	return start, last, !now.Before(start)
}

// At returns the first moment at which [Decide], with a random source that
// always returns u, says Refresh: start + u × (end - guard - start). A u
// outside [0, 1) is clamped into it. With u drawn once per token and
// instance, the moments of many instances spread uniformly over the window.
func At(expiry time.Time, s Settings, u float64) time.Time {
	start, last := s.last(expiry)
	if start.After(last) {
		return last
	}
	switch {
	case u <= 0 || u != u:
		u = 0
	case u >= 1:
		return last
	}
	d := time.Duration(u * float64(last.Sub(start)))
	// Decide refreshes when u < f, so step past the exact boundary.
	return start.Add(d + 1)
}
