package runtimeapi_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// With shutdown hooks, Run registers its internal extension in the same
// write as the first loop's first next, on that loop's connection, so that
// the registration reaches the Runtime API before any next (Lambda takes
// extensions only during init) without the cold start waiting for its
// answer first. These tests are not parallel: see TestShutdownHooks.

// wire splits the requests s received into the registrations, the nexts
// and the extension's event/next requests, each in arrival order, with
// their index in reqs.
type wire struct {
	reqs                []fakeruntime.Request
	regs, nexts, events []int
}

func readWire(reqs []fakeruntime.Request) wire {
	w := wire{reqs: reqs}
	for i, r := range reqs {
		switch r.Path {
		case extensionPath + "register":
			w.regs = append(w.regs, i)
		case nextPath:
			w.nexts = append(w.nexts, i)
		case extensionPath + "event/next":
			w.events = append(w.events, i)
		}
	}
	return w
}

// nextAfter returns the index of the first request on conn after request
// i, or -1.
func (w wire) nextAfter(i int) int {
	for j := i + 1; j < len(w.reqs); j++ {
		if w.reqs[j].Conn == w.reqs[i].Conn {
			return j
		}
	}
	return -1
}

func (w wire) String() string {
	var b strings.Builder
	for i, r := range w.reqs {
		fmt.Fprintf(&b, "\n  %d: conn %d %s %s -> %d", i, r.Conn, r.Method, r.Path, r.Status)
	}
	return b.String()
}

// TestRegistrationPipelined: the registration comes first on the wire, on
// the connection of a loop, followed there by that loop's next; the other
// loops ask only after it; the extension's event/next is parked on a
// connection of its own; and on SIGTERM the hooks run.
func TestRegistrationPipelined(t *testing.T) {
	const loops = 3
	var ran atomic.Int32
	s := fakeruntime.Start(t)
	r := startRun(t, s, echo, runtimeapi.Config{
		Concurrency: loops,
		OnShutdown:  []func(context.Context){func(context.Context) { ran.Add(1) }},
	})
	w := readWire(s.WaitFor(t, "every loop's next and the parked event/next", func(reqs []fakeruntime.Request) bool {
		w := readWire(reqs)
		return len(w.nexts) == loops && len(w.events) == 1
	}))
	if len(w.regs) != 1 {
		t.Fatalf("%d registrations, want 1:%s", len(w.regs), w)
	}
	reg := w.regs[0]
	if got := w.reqs[reg]; got.Method != "POST" || got.Status != 200 || string(got.Body) != `{"events":[]}` ||
		got.Header.Get("Lambda-Extension-Name") != "funcify-shutdown" {
		t.Errorf("registration %s %s answered %d, want POST {\"events\":[]} as funcify-shutdown answered 200",
			got.Method, got.Body, got.Status)
	}
	if reg != 0 {
		t.Errorf("the registration is request %d, want the first:%s", reg, w)
	}
	if after := w.nextAfter(reg); after < 0 || w.reqs[after].Path != nextPath {
		t.Errorf("no next after the registration on its connection, want one (pipelined):%s", w)
	}
	ev := w.reqs[w.events[0]]
	if ev.Conn == w.reqs[reg].Conn || ev.Header.Get("Lambda-Extension-Identifier") == "" || ev.Status != 0 {
		t.Errorf("event/next on conn %d, identifier %q, answered %d; want it on a connection of its own, with the identifier, unanswered:%s",
			ev.Conn, ev.Header.Get("Lambda-Extension-Identifier"), ev.Status, w)
	}
	if got := s.Conns(); got != loops+1 {
		t.Errorf("%d connections, want %d (one per loop and the extension's)", got, loops+1)
	}

	served(t, s)

	guardSIGTERM(t)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(); err != nil {
		t.Errorf("Run: %v, want nil after a shutdown", err)
	}
	if got := ran.Load(); got != 1 {
		t.Errorf("the hook ran %d times, want 1", got)
	}
}

// TestRegistrationRefusedPipelined: a registration the Extensions API
// refuses is logged, and the next pipelined after it is still read as the
// loop's first invocation, on the same connection.
func TestRegistrationRefusedPipelined(t *testing.T) {
	for _, status := range []int{403, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := fakeruntime.Start(t)
			s.SetRegisterStatus(status)
			r := startRun(t, s, echo, runtimeapi.Config{OnShutdown: []func(context.Context){func(context.Context) {}}})
			id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"first"`)})
			res := s.Wait(t, id)
			wantResponse(t, res, id, []byte(`"first"`))
			served(t, s)
			if err := r.stop(); err != nil {
				t.Errorf("Run: %v", err)
			}
			w := readWire(s.Requests())
			if len(w.regs) != 1 || len(w.events) != 0 {
				t.Fatalf("%d registrations and %d event/next, want 1 and 0:%s", len(w.regs), len(w.events), w)
			}
			reg := w.regs[0]
			if got := w.reqs[reg].Status; got != status {
				t.Errorf("registration answered %d, want %d", got, status)
			}
			after := w.nextAfter(reg)
			if after < 0 || w.reqs[after].Path != nextPath || w.reqs[after].RequestID != id {
				t.Errorf("the registration's connection does not go on with the next that handed out %s:%s", id, w)
			}
			if got := s.Conns(); got != 1 {
				t.Errorf("%d connections, want 1", got)
			}
			log := r.log.String()
			if !strings.Contains(log, "cannot register") || !strings.Contains(log, fmt.Sprintf("status %d", status)) {
				t.Errorf("no warning naming the refusal (status %d):\n%s", status, log)
			}
		})
	}
}

// TestRegistrationThenConnectionClosed: when the Runtime API closes the
// connection after answering the registration, before answering the next
// pipelined after it, the loop asks again on a new connection and serves
// the invocation; the extension is registered, and the hooks run on
// SIGTERM.
func TestRegistrationThenConnectionClosed(t *testing.T) {
	var ran atomic.Int32
	s := fakeruntime.Start(t)
	s.CloseAfterRegister()
	r := startRun(t, s, echo, runtimeapi.Config{
		OnShutdown: []func(context.Context){func(context.Context) { ran.Add(1) }},
	})
	id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"after the close"`)})
	res := s.Wait(t, id)
	wantResponse(t, res, id, []byte(`"after the close"`))
	w := readWire(s.WaitFor(t, "the parked event/next", func(reqs []fakeruntime.Request) bool {
		return len(readWire(reqs).events) == 1
	}))
	if len(w.regs) != 1 || w.reqs[w.regs[0]].Status != 200 {
		t.Fatalf("registrations %v, want one answered 200:%s", w.regs, w)
	}
	regConn := w.reqs[w.regs[0]].Conn
	var handedOut *fakeruntime.Request
	for _, i := range w.nexts {
		if w.reqs[i].RequestID == id {
			handedOut = &w.reqs[i]
		}
	}
	if handedOut == nil || handedOut.Conn == regConn {
		t.Errorf("the invocation was not handed out on a new connection:%s", w)
	}
	if !strings.Contains(r.log.String(), "asking again") {
		t.Errorf("the failed pipelined next is not logged:\n%s", r.log)
	}

	guardSIGTERM(t)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(); err != nil {
		t.Errorf("Run: %v, want nil after a shutdown", err)
	}
	if got := ran.Load(); got != 1 {
		t.Errorf("the hook ran %d times, want 1", got)
	}
}
