package window_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/funcify/funcify/window"
)

var expiry = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// always returns a random source that always returns u.
func always(u float64) func() float64 { return func() float64 { return u } }

// never is a random source that must not be called.
func never(t *testing.T) func() float64 {
	return func() float64 {
		t.Helper()
		t.Error("the random source was called outside the window")
		return 0
	}
}

func TestDecideBoundaries(t *testing.T) {
	def := window.Settings{}
	start := expiry.Add(-2 * time.Hour) // default: 1 h wide, ending 1 h before expiry
	end := expiry.Add(-time.Hour)
	guard := end.Add(-window.EndGuard)
	mid := start.Add(guard.Sub(start) / 2)
	short := window.Settings{Width: 10 * time.Minute, Threshold: 5 * time.Minute}
	tests := []struct {
		name string
		now  time.Time
		s    window.Settings
		u    float64 // the draw; -1: rnd must not be called
		want window.Decision
	}{
		{"long before the window", expiry.Add(-24 * time.Hour), def, -1, window.Keep},
		{"just before the start", start.Add(-time.Nanosecond), def, -1, window.Keep},
		{"at the start, draw 0", start, def, 0, window.Keep},
		{"just after the start, draw 0", start.Add(time.Millisecond), def, 0, window.Refresh},
		{"just after the start, draw 0.5", start.Add(time.Millisecond), def, 0.5, window.Keep},
		{"middle, draw below half", mid, def, 0.49, window.Refresh},
		{"middle, draw above half", mid, def, 0.51, window.Keep},
		{"just before the guard, high draw", guard.Add(-time.Millisecond), def, 0.99999999, window.Keep},
		{"10 s before the end", guard, def, -1, window.Refresh},
		{"5 s before the end", end.Add(-5 * time.Second), def, -1, window.Refresh},
		{"at the end", end, def, -1, window.Refresh},
		{"after the end", end.Add(time.Minute), def, -1, window.Refresh},
		{"at the expiry", expiry, def, -1, window.Refresh},
		{"past the expiry", expiry.Add(time.Hour), def, -1, window.Refresh},
		{"custom: before", expiry.Add(-16 * time.Minute), short, -1, window.Keep},
		{"custom: inside, low draw", expiry.Add(-10 * time.Minute), short, 0.1, window.Refresh},
		{"custom: inside, high draw", expiry.Add(-10 * time.Minute), short, 0.9, window.Keep},
		{"custom: at the end", expiry.Add(-5 * time.Minute), short, -1, window.Refresh},
		// A token that lives 5 minutes under the default 2 hours of
		// window and threshold: due as soon as it is issued.
		{"window longer than the token's life", expiry.Add(-5 * time.Minute), def, -1, window.Refresh},
		{"threshold longer than the token's life", expiry.Add(-time.Minute), window.Settings{Threshold: 2 * time.Hour}, -1, window.Refresh},
		// No width: no guard either (a tenth of the width).
		{"negative means none: refresh only at the expiry", expiry, window.Settings{Width: -1, Threshold: -1}, -1, window.Refresh},
		{"negative means none: keep before", expiry.Add(-time.Nanosecond), window.Settings{Width: -1, Threshold: -1}, -1, window.Keep},
		{"no width: refresh at the threshold", expiry.Add(-time.Minute), window.Settings{Width: -1, Threshold: time.Minute}, -1, window.Refresh},
		{"no width: keep before the threshold", expiry.Add(-time.Minute - time.Nanosecond), window.Settings{Width: -1, Threshold: time.Minute}, -1, window.Keep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rnd := never(t)
			if tt.u >= 0 {
				rnd = always(tt.u)
			}
			if got := window.Decide(tt.now, expiry, tt.s, rnd); got != tt.want {
				t.Errorf("Decide(now=expiry%v) = %v, want %v", tt.now.Sub(expiry), got, tt.want)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	start, end := window.Settings{}.Bounds(expiry)
	if want := expiry.Add(-2 * time.Hour); !start.Equal(want) {
		t.Errorf("start = %v, want %v", start, want)
	}
	if want := expiry.Add(-time.Hour); !end.Equal(want) {
		t.Errorf("end = %v, want %v", end, want)
	}
}

func TestAtAgreesWithDecide(t *testing.T) {
	for _, s := range []window.Settings{{}, {Width: time.Minute, Threshold: time.Second}, {Width: 5 * time.Second}} {
		for _, u := range []float64{0, 0.001, 0.25, 0.5, 0.9, 0.999999} {
			at := window.At(expiry, s, u)
			if got := window.Decide(at, expiry, s, always(u)); got != window.Refresh {
				t.Errorf("%+v u=%v: Decide(At) = %v, want refresh", s, u, got)
			}
			if got := window.Decide(at.Add(-time.Millisecond), expiry, s, always(u)); got != window.Keep && at.Add(-time.Millisecond).After(func() time.Time { st, _ := s.Bounds(expiry); return st }()) {
				t.Errorf("%+v u=%v: Decide(At-1ms) = %v, want keep", s, u, got)
			}
		}
	}
	if got, want := window.At(expiry, window.Settings{}, 1), expiry.Add(-time.Hour-window.EndGuard); !got.Equal(want) {
		t.Errorf("At(u=1) = %v, want %v", got, want)
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		name     string
		s        window.Settings
		lifetime time.Duration
		want     window.Settings
	}{
		{"unknown lifetime", window.Settings{}, 0, window.Settings{Width: time.Hour, Threshold: time.Hour}},
		{"fits", window.Settings{}, 24 * time.Hour, window.Settings{Width: time.Hour, Threshold: time.Hour}},
		{"exactly half", window.Settings{}, 4 * time.Hour, window.Settings{Width: time.Hour, Threshold: time.Hour}},
		{"10 minute token", window.Settings{}, 10 * time.Minute, window.Settings{Width: 150 * time.Second, Threshold: 150 * time.Second}},
		{"uneven", window.Settings{Width: 3 * time.Hour, Threshold: time.Hour}, 4 * time.Hour, window.Settings{Width: 90 * time.Minute, Threshold: 30 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Fit(tt.lifetime); got != tt.want {
				t.Errorf("Fit(%v) = %+v, want %+v", tt.lifetime, got, tt.want)
			}
		})
	}
	// A fitted window leaves a fresh token alone and refreshes it before
	// it expires.
	issued := expiry.Add(-10 * time.Minute)
	fit := window.Settings{}.Fit(10 * time.Minute)
	if got := window.Decide(issued, expiry, fit, always(0)); got != window.Keep {
		t.Errorf("fitted window, fresh token: %v, want keep", got)
	}
	if got := window.Decide(expiry.Add(-2*time.Minute), expiry, fit, always(0.99)); got != window.Refresh {
		t.Errorf("fitted window, 2 minutes left: %v, want refresh", got)
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[window.Decision]string{window.Keep: "keep", window.Refresh: "refresh", 7: "Decision(7)"} {
		if got := d.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestSpread simulates many instances that share one token and each check
// it every second, each with one draw for the token, as token.Source does.
// Their first refresh moments must cover the whole window evenly, not
// bunch at its end (nor at its start).
func TestSpread(t *testing.T) {
	const instances = 2000
	s := window.Settings{}
	start, end := s.Bounds(expiry)
	span := end.Add(-window.EndGuard).Sub(start)
	r := rand.New(rand.NewPCG(1, 2))
	const buckets = 10
	var counts [buckets]int
	for range instances {
		u := r.Float64()
		rnd := always(u)
		var first time.Time
		for now := start.Add(-time.Minute); ; now = now.Add(time.Second) {
			if window.Decide(now, expiry, s, rnd) == window.Refresh {
				first = now
				break
			}
		}
		if first.Before(start) || first.After(end) {
			t.Fatalf("refreshed at %v, outside the window [%v, %v]", first, start, end)
		}
		b := int(first.Sub(start) * buckets / (span + time.Second))
		counts[b]++
	}
	// Uniform: each tenth of the window expects 200; allow ±30%.
	for i, c := range counts {
		if c < instances/buckets*7/10 || c > instances/buckets*13/10 {
			t.Errorf("tenth %d of the window has %d first refreshes, want about %d; all: %v", i, c, instances/buckets, counts)
		}
	}
	// The earliest of many instances refreshes early: the window spreads
	// the work, and the first refresh, far from the end.
	t.Logf("first refreshes per tenth of the window: %v", counts)
}

// TestProbabilityGrows checks the per-check probability with a fresh draw
// at every check: it grows linearly across the window.
func TestProbabilityGrows(t *testing.T) {
	s := window.Settings{}
	start, end := s.Bounds(expiry)
	span := end.Add(-window.EndGuard).Sub(start)
	r := rand.New(rand.NewPCG(3, 4))
	for _, f := range []float64{0.1, 0.5, 0.9} {
		now := start.Add(time.Duration(f * float64(span)))
		n := 0
		const trials = 20000
		for range trials {
			if window.Decide(now, expiry, s, r.Float64) == window.Refresh {
				n++
			}
		}
		got := float64(n) / trials
		if got < f-0.02 || got > f+0.02 {
			t.Errorf("at fraction %v: refreshed %v of the checks, want about %v", f, got, f)
		}
	}
}

// lifetimes are the token lifetimes of the fitted-window tests: shorter
// than the 10-second guard, about it, a few times it, and the common hour.
var lifetimes = []time.Duration{5 * time.Second, 13 * time.Second, 40 * time.Second, time.Hour}

// TestFittedShortLifetimes simulates many instances that each check one
// token every thousandth of its life, with one draw each, under the
// default window fitted to the token. Whatever the lifetime, no instance
// refreshes in the first half of the token's life or after its expiry, and
// the instances' first refresh moments spread evenly over the window
// instead of falling on one moment.
func TestFittedShortLifetimes(t *testing.T) {
	const instances = 400
	for _, lifetime := range lifetimes {
		t.Run(lifetime.String(), func(t *testing.T) {
			issued := expiry.Add(-lifetime)
			s := window.Settings{}.Fit(lifetime)
			step := lifetime / 1000
			r := rand.New(rand.NewPCG(5, 6))
			earliest, latest := expiry, issued
			firsts := make([]time.Time, 0, instances)
			for range instances {
				u := r.Float64()
				first := expiry
				for now := issued; now.Before(expiry); now = now.Add(step) {
					if window.Decide(now, expiry, s, always(u)) == window.Refresh {
						first = now
						break
					}
				}
				if first.Before(issued.Add(lifetime / 2)) {
					t.Fatalf("u=%v: refreshed %v after the issue, within the first half of a %v life", u, first.Sub(issued), lifetime)
				}
				if !first.Before(expiry) {
					t.Fatalf("u=%v: no refresh before the expiry", u)
				}
				earliest, latest = minTime(earliest, first), maxTime(latest, first)
				firsts = append(firsts, first)
			}
			// Fit gives the window a quarter of the life, less the guard.
			if spread := latest.Sub(earliest); spread < lifetime/5 {
				t.Fatalf("first refreshes spread over %v, want at least a fifth of the %v life", spread, lifetime)
			}
			const buckets = 4
			var counts [buckets]int
			for _, first := range firsts {
				b := int(first.Sub(earliest) * buckets / (latest.Sub(earliest) + step))
				counts[b]++
			}
			for i, c := range counts {
				if c < instances/buckets*7/10 || c > instances/buckets*13/10 {
					t.Errorf("quarter %d of the window has %d first refreshes, want about %d; all: %v", i, c, instances/buckets, counts)
				}
			}
		})
	}
}

// TestGuardScales checks that the guard before the end of the window is a
// tenth of its width, at most EndGuard.
func TestGuardScales(t *testing.T) {
	for _, tt := range []struct {
		width, want time.Duration
	}{
		{time.Hour, window.EndGuard},
		{100 * time.Second, window.EndGuard},
		{50 * time.Second, 5 * time.Second},
		{2 * time.Second, 200 * time.Millisecond},
	} {
		s := window.Settings{Width: tt.width, Threshold: time.Minute}
		_, end := s.Bounds(expiry)
		if got := window.At(expiry, s, 1); !got.Equal(end.Add(-tt.want)) {
			t.Errorf("width %v: At(u=1) = end - %v, want end - %v", tt.width, end.Sub(got), tt.want)
		}
		if got := window.Decide(end.Add(-tt.want), expiry, s, never(t)); got != window.Refresh {
			t.Errorf("width %v: at the guard: %v, want refresh", tt.width, got)
		}
		if got := window.Decide(end.Add(-tt.want-tt.width/100), expiry, s, always(0.999)); got != window.Keep {
			t.Errorf("width %v: a hundredth of the width before the guard, draw 0.999: %v, want keep", tt.width, got)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestFitKeepsNone: a negative Width or Threshold means "none" (Settings'
// doc), and Fit keeps that meaning on every path: a window that already
// fits the token is returned with its "none" intact, not turned into a
// zero, which means the default hour.
func TestFitKeepsNone(t *testing.T) {
	for _, tt := range []struct {
		name     string
		s        window.Settings
		lifetime time.Duration
	}{
		{"no window at all", window.Settings{Width: -1, Threshold: -1}, time.Hour},
		{"no width, 5 min threshold", window.Settings{Width: -1, Threshold: 5 * time.Minute}, time.Hour},
		{"no threshold, 5 min width", window.Settings{Width: 5 * time.Minute, Threshold: -1}, time.Hour},
		{"no window, unknown lifetime", window.Settings{Width: -1, Threshold: -1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fit := tt.s.Fit(tt.lifetime)
			lifetime := tt.lifetime
			if lifetime <= 0 {
				lifetime = time.Hour
			}
			issued := expiry.Add(-lifetime)
			start, _ := fit.Bounds(expiry)
			if start.Before(issued.Add(lifetime / 2)) {
				t.Errorf("%+v.Fit(%v) = %+v: its window starts %v after the issue, in the first half of the token's life",
					tt.s, tt.lifetime, fit, start.Sub(issued))
			}
			// A fresh token is kept, whatever the draw.
			if got := window.Decide(issued, expiry, fit, always(0)); got != window.Keep {
				t.Errorf("%+v.Fit(%v) = %+v: a fresh token is %v, want keep", tt.s, tt.lifetime, fit, got)
			}
			// Fitting twice changes nothing.
			if again := fit.Fit(tt.lifetime); again != fit {
				t.Errorf("%+v.Fit(%v) = %+v, fitted again %+v", tt.s, tt.lifetime, fit, again)
			}
		})
	}
}
