package runtimeapi

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// wireFailing fails every invocation.
type wireFailing struct{}

func (wireFailing) Invoke(context.Context, []byte) ([]byte, error) { return nil, errors.New("boom") }

// TestPipelinedResponseRefused (found in review of the pipelined next,
// issue 14): a small response goes out with the request for the next
// invocation after it. When the Runtime API refuses it with 413 (Lambda's
// does not for a response under its limit, and fails the invocation itself
// when it does), it has the next request already and may hand out r2 at
// once. The loop then posts r1's Function.ResponseSizeTooLarge error on a
// connection of its own (a Runtime API that kept r1 open needs it; Lambda's
// refuses it, 400 InvalidRequestID once r2 runs, which is then only a
// warning, not an error in the log) and serves r2 on its connection. An
// error is never pipelined: a refused error is sent again shortened before
// any next.
func TestPipelinedResponseRefused(t *testing.T) {
	t.Parallel()
	t.Run("response", func(t *testing.T) {
		t.Parallel()
		var log syncLog
		s := startWire(t)
		stop := runWire(t, s, okHandler{out: []byte(`"big"`)}, slog.New(slog.NewTextHandler(&log, nil)))
		c1 := s.accept()
		c1.must("GET", wireNext)
		c1.write(invocationAnswer("r1", `{}`))
		c1.must("POST", wirePost("r1", "response"))
		c1.write(statusAnswer(413, wire413))
		c1.must("GET", wireNext) // pipelined with the response
		c1.write(invocationAnswer("r2", `{}`))
		side := s.accept()
		side.must("POST", wirePost("r1", "error"))
		side.write(statusAnswer(400, `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`))
		c1.must("POST", wirePost("r2", "response"))
		c1.write(statusAnswer(202, wireAccepted))
		c1.must("GET", wireNext)
		stop()
		got := log.String()
		if !strings.Contains(got, "level=WARN") || strings.Contains(got, `level=ERROR msg="runtimeapi: the Runtime API refused the error`) {
			t.Errorf("want the refusal of r1's late error as a warning, not an error; log:\n%s", got)
		}
	})
	t.Run("error", func(t *testing.T) {
		t.Parallel()
		s := startWire(t)
		stop := runWire(t, s, wireFailing{})
		c1 := s.accept()
		c1.must("GET", wireNext)
		c1.write(invocationAnswer("r1", `{}`))
		c1.must("POST", wirePost("r1", "error"))
		c1.write(statusAnswer(413, wire413))
		c1.must("POST", wirePost("r1", "error")) // shortened, before any next
		c1.write(statusAnswer(202, wireAccepted))
		c1.must("GET", wireNext)
		stop()
	})
}

// syncLog is a log destination safe for the loop's goroutine and the test.
type syncLog struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestResponseReplyLost: the Runtime API takes a response and the
// connection breaks before its answer arrives (a reply lost after the write
// succeeded). The loop sends the response again on a new connection, with
// the request for the next invocation after it; Lambda answers 403 (the
// invocation is no longer open), which is then expected: a warning, not an
// error, and the loop goes on to the next invocation on that connection.
func TestResponseReplyLost(t *testing.T) {
	t.Parallel()
	var log syncLog
	s := startWire(t)
	stop := runWire(t, s, okHandler{out: []byte(`"ok"`)}, slog.New(slog.NewTextHandler(&log, nil)))
	c1 := s.accept()
	c1.must("GET", wireNext)
	c1.write(invocationAnswer("r1", `{}`))
	c1.must("POST", wirePost("r1", "response"))
	c1.nc.Close() // taken, but the answer never goes out

	c2 := s.accept()
	c2.must("POST", wirePost("r1", "response"))
	c2.must("GET", wireNext) // pipelined with the resent response
	c2.write(statusAnswer(403, `{"errorMessage":"Invalid state transition","errorType":"InvalidStateTransition"}`))
	c2.write(invocationAnswer("r2", `{}`))
	c2.must("POST", wirePost("r2", "response"))
	c2.write(statusAnswer(202, wireAccepted))
	c2.must("GET", wireNext)
	stop()
	got := log.String()
	if !strings.Contains(got, `level=WARN msg="runtimeapi: the Runtime API refused the response sent again after a broken connection`) {
		t.Errorf("want the 403 to the resent response as a warning; log:\n%s", got)
	}
	if strings.Contains(got, "level=ERROR") {
		t.Errorf("an error in the log for an expected refusal:\n%s", got)
	}
}
