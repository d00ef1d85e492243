package main

import (
	"testing"
)

// TestHeldOnlyWhenIdle: Found in review (issue 14): serve granted the
// measured invocations with grant(n), n sends on a channel of tokens, while
// the process's held next request was already released by the first one. If
// the process finished an invocation and asked for the next before grant
// had sent the rest (the bench goroutine preempted for a round trip's time
// on a loaded machine), next found no token, signalled a.held (its buffer
// empty: await had consumed the last signal) and then took the token grant
// sent next. The stale signal stayed in a.held while the process ran on,
// and the measured phase's await returned at once: serve read the "after"
// CPU clocks mid-run, and the run failed with "timed k invocations, want n"
// (or, had it ever matched, would have divided a part of the CPU time by
// n).
//
// The test plays that interleaving with grant(1) twice. Right: the API
// reports the process held only when it has used every invocation granted
// and waits for another; while an invocation granted is under way, no held
// signal is pending. The fix: next decides to signal under the lock, from
// counts of invocations granted and used; grant adds all n at once and
// drops a signal await has not taken.
func TestHeldOnlyWhenIdle(t *testing.T) {
	ev, err := loadEvent("", "hello")
	if err != nil {
		t.Fatal(err)
	}
	api, err := startRuntimeAPI(ev)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	c := client{base: "http://" + api.addr}
	p := fakeProcess{exited: make(chan struct{})}

	// The process is idle, its next held: await returns (the warm-up's end).
	first := make(chan invocation, 1)
	errs := make(chan error, 3)
	go func() {
		inv, err := c.next()
		if err != nil {
			errs <- err
			return
		}
		first <- inv
	}()
	if err := api.await(p, phaseTimeout(0)); err != nil {
		t.Fatal(err)
	}

	// grant(n) has sent its first token: the process runs invocation 1,
	// answers, and asks again before grant sends the second.
	api.grant(1)
	var inv invocation
	select {
	case inv = <-first:
	case err := <-errs:
		t.Fatal(err)
	}
	if err := c.post(inv.header.Get("Lambda-Runtime-Aws-Request-Id"), "response", `"ok"`); err != nil {
		t.Fatal(err)
	}
	second := make(chan invocation, 1)
	go func() {
		inv, err := c.next()
		if err != nil {
			errs <- err
			return
		}
		second <- inv
	}()
	// The process's next waits for a token: wait until the API has said so
	// (the signal the measured await would take), and put it back.
	<-api.held
	api.held <- struct{}{}

	// grant sends the rest; the process runs invocation 2.
	api.grant(1)
	select {
	case inv = <-second:
	case err := <-errs:
		t.Fatal(err)
	}

	api.mu.Lock()
	current := api.current
	api.mu.Unlock()
	select {
	case <-api.held:
		t.Errorf("the API signals the process held while invocation %s is under way: await returns before the process has used its invocations", current)
	default:
	}
}
