package runtimeapi_test

import (
	"context"
	"net"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// Found in review (issue 14): aws-lambda-go's lambda.Start decides whether
// to exit after a failed invocation by the ShouldExit field of the
// messages.InvokeResponse_Error it posts (invoke_loop.go, handleInvoke),
// not by whether the handler panicked. A handler that returns
// InvokeResponse_Error{ShouldExit: true} asks the runtime to exit after
// the error is posted (its state is broken); one that panics with an
// InvokeResponse_Error whose ShouldExit is false has the error posted and
// the loop goes on. runtimeapi takes the document from both (fromMessage)
// but drops ShouldExit: it goes on after the first and exits after the
// second, the opposite of lambda.Start in both cases, and neither the
// package doc nor the issue explains the difference.
//
// Right: as lambda.Start: after posting an InvokeResponse_Error, returned
// or panicked, Run fails if and only if its ShouldExit is set; other
// panics keep failing Run.

func TestInvokeResponseErrorShouldExit(t *testing.T) {
	t.Parallel()
	t.Run("returned with ShouldExit", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		r := startRun(t, s, failing(messages.InvokeResponse_Error{Message: "state lost", Type: "Fatal", ShouldExit: true}), runtimeapi.Config{})
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fail"`)})
		if res := s.Wait(t, id); !res.Error {
			t.Fatalf("POST %s, want an error", res.Path)
		}
		// lambda.Start exits here; the loop asks for another invocation.
		returnedOr(t, s, r, "Run to return or ask for the next invocation", func(reqs []fakeruntime.Request) bool {
			return len(reqs) == 3
		})
		if !r.returned() {
			t.Errorf("the loop asked for another invocation after an error with ShouldExit, want Run to return an error")
		}
	})
	t.Run("panicked without ShouldExit", func(t *testing.T) {
		t.Parallel()
		h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
			if string(payload) == `"fail"` {
				panic(messages.InvokeResponse_Error{Message: "order o-1 not found", Type: "OrderNotFound"})
			}
			return payload, nil
		})
		s := fakeruntime.Start(t)
		r := startRun(t, s, h, runtimeapi.Config{})
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fail"`)})
		if res := s.Wait(t, id); !res.Error {
			t.Fatalf("POST %s, want an error", res.Path)
		}
		// lambda.Start goes on serving here.
		good := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"still serving"`)})
		returnedOr(t, s, r, "Run to return or answer the next invocation", func(reqs []fakeruntime.Request) bool {
			return len(postsFor(reqs, good)) == 1 && postsFor(reqs, good)[0].Status != 0
		})
		if r.returned() {
			t.Errorf("Run returned %v after a panic with an InvokeResponse_Error without ShouldExit, want it to go on serving", r.err)
		}
	})
}

// returnedOr waits until Run has returned or the server's requests
// satisfy cond. Run's return is made a change the server sees (a
// connection opened and closed), so that the wait wakes for it.
func returnedOr(t *testing.T, s *fakeruntime.Server, r *running, what string, cond func([]fakeruntime.Request) bool) {
	t.Helper()
	go func() {
		<-r.done
		if c, err := net.Dial("tcp", s.Addr()); err == nil {
			c.Close()
		}
	}()
	s.WaitFor(t, what, func(reqs []fakeruntime.Request) bool { return r.returned() || cond(reqs) })
}
