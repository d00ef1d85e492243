package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock whose time moves only when a test advances it or Do
// waits on it: After moves the time forward by d at once and returns a
// channel that has already fired. With hold set, After instead reports d on
// hold and returns a channel that never fires, so the test can act while Do
// waits.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time       // guards now and sleeps
	sleeps []time.Duration // every d passed to After
	hold   chan time.Duration
}

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: epoch} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	hold := f.hold
	if hold == nil {
		f.now = f.now.Add(d)
	}
	now := f.now
	f.mu.Unlock()
	if hold != nil {
		hold <- d
		return make(chan time.Time)
	}
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sleeps)
}

// deadlineCtx is a context whose deadline is on the fake clock: it reports
// the deadline but is never done because of it, so real time cannot make a
// test flaky.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func withFakeDeadline(ctx context.Context, f *fakeClock, d time.Duration) context.Context {
	return deadlineCtx{Context: ctx, deadline: f.Now().Add(d)}
}

func fixedRand(r float64) Option { return withRand(func() float64 { return r }) }

var (
	errTemp  = errors.New("temporary")
	errFatal = errors.New("fatal")
)

// failing returns an fn that fails with err on every try and counts the tries
// in *calls. Each try takes took on f.
func failing(f *fakeClock, took time.Duration, err error, calls *int) func(context.Context) (int, error) {
	return func(context.Context) (int, error) {
		*calls++
		f.Advance(took)
		return 0, err
	}
}

// delays records the delays Do announces through WithOnRetry.
type delays struct{ got []time.Duration }

func (d *delays) option() Option {
	return WithOnRetry(func(_ int, _ error, delay time.Duration) { d.got = append(d.got, delay) })
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var rerr *Error
	if !errors.As(err, &rerr) {
		t.Fatalf("error %v (%T) is not a *retry.Error", err, err)
	}
	return rerr
}

func TestDoTries(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		succeedAt int // the try that succeeds; 0: none
		wantCalls int
	}{
		{"default is two tries", nil, 0, 2},
		{"max tries 5", []Option{WithMaxTries(5)}, 0, 5},
		{"max tries 1", []Option{WithMaxTries(1)}, 0, 1},
		{"max tries 0 means 1", []Option{WithMaxTries(0)}, 0, 1},
		{"negative max tries means 1", []Option{WithMaxTries(-3)}, 0, 1},
		{"first try succeeds", nil, 1, 1},
		{"third of five succeeds", []Option{WithMaxTries(5)}, 3, 3},
		{"last try succeeds", []Option{WithMaxTries(4)}, 4, 4},
		{"later option wins", []Option{WithMaxTries(5), WithMaxTries(3)}, 0, 3},
		{"nil option ignored", []Option{nil, WithMaxTries(3)}, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			calls := 0
			fn := func(context.Context) (string, error) {
				calls++
				if calls == tt.succeedAt {
					return "ok", nil
				}
				return "partial", fmt.Errorf("try %d: %w", calls, errTemp)
			}
			opts := append([]Option{withClock(f), fixedRand(1)}, tt.opts...)
			got, err := Do(t.Context(), fn, opts...)
			if calls != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tt.wantCalls)
			}
			if tt.succeedAt != 0 {
				if err != nil || got != "ok" {
					t.Errorf("Do = %q, %v, want \"ok\", nil", got, err)
				}
				return
			}
			if got != "" {
				t.Errorf("Do value = %q on failure, want the zero value", got)
			}
			rerr := asError(t, err)
			if rerr.Attempts != tt.wantCalls {
				t.Errorf("Attempts = %d, want %d", rerr.Attempts, tt.wantCalls)
			}
			if !errors.Is(err, errTemp) {
				t.Errorf("errors.Is(%v, errTemp) = false, want true", err)
			}
			if want := fmt.Sprintf("try %d: temporary", tt.wantCalls); rerr.Err.Error() != want {
				t.Errorf("Err = %q, want the last error %q", rerr.Err, want)
			}
			if rerr.Reason != nil {
				t.Errorf("Reason = %v, want nil when the tries run out", rerr.Reason)
			}
		})
	}
}

func TestDoBackoff(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name  string
		opts  []Option
		rand  float64
		tries int
		want  []time.Duration
	}{
		{"defaults at the cap", nil, 1, 10,
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 5000 * ms, 5000 * ms}},
		{"defaults at half the cap", nil, 0.5, 5,
			[]time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms}},
		{"rand 0 never waits", nil, 0, 4, []time.Duration{0, 0, 0}},
		{"custom backoff", []Option{WithBackoff(10*ms, 50*ms)}, 1, 6,
			[]time.Duration{10 * ms, 20 * ms, 40 * ms, 50 * ms, 50 * ms}},
		{"custom backoff at a quarter", []Option{WithBackoff(10*ms, 50*ms)}, 0.25, 5,
			[]time.Duration{2500 * time.Microsecond, 5 * ms, 10 * ms, 12500 * time.Microsecond}},
		{"max below initial is raised", []Option{WithBackoff(30*ms, 10*ms)}, 1, 4,
			[]time.Duration{30 * ms, 30 * ms, 30 * ms}},
		{"zero backoff retries at once", []Option{WithBackoff(0, 0)}, 1, 4, []time.Duration{0, 0, 0}},
		{"negative initial is zero", []Option{WithBackoff(-ms, 0)}, 1, 3, []time.Duration{0, 0}},
		{"rand above 1 is clamped", nil, 7, 3, []time.Duration{100 * ms, 200 * ms}},
		{"rand below 0 is clamped", nil, -1, 3, []time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			var d delays
			calls := 0
			opts := append([]Option{withClock(f), fixedRand(tt.rand), d.option(), WithMaxTries(tt.tries)}, tt.opts...)
			_, err := Do(t.Context(), failing(f, 0, errTemp, &calls), opts...)
			if err == nil {
				t.Fatal("Do succeeded, want an error")
			}
			if !slices.Equal(d.got, tt.want) {
				t.Errorf("delays = %v, want %v", d.got, tt.want)
			}
			var waited []time.Duration
			for _, w := range tt.want {
				if w > 0 {
					waited = append(waited, w)
				}
			}
			if got := f.Sleeps(); !slices.Equal(got, waited) {
				t.Errorf("waits on the clock = %v, want %v", got, waited)
			}
		})
	}
}

func TestDoJitterWithinBounds(t *testing.T) {
	// The real random source: every delay lies in [0, cap], the cap doubling
	// from initial to max.
	const initial, maxDelay = 10 * time.Millisecond, 300 * time.Millisecond
	for run := range 50 {
		f := newFakeClock()
		var d delays
		calls := 0
		_, _ = Do(t.Context(), failing(f, 0, errTemp, &calls),
			withClock(f), d.option(), WithMaxTries(10), WithBackoff(initial, maxDelay))
		if len(d.got) != 9 {
			t.Fatalf("run %d: %d delays, want 9", run, len(d.got))
		}
		ceiling := initial
		for i, got := range d.got {
			if got < 0 || got > ceiling {
				t.Errorf("run %d: delay before try %d = %v, want within [0, %v]", run, i+2, got, ceiling)
			}
			ceiling = min(2*ceiling, maxDelay)
		}
	}
}

func TestCeilingAndJitterExtremes(t *testing.T) {
	c := config{initial: math.MaxInt64 / 3, max: math.MaxInt64}
	if got := c.ceiling(1); got != math.MaxInt64/3 {
		t.Errorf("ceiling(1) = %v, want initial", got)
	}
	if got := c.ceiling(3); got != math.MaxInt64 {
		t.Errorf("ceiling(3) = %v, want max without overflow", got)
	}
	c = config{initial: time.Nanosecond, max: time.Hour}
	if got := c.ceiling(math.MaxInt); got != time.Hour {
		t.Errorf("ceiling(MaxInt) = %v, want %v", got, time.Hour)
	}
	c = config{initial: 0, max: 0}
	if got := c.ceiling(math.MaxInt); got != 0 {
		t.Errorf("ceiling(MaxInt) with zero backoff = %v, want 0", got)
	}
	for _, ceiling := range []time.Duration{1, math.MaxInt64} {
		if got := c.jitter(ceiling); got < 0 || got > ceiling {
			t.Errorf("jitter(%v) = %v, want within [0, %v]", ceiling, got, ceiling)
		}
	}
}

func TestDoPermanent(t *testing.T) {
	wrapped := fmt.Errorf("get item: %w", Permanent(errFatal))
	tests := []struct {
		name      string
		errs      []error // error of each try; the last repeats
		wantCalls int
		wantErr   error // want *Error.Err to be this very error
	}{
		{"first try", []error{Permanent(errFatal)}, 1, errFatal},
		{"after a temporary error", []error{errTemp, Permanent(errFatal)}, 2, errFatal},
		{"wrapped mark stays in place", []error{wrapped}, 1, wrapped},
		{"marked twice", []error{Permanent(Permanent(errFatal))}, 1, errFatal},
		{"beats retry after", []error{Permanent(RetryAfter(time.Second, errFatal))}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			calls := 0
			fn := func(context.Context) (int, error) {
				calls++
				return 0, tt.errs[min(calls, len(tt.errs))-1]
			}
			_, err := Do(t.Context(), fn, withClock(f), fixedRand(1), WithMaxTries(5))
			if calls != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tt.wantCalls)
			}
			rerr := asError(t, err)
			if rerr.Attempts != tt.wantCalls {
				t.Errorf("Attempts = %d, want %d", rerr.Attempts, tt.wantCalls)
			}
			if tt.wantErr != nil && rerr.Err != tt.wantErr {
				t.Errorf("Err = %#v, want %#v", rerr.Err, tt.wantErr)
			}
			if !errors.Is(err, errFatal) {
				t.Errorf("errors.Is(%v, errFatal) = false, want true", err)
			}
			if rerr.Reason != nil {
				t.Errorf("Reason = %v, want nil", rerr.Reason)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	if got := Permanent(nil); got != nil {
		t.Errorf("Permanent(nil) = %v, want nil", got)
	}
	err := Permanent(errFatal)
	if err.Error() != errFatal.Error() {
		t.Errorf("Permanent(err).Error() = %q, want %q", err.Error(), errFatal.Error())
	}
	if !errors.Is(err, errFatal) {
		t.Error("errors.Is(Permanent(err), err) = false, want true")
	}
	if Permanent(err) != err {
		t.Error("Permanent(Permanent(err)) is a new wrapper, want the same error")
	}
}

func TestDoRetryAfter(t *testing.T) {
	s := time.Second
	tests := []struct {
		name       string
		err        error
		took       time.Duration // each try's duration
		deadline   time.Duration // 0: none
		tries      int
		wantDelays []time.Duration
		wantReason error
	}{
		{"honoured instead of jitter", RetryAfter(3*s, errTemp), 0, 0, 2, []time.Duration{3 * s}, nil},
		{"beyond the max backoff", RetryAfter(30*s, errTemp), 0, 0, 3, []time.Duration{30 * s, 30 * s}, nil},
		{"wrapped", fmt.Errorf("get: %w", RetryAfter(2*s, errTemp)), 0, 0, 2, []time.Duration{2 * s}, nil},
		{"negative is zero", RetryAfter(-s, errTemp), 0, 0, 2, []time.Duration{0}, nil},
		{"fits before the deadline", RetryAfter(3*s, errTemp), 0, 10 * s, 3, []time.Duration{3 * s, 3 * s}, nil},
		{"reaches the deadline", RetryAfter(10*s, errTemp), 0, 10 * s, 3, nil, ErrDeadline},
		{"past the deadline", RetryAfter(time.Hour, errTemp), 0, 10 * s, 3, nil, ErrDeadline},
		// Try 1 ends at 1s; 8s + an estimated 1s for try 2 reaches 10s.
		{"with the try's time reaches the deadline", RetryAfter(8*s, errTemp), s, 10 * s, 3, nil, ErrDeadline},
		// Try 2 ends at 9.5s; 7.5s more cannot fit.
		{"fits once", RetryAfter(7500*time.Millisecond, errTemp), s, 10 * s, 3,
			[]time.Duration{7500 * time.Millisecond}, ErrDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			ctx := t.Context()
			if tt.deadline > 0 {
				ctx = withFakeDeadline(ctx, f, tt.deadline)
			}
			var d delays
			calls := 0
			_, err := Do(ctx, failing(f, tt.took, tt.err, &calls),
				withClock(f), fixedRand(0.5), d.option(), WithMaxTries(tt.tries))
			if !slices.Equal(d.got, tt.wantDelays) {
				t.Errorf("delays = %v, want %v", d.got, tt.wantDelays)
			}
			rerr := asError(t, err)
			if rerr.Reason != tt.wantReason {
				t.Errorf("Reason = %v, want %v", rerr.Reason, tt.wantReason)
			}
			if rerr.Attempts != len(tt.wantDelays)+1 {
				t.Errorf("Attempts = %d, want %d", rerr.Attempts, len(tt.wantDelays)+1)
			}
			if rerr.Err != tt.err {
				t.Errorf("Err = %v, want fn's error unchanged", rerr.Err)
			}
			var ra *RetryAfterError
			if !errors.As(err, &ra) || !errors.Is(err, errTemp) {
				t.Errorf("errors.As(*RetryAfterError), errors.Is(errTemp) do not both hold for %v", err)
			}
			if tt.deadline > 0 && f.Now().After(epoch.Add(tt.deadline)) {
				t.Errorf("Do ran until %v past the start, past the deadline %v", f.Now().Sub(epoch), tt.deadline)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	if got := RetryAfter(time.Second, nil); got != nil {
		t.Errorf("RetryAfter(d, nil) = %v, want nil", got)
	}
	err := RetryAfter(2*time.Second, errTemp)
	if err.Error() != errTemp.Error() {
		t.Errorf("Error() = %q, want %q", err.Error(), errTemp.Error())
	}
	var ra *RetryAfterError
	if !errors.As(err, &ra) || ra.Delay != 2*time.Second || ra.Err != errTemp {
		t.Errorf("errors.As gives %#v, want Delay 2s and Err errTemp", ra)
	}
	if got, want := (&RetryAfterError{Delay: time.Second}).Error(), "retry: retry after 1s"; got != want {
		t.Errorf("Error() with no Err = %q, want %q", got, want)
	}
}

func TestDoDeadline(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name       string
		opts       []Option
		took       []time.Duration // each try's duration; the last repeats
		rand       float64
		deadline   time.Duration
		wantDelays []time.Duration
		wantReason error
	}{
		// Delays at the cap: 100, 200, 400, 800ms. Instant tries: 100+200+400
		// = 700ms fit in 1s, 800 more does not.
		{"stops before the wait that would pass it", nil, []time.Duration{0}, 1, time.Second,
			[]time.Duration{100 * ms, 200 * ms, 400 * ms}, ErrDeadline},
		// Each try takes 250ms: tries end at 0.25, 0.6, 1.05 and 1.7s; then
		// 800ms + 250ms more would pass 2s.
		{"counts the tries' own time", nil, []time.Duration{250 * ms}, 1, 2 * time.Second,
			[]time.Duration{100 * ms, 200 * ms, 400 * ms}, ErrDeadline},
		// Try 1 takes 2s. 2s +100ms +2s = 4.1s < 5s; try 2 ends at 4.1s and
		// 200ms + 2s more would pass 5s.
		{"slowest try estimates the next", nil, []time.Duration{2 * time.Second}, 1, 5 * time.Second,
			[]time.Duration{100 * ms}, ErrDeadline},
		// Try 1 takes 3s, later ones 10ms, but the estimate stays 3s:
		// 3 + 0.1 + 3 < 6.2s; try 2 ends at 3.11s and 3.11 + 0.2 + 3 > 6.2s,
		// where an estimate of 10ms would have retried.
		{"estimate is the slowest, not the last", nil, []time.Duration{3 * time.Second, 10 * ms}, 1, 6200 * ms,
			[]time.Duration{100 * ms}, ErrDeadline},
		// Instant tries, min attempt time 1s: 0.1+1 < 1.5 and 0.3+1 < 1.5,
		// then try 3 at 0.3s: 0.3+0.4+1 > 1.5.
		{"min attempt time", []Option{WithMinAttemptTime(time.Second)}, []time.Duration{0}, 1, 1500 * ms,
			[]time.Duration{100 * ms, 200 * ms}, ErrDeadline},
		// Tries of 400ms beat a min attempt time of 100ms: 0.4+0.1+0.4 < 1.5,
		// then 0.9+0.2+0.4 = 1.5 reaches it.
		{"slowest try beats min attempt time", []Option{WithMinAttemptTime(100 * ms)}, []time.Duration{400 * ms}, 1, 1500 * ms,
			[]time.Duration{100 * ms}, ErrDeadline},
		{"negative min attempt time is zero", []Option{WithMinAttemptTime(-time.Hour)}, []time.Duration{0}, 1, time.Second,
			[]time.Duration{100 * ms, 200 * ms, 400 * ms}, ErrDeadline},
		{"first try uses it all", nil, []time.Duration{time.Second}, 0, time.Second, nil, ErrDeadline},
		{"far deadline leaves the tries to run out", nil, []time.Duration{0}, 1, time.Hour,
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			ctx := withFakeDeadline(t.Context(), f, tt.deadline)
			var d delays
			calls := 0
			fn := func(context.Context) (int, error) {
				calls++
				f.Advance(tt.took[min(calls, len(tt.took))-1])
				return 0, fmt.Errorf("try %d: %w", calls, errTemp)
			}
			opts := append([]Option{withClock(f), fixedRand(tt.rand), d.option(), WithMaxTries(8)}, tt.opts...)
			_, err := Do(ctx, fn, opts...)
			if !slices.Equal(d.got, tt.wantDelays) {
				t.Errorf("delays = %v, want %v", d.got, tt.wantDelays)
			}
			rerr := asError(t, err)
			if rerr.Reason != tt.wantReason {
				t.Errorf("Reason = %v, want %v", rerr.Reason, tt.wantReason)
			}
			if want := len(tt.wantDelays) + 1; rerr.Attempts != want || calls != want {
				t.Errorf("Attempts = %d and %d calls, want %d", rerr.Attempts, calls, want)
			}
			if want := fmt.Sprintf("try %d: temporary", calls); rerr.Err == nil || rerr.Err.Error() != want {
				t.Errorf("Err = %v, want the last error %q", rerr.Err, want)
			}
			if tt.wantReason == ErrDeadline && !errors.Is(err, ErrDeadline) {
				t.Errorf("errors.Is(%v, ErrDeadline) = false, want true", err)
			}
			if !errors.Is(err, errTemp) {
				t.Errorf("errors.Is(%v, errTemp) = false, want true", err)
			}
			if end := epoch.Add(tt.deadline); f.Now().After(end) {
				t.Errorf("Do ran %v past the deadline", f.Now().Sub(end))
			}
		})
	}
}

// TestDoNeverWaitsPastDeadline checks, over a grid of deadlines, jitter and
// try durations, that every try Do starts after a wait ends before the
// deadline when tries take as long as the slowest so far.
func TestDoNeverWaitsPastDeadline(t *testing.T) {
	for _, deadline := range []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, time.Second, 3 * time.Second, 10 * time.Second} {
		for _, r := range []float64{0, 0.25, 0.5, 0.75, 1} {
			for _, took := range []time.Duration{0, 10 * time.Millisecond, 40 * time.Millisecond} {
				f := newFakeClock()
				end := epoch.Add(deadline)
				ctx := withFakeDeadline(t.Context(), f, deadline)
				retries := 0
				calls := 0
				fn := func(context.Context) (int, error) {
					calls++
					f.Advance(took)
					if calls > 1 && !f.Now().Before(end) {
						t.Errorf("deadline %v, rand %v, took %v: try %d ended %v after the deadline",
							deadline, r, took, calls, f.Now().Sub(end))
					}
					return 0, errTemp
				}
				_, err := Do(ctx, fn, withClock(f), fixedRand(r), WithMaxTries(50),
					WithOnRetry(func(int, error, time.Duration) { retries++ }))
				rerr := asError(t, err)
				if retries != rerr.Attempts-1 {
					t.Errorf("%d retries announced for %d attempts, want one fewer", retries, rerr.Attempts)
				}
				if rerr.Reason == nil && rerr.Attempts != 50 {
					t.Errorf("stopped after %d attempts with no reason", rerr.Attempts)
				}
			}
		}
	}
}

func TestDoCancelDuringWait(t *testing.T) {
	f := newFakeClock()
	f.hold = make(chan time.Duration)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-f.hold // Do is waiting
		cancel()
	}()
	calls := 0
	_, err := Do(ctx, failing(f, 0, errTemp, &calls), withClock(f), fixedRand(1), WithMaxTries(5))
	<-done
	if calls != 1 {
		t.Errorf("fn called %d times, want 1", calls)
	}
	rerr := asError(t, err)
	if rerr.Attempts != 1 || rerr.Err != errTemp || rerr.Reason != context.Canceled {
		t.Errorf("Do error = %#v, want 1 attempt, errTemp, context.Canceled", rerr)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errTemp) {
		t.Errorf("errors.Is(%v, ...) misses context.Canceled or errTemp", err)
	}
}

func TestDoCancelRealTimer(t *testing.T) {
	// With the real clock and an hour-long backoff, a cancel must end the wait
	// at once.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	start := time.Now()
	_, err := Do(ctx, func(context.Context) (int, error) { return 0, errTemp },
		WithBackoff(time.Hour, time.Hour), WithMaxTries(3),
		WithOnRetry(func(int, error, time.Duration) { cancel() }))
	if elapsed := time.Since(start); elapsed > time.Minute {
		t.Errorf("Do took %v after the cancel", elapsed)
	}
	if rerr := asError(t, err); rerr.Attempts != 1 || rerr.Reason != context.Canceled {
		t.Errorf("Do error = %#v, want 1 attempt and context.Canceled", rerr)
	}
}

func TestDoContextDone(t *testing.T) {
	tests := []struct {
		name       string
		fn         func(ctx context.Context, cancel context.CancelFunc) error
		wantCalls  int
		wantReason error
	}{
		{"fn returns the ctx's error", func(ctx context.Context, cancel context.CancelFunc) error {
			cancel()
			return ctx.Err()
		}, 1, context.Canceled},
		{"ctx done with another error", func(_ context.Context, cancel context.CancelFunc) error {
			cancel()
			return errTemp
		}, 1, context.Canceled},
		{"a try's own timeout is retried", func(ctx context.Context, _ context.CancelFunc) error {
			tctx, tcancel := context.WithTimeout(ctx, 0)
			defer tcancel()
			<-tctx.Done()
			return fmt.Errorf("call: %w", tctx.Err())
		}, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			calls, retries := 0, 0
			_, err := Do(ctx, func(ctx context.Context) (int, error) {
				calls++
				return 0, tt.fn(ctx, cancel)
			}, withClock(f), fixedRand(1), WithMaxTries(3),
				WithRetryIf(func(error) bool { return true }),
				WithOnRetry(func(int, error, time.Duration) { retries++ }))
			if calls != tt.wantCalls || retries != tt.wantCalls-1 {
				t.Errorf("%d calls and %d retries, want %d and %d", calls, retries, tt.wantCalls, tt.wantCalls-1)
			}
			if rerr := asError(t, err); rerr.Reason != tt.wantReason {
				t.Errorf("Reason = %v, want %v", rerr.Reason, tt.wantReason)
			}
		})
	}
}

func TestDoRetryIf(t *testing.T) {
	onlyTemp := func(err error) bool { return errors.Is(err, errTemp) }
	tests := []struct {
		name      string
		retryIf   func(error) bool
		err       error
		wantCalls int
	}{
		{"default retries any error", nil, errFatal, 4},
		{"retryable", onlyTemp, fmt.Errorf("wrapped: %w", errTemp), 4},
		{"not retryable", onlyTemp, errFatal, 1},
		{"never", func(error) bool { return false }, errTemp, 1},
		{"permanent beats the classifier", func(error) bool { return true }, Permanent(errTemp), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			calls, asked := 0, 0
			opts := []Option{withClock(f), fixedRand(1), WithMaxTries(4)}
			if tt.retryIf != nil {
				opts = append(opts, WithRetryIf(func(err error) bool {
					asked++
					if err != tt.err {
						t.Errorf("classifier got %v, want fn's error %v", err, tt.err)
					}
					return tt.retryIf(err)
				}))
			}
			_, err := Do(t.Context(), failing(f, 0, tt.err, &calls), opts...)
			if calls != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tt.wantCalls)
			}
			// Not asked on the last try, nor about a permanent error.
			wantAsked := min(calls, 3)
			if tt.retryIf == nil || errors.As(tt.err, new(*permanentError)) {
				wantAsked = 0
			}
			if asked != wantAsked {
				t.Errorf("classifier asked %d times, want %d", asked, wantAsked)
			}
			if rerr := asError(t, err); rerr.Reason != nil {
				t.Errorf("Reason = %v, want nil", rerr.Reason)
			}
		})
	}
}

func TestDoOnRetry(t *testing.T) {
	type call struct {
		attempt int
		err     string
		delay   time.Duration
	}
	f := newFakeClock()
	var got []call
	tries := 0
	_, err := Do(t.Context(), func(context.Context) (int, error) {
		tries++
		if tries == 2 {
			return 0, RetryAfter(7*time.Second, fmt.Errorf("busy %d", tries))
		}
		return 0, fmt.Errorf("fail %d", tries)
	}, withClock(f), fixedRand(0.5), WithMaxTries(4),
		WithOnRetry(func(attempt int, err error, delay time.Duration) {
			got = append(got, call{attempt, err.Error(), delay})
		}))
	want := []call{
		{1, "fail 1", 50 * time.Millisecond},
		{2, "busy 2", 7 * time.Second},
		{3, "fail 3", 200 * time.Millisecond},
	}
	if !slices.Equal(got, want) {
		t.Errorf("OnRetry calls = %v, want %v", got, want)
	}
	if rerr := asError(t, err); rerr.Attempts != 4 || rerr.Err.Error() != "fail 4" {
		t.Errorf("Do error = %v, want 4 attempts ending with \"fail 4\"", err)
	}
}

func TestDoConcurrent(t *testing.T) {
	// One set of options shared by many goroutines, under -race.
	opts := []Option{WithMaxTries(3), WithBackoff(0, 0), WithRetryIf(func(err error) bool { return errors.Is(err, errTemp) })}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			calls := 0
			got, err := Do(t.Context(), func(context.Context) (int, error) {
				calls++
				if calls < 2 {
					return 0, errTemp
				}
				return i, nil
			}, opts...)
			if got != i || err != nil || calls != 2 {
				t.Errorf("goroutine %d: Do = %d, %v after %d calls, want %d, nil after 2", i, got, err, calls, i)
			}
		})
	}
	wg.Wait()
}

func TestError(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
		is   []error
	}{
		{"one attempt", &Error{Attempts: 1, Err: errFatal}, "retry: after 1 attempt: fatal", []error{errFatal}},
		{"tries ran out", &Error{Attempts: 3, Err: errTemp}, "retry: after 3 attempts: temporary", []error{errTemp}},
		{"deadline", &Error{Attempts: 2, Err: errTemp, Reason: ErrDeadline},
			"retry: after 2 attempts, deadline too close for another attempt: temporary", []error{errTemp, ErrDeadline}},
		{"cancelled", &Error{Attempts: 2, Err: errTemp, Reason: context.Canceled},
			"retry: after 2 attempts, context canceled: temporary", []error{errTemp, context.Canceled}},
		{"no error", &Error{Attempts: 1, Reason: context.DeadlineExceeded},
			"retry: after 1 attempt, context deadline exceeded", []error{context.DeadlineExceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			for _, target := range tt.is {
				if !errors.Is(tt.err, target) {
					t.Errorf("errors.Is(%v, %v) = false, want true", tt.err, target)
				}
			}
		})
	}
}

// TestDoRetryAfterDefaultCap: a server's delay far beyond any sane wait,
// with no deadline to stop it, ends the retries at once instead of holding
// the call for a day.
func TestDoRetryAfterDefaultCap(t *testing.T) {
	for _, asked := range []time.Duration{24 * time.Hour, math.MaxInt64} {
		t.Run(asked.String(), func(t *testing.T) {
			f := newFakeClock()
			calls := 0
			_, err := Do(t.Context(), failing(f, 0, RetryAfter(asked, errTemp), &calls), withClock(f), WithMaxTries(3))
			if sleeps := f.Sleeps(); len(sleeps) != 0 {
				t.Errorf("Do waited %v, want no wait", sleeps)
			}
			if calls != 1 {
				t.Errorf("got %d tries, want 1", calls)
			}
			rerr := asError(t, err)
			if rerr.Reason != ErrRetryAfterTooLong || !errors.Is(err, errTemp) {
				t.Errorf("got %v (Reason %v), want fn's error and ErrRetryAfterTooLong", err, rerr.Reason)
			}
		})
	}
}

func TestDoMaxRetryAfter(t *testing.T) {
	s := time.Second
	tests := []struct {
		name       string
		opts       []Option
		asked      time.Duration
		deadline   time.Duration // 0: none
		wantDelays []time.Duration
		wantReason error
	}{
		{"default cap itself is waited", nil, DefaultMaxRetryAfter, 0, []time.Duration{DefaultMaxRetryAfter, DefaultMaxRetryAfter}, nil},
		{"just over the default cap", nil, DefaultMaxRetryAfter + 1, 0, nil, ErrRetryAfterTooLong},
		{"a day within a far deadline", nil, 24 * time.Hour, 48 * time.Hour, nil, ErrRetryAfterTooLong},
		{"the deadline is checked first", nil, time.Hour, 10 * s, nil, ErrDeadline},
		{"a raised cap", []Option{WithMaxRetryAfter(2 * time.Hour)}, time.Hour, 0, []time.Duration{time.Hour, time.Hour}, nil},
		{"a lowered cap", []Option{WithMaxRetryAfter(5 * s)}, 6 * s, 0, nil, ErrRetryAfterTooLong},
		{"a cap of 0 still honours 0", []Option{WithMaxRetryAfter(0)}, 0, 0, []time.Duration{0, 0}, nil},
		{"a negative cap counts as 0", []Option{WithMaxRetryAfter(-s)}, s, 0, nil, ErrRetryAfterTooLong},
		{"backoff is not capped by it", []Option{WithMaxRetryAfter(0), WithBackoff(4*s, 4*s)}, -1, 0, []time.Duration{2 * s, 2 * s}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClock()
			ctx := t.Context()
			if tt.deadline > 0 {
				ctx = withFakeDeadline(ctx, f, tt.deadline)
			}
			err := error(RetryAfter(tt.asked, errTemp))
			if tt.asked < 0 {
				err = errTemp // no delay asked for: the backoff's
			}
			var d delays
			calls := 0
			opts := append([]Option{withClock(f), fixedRand(0.5), d.option(), WithMaxTries(3)}, tt.opts...)
			_, err = Do(ctx, failing(f, 0, err, &calls), opts...)
			// Do waits on the clock only for a delay over 0.
			wantWaits := slices.DeleteFunc(slices.Clone(tt.wantDelays), func(d time.Duration) bool { return d == 0 })
			if !slices.Equal(d.got, tt.wantDelays) || !slices.Equal(f.Sleeps(), wantWaits) {
				t.Errorf("delays = %v, waits %v, want %v", d.got, f.Sleeps(), tt.wantDelays)
			}
			rerr := asError(t, err)
			if rerr.Reason != tt.wantReason {
				t.Errorf("Reason = %v, want %v", rerr.Reason, tt.wantReason)
			}
			if calls != len(tt.wantDelays)+1 {
				t.Errorf("got %d tries, want %d", calls, len(tt.wantDelays)+1)
			}
		})
	}
}
