package attempt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestBound(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	const limit = 10 * time.Second
	for _, tc := range []struct {
		name string
		left time.Duration // 0: no deadline
		want time.Duration
	}{
		{"no deadline", 0, limit},
		{"a minute left", time.Minute, limit},
		{"10 s left", 10 * time.Second, 7500 * time.Millisecond},
		{"2 s left", 2 * time.Second, 1500 * time.Millisecond},
		{"1.2 s left: the floor", 1200 * time.Millisecond, Floor},
		{"1.001 s left: the floor", 1001 * time.Millisecond, Floor},
		{"1 s left: none", time.Second, 0},
		{"300 ms left: none", 300 * time.Millisecond, 0},
		{"passed: none", -time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.left != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, now.Add(tc.left))
				defer cancel()
			}
			if got := Bound(ctx, now, limit); got != tc.want {
				t.Errorf("Bound with %v left = %v, want %v", tc.left, got, tc.want)
			}
		})
	}
}

func TestEndedByCaller(t *testing.T) {
	cause := errors.New("the invocation's budget ran out")
	ended, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	live := context.Background()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"nil error", ended, nil, false},
		{"live caller", live, context.Canceled, false},
		{"the caller's error", ended, fmt.Errorf("get: %w", context.Canceled), true},
		{"the caller's cause (net/http returns it)", ended, fmt.Errorf("get: %w", cause), true},
		{"another error after the caller ended", ended, errors.New("503"), false},
		{"a timeout of the call's own", ended, context.DeadlineExceeded, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EndedByCaller(tc.ctx, tc.err); got != tc.want {
				t.Errorf("EndedByCaller = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEnded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	// A deadline in the real future that the given clock has reached: the
	// socket's view, before ctx's own timer fires.
	later, stop := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
	defer stop()
	dl, _ := later.Deadline()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		now  time.Time
		want bool
	}{
		{"no deadline", context.Background(), now, false},
		{"cancelled", cancelled, now, true},
		{"deadline ahead", later, dl.Add(-time.Millisecond), false},
		{"deadline reached by the clock", later, dl, true},
		{"deadline passed by the clock", later, dl.Add(time.Millisecond), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Ended(tc.ctx, tc.now); got != tc.want {
				t.Errorf("Ended = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPause(t *testing.T) {
	if !Pause(context.Background(), time.Millisecond) {
		t.Error("a free wait was not waited")
	}
	short, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if Pause(short, 2*time.Hour) {
		t.Error("a wait past the deadline was waited")
	}
	ended, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if Pause(ended, time.Hour) {
		t.Error("a wait on an ended ctx reported whole")
	}
}
