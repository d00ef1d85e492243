package flight

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startLeader starts a Do of key "k" whose fn blocks until release is closed
// and returns once fn is running.
func startLeader(t *testing.T, ctx context.Context, g *Group[int], fn func(context.Context) (int, error)) (started chan struct{}, out chan result) {
	t.Helper()
	started = make(chan struct{})
	out = make(chan result, 1)
	go func() {
		v, shared, err := g.Do(ctx, "k", func(ctx context.Context) (int, error) {
			close(started)
			return fn(ctx)
		})
		out <- result{v, err, shared}
	}()
	<-started
	return started, out
}

type result struct {
	v      int
	err    error
	shared bool
}

// waitFor starts a waiter of "k" and returns once it is registered as waiting.
func waiter(ctx context.Context, g *Group[int], fn func(context.Context) (int, error)) chan result {
	out := make(chan result, 1)
	go func() {
		v, shared, err := g.Do(ctx, "k", fn)
		out <- result{v, err, shared}
	}()
	return out
}

func recv(t *testing.T, c chan result) result {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Do did not return within 10s")
		return result{}
	}
}

func TestShared(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	var runs atomic.Int32
	fn := func(context.Context) (int, error) {
		runs.Add(1)
		<-release
		return 7, nil
	}
	_, lead := startLeader(t, context.Background(), &g, fn)
	w := waiter(context.Background(), &g, fn)
	waitWaiting(t, &g, 1)
	close(release)
	l, r := recv(t, lead), recv(t, w)
	if l.v != 7 || l.err != nil || l.shared {
		t.Errorf("leader got %+v, want 7, nil, not shared", l)
	}
	if r.v != 7 || r.err != nil || !r.shared {
		t.Errorf("waiter got %+v, want shared 7, nil", r)
	}
	if runs.Load() != 1 {
		t.Errorf("fn ran %d times, want 1", runs.Load())
	}
	if g.Running("k") {
		t.Error("Running after both returned")
	}
}

func TestLeaderFails(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	boom := errors.New("boom")
	var runs atomic.Int32
	fn := func(context.Context) (int, error) {
		runs.Add(1)
		<-release
		return 0, boom
	}
	_, lead := startLeader(t, context.Background(), &g, fn)
	w := waiter(context.Background(), &g, func(context.Context) (int, error) {
		t.Error("a waiter ran fn after a failure with a live leader context")
		return 0, nil
	})
	waitWaiting(t, &g, 1)
	close(release)
	if l := recv(t, lead); !errors.Is(l.err, boom) {
		t.Errorf("leader got %v, want boom", l.err)
	}
	if r := recv(t, w); !errors.Is(r.err, boom) || !r.shared {
		t.Errorf("waiter got %+v, want boom, shared", r)
	}
	if runs.Load() != 1 {
		t.Errorf("fn ran %d times, want 1", runs.Load())
	}
}

func TestLeaderCancelledWaiterTakesOver(t *testing.T) {
	var g Group[int]
	ctx, cancel := context.WithCancel(context.Background())
	_, lead := startLeader(t, ctx, &g, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	var second atomic.Int32
	w := waiter(context.Background(), &g, func(ctx context.Context) (int, error) {
		second.Add(1)
		if ctx.Err() != nil {
			t.Error("the taking-over waiter ran with a done context")
		}
		return 42, nil
	})
	waitWaiting(t, &g, 1)
	cancel()
	if l := recv(t, lead); !errors.Is(l.err, context.Canceled) {
		t.Errorf("leader got %v, want context.Canceled", l.err)
	}
	r := recv(t, w)
	if r.v != 42 || r.err != nil || r.shared {
		t.Errorf("waiter got %+v, want its own run's 42", r)
	}
	if second.Load() != 1 {
		t.Errorf("the waiter's fn ran %d times, want 1", second.Load())
	}
}

func TestLeaderCancelledButSucceeded(t *testing.T) {
	// fn finished with a value although the leader's context ended: the
	// value is good, the waiters share it.
	var g Group[int]
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	_, lead := startLeader(t, ctx, &g, func(context.Context) (int, error) {
		<-release
		return 5, nil
	})
	w := waiter(context.Background(), &g, func(context.Context) (int, error) {
		t.Error("waiter ran fn although the leader succeeded")
		return 0, nil
	})
	waitWaiting(t, &g, 1)
	cancel()
	close(release)
	recv(t, lead)
	if r := recv(t, w); r.v != 5 || r.err != nil || !r.shared {
		t.Errorf("waiter got %+v, want shared 5", r)
	}
}

func TestWaiterCancelled(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	_, lead := startLeader(t, context.Background(), &g, func(context.Context) (int, error) {
		<-release
		return 1, nil
	})
	cause := errors.New("deadline of this invocation")
	ctx, cancel := context.WithCancelCause(context.Background())
	w := waiter(ctx, &g, func(context.Context) (int, error) { return 0, nil })
	waitWaiting(t, &g, 1)
	cancel(cause)
	if r := recv(t, w); !errors.Is(r.err, cause) {
		t.Errorf("cancelled waiter got %v, want its own cause", r.err)
	}
	if !g.Running("k") {
		t.Error("the leader's run stopped when a waiter gave up")
	}
	close(release)
	if l := recv(t, lead); l.v != 1 || l.err != nil {
		t.Errorf("leader got %+v, want 1", l)
	}
}

func TestLeaderPanics(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	leaderPanic := make(chan any, 1)
	started := make(chan struct{})
	go func() {
		defer func() { leaderPanic <- recover() }()
		g.Do(context.Background(), "k", func(context.Context) (int, error) {
			close(started)
			<-release
			panic("bug")
		})
	}()
	<-started
	w := waiter(context.Background(), &g, func(context.Context) (int, error) {
		t.Error("waiter ran fn after a panic")
		return 0, nil
	})
	waitWaiting(t, &g, 1)
	close(release)
	select {
	case p := <-leaderPanic:
		if p != "bug" {
			t.Errorf("leader recovered %v, want the panic value re-raised", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("leader did not return")
	}
	if r := recv(t, w); !errors.Is(r.err, ErrPanicked) {
		t.Errorf("waiter got %v, want ErrPanicked", r.err)
	}
	// The key is free again.
	v, _, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 3, nil })
	if v != 3 || err != nil {
		t.Errorf("Do after a panic = %d, %v; want 3, nil", v, err)
	}
}

func TestKeysIndependent(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	_, lead := startLeader(t, context.Background(), &g, func(context.Context) (int, error) {
		<-release
		return 1, nil
	})
	v, shared, err := g.Do(context.Background(), "other", func(context.Context) (int, error) { return 2, nil })
	if v != 2 || err != nil || shared {
		t.Errorf("other key = %d, %v, %v; want its own 2", v, err, shared)
	}
	close(release)
	recv(t, lead)
}

func TestManyWaitersOneRun(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	var runs atomic.Int32
	fn := func(context.Context) (int, error) {
		runs.Add(1)
		<-release
		return 9, nil
	}
	_, lead := startLeader(t, context.Background(), &g, fn)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, shared, err := g.Do(context.Background(), "k", fn)
			if v != 9 || err != nil || !shared {
				errs <- errors.New("a waiter did not share the run")
			}
		}()
	}
	waitWaiting(t, &g, 50)
	close(release)
	recv(t, lead)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if runs.Load() != 1 {
		t.Errorf("fn ran %d times for 51 callers, want 1", runs.Load())
	}
}

// waitWaiting returns once n callers wait on the run of "k".
func waitWaiting(t *testing.T, g *Group[int], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.Waiting("k") < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers wait on k after 10s, want %d", g.Waiting("k"), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAbandonedRunEndedWaiterGetsOwnCause(t *testing.T) {
	// The leader is cut off and, at the same moment, the waiter's own
	// context has ended: the waiter returns its own cause, not the
	// leader's cancellation.
	var g Group[int]
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	release := make(chan struct{})
	_, lead := startLeader(t, leaderCtx, &g, func(ctx context.Context) (int, error) {
		<-release
		return 0, fmt.Errorf("the leader's fetch: %w", ctx.Err())
	})
	wctx := &lateDone{Context: context.Background()}
	w := waiter(wctx, &g, func(context.Context) (int, error) {
		t.Error("an ended waiter ran fn")
		return 0, nil
	})
	waitWaiting(t, &g, 1)
	// End the leader's run first; the waiter's context reports itself
	// ended only once the run's outcome is published.
	cancelLeader()
	wctx.end()
	close(release)
	recv(t, lead)
	if r := recv(t, w); r.err != context.Canceled {
		t.Errorf("waiter got %v, want its own context's error, not the leader's", r.err)
	}
}

// lateDone is a context whose Done channel never fires (so the waiter
// always sees the run's end first) but whose Err reports it ended once
// end is called.
type lateDone struct {
	context.Context
	mu    sync.Mutex
	ended bool
}

func (c *lateDone) end() {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
}

func (c *lateDone) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return context.Canceled
	}
	return nil
}

func TestLeadersOwnFailureNotShared(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	tooClose := errors.New("deadline too close for another try")
	_, lead := startLeader(t, context.Background(), &g, func(context.Context) (int, error) {
		<-release
		return 0, LeadersOwn(tooClose)
	})
	w := waiter(context.Background(), &g, func(context.Context) (int, error) { return 8, nil })
	waitWaiting(t, &g, 1)
	close(release)
	if l := recv(t, lead); l.err != tooClose {
		t.Errorf("leader got %v, want its own error without the mark", l.err)
	}
	if r := recv(t, w); r.v != 8 || r.err != nil || r.shared {
		t.Errorf("waiter got %+v, want its own run's 8", r)
	}
	if LeadersOwn(nil) != nil {
		t.Error("LeadersOwn(nil) != nil")
	}
}
