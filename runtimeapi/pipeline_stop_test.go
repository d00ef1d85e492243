package runtimeapi

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/fakeruntime"
)

// TestPipelineStopBeforeRetry (found in review of the pipelined next, issue
// 14).
//
// What is wrong: respond and fail compute the pipelined next (nextRequest,
// which gives nil once the loop is stopping) once, before the first
// attempt, and exchange sends that same tail with every attempt. When ctx
// ends while the post waits for its answer and the connection then breaks,
// the post is sent again on a new connection with a next after it, though
// the loop is stopping: it asks for an invocation it will not run, and
// hangs up on it when Run returns. Lambda's Runtime API does not drop a
// parked next whose connection closed (the emulator's classic Runtime API
// leaves its handler waiting in Ready and writes the next invocation to the
// dead connection; its Managed Instances mode leaves it in the pool of idle
// runtimes), so an invocation can go to it and fail.
//
// What is right: each attempt asks nextRequest again, so that a retry made
// after stop carries no next: the loop posts r1's response and closes the
// connection.
//
// (A stop that arrives while the first attempt waits for its answer has
// already sent its next; that one cannot be taken back. It is the same
// hang-up as a loop stopped while it waits in next, but Run's doc, "stops
// before asking for another", no longer holds for it and should say so.)
func TestPipelineStopBeforeRetry(t *testing.T) {
	t.Parallel()
	s := startWire(t)
	l := &loop{
		h:       okHandler{out: []byte(`"ok"`)},
		c:       newClient(s.addr()),
		log:     slog.New(slog.DiscardHandler),
		nextURL: wireNext,
	}
	done := make(chan error, 1)
	go func() { done <- l.run(context.Background()) }()

	c1 := s.accept()
	c1.must("GET", wireNext)
	c1.write(invocationAnswer("r1", `{}`))
	c1.must("POST", wirePost("r1", "response"))
	l.stop()      // Run's ctx ends (its AfterFunc calls stop) while the post waits for its answer
	c1.nc.Close() // and the connection breaks before the answer: the post is sent again

	c2 := s.accept()
	c2.must("POST", wirePost("r1", "response"))
	c2.write(statusAnswer(202, wireAccepted))
	if r := c2.read(); r.err == nil {
		t.Errorf("the loop, stopped before it sent its post again, sent %s %s after it; want no next (the connection closed)", r.method, r.path)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v, want nil", err)
		}
	case <-time.After(fakeruntime.WaitTimeout):
		t.Fatalf("run did not return within %v of stop", fakeruntime.WaitTimeout)
	}
}
