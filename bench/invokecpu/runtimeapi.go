package main

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const (
	nextPath = "/2018-06-01/runtime/invocation/next"
	// maxResponse is Lambda's limit on a synchronous invocation's response.
	maxResponse = 6 << 20
	// maxErrorBody bounds what is kept of an error a function reports.
	maxErrorBody = 4 << 10
	// deadline is how long each invocation has, as Lambda-Runtime-Deadline-Ms says.
	deadline = 30 * time.Second
	// functionARN is every invocation's Lambda-Runtime-Invoked-Function-Arn.
	functionARN = "arn:aws:lambda:us-east-1:123456789012:function:invokecpu"
)

// runtimeAPI is a fake Lambda Runtime API on a loopback port for one
// function process that runs one invocation at a time. It answers the
// process's next requests with ev's payloads while it has invocations
// granted, and holds the next request after the last one granted, so that
// the process is idle and its CPU time can be read. It checks every
// response with ev's check for its invocation. A function error, an init
// error, a response that fails the check or a response to another request
// id is a failure, which ends the measurement.
//
// It is net/http's server: its CPU time is the bench's, not the measured
// process's. It keeps the process's connection alive between invocations,
// as Lambda's Runtime API does.
type runtimeAPI struct {
	addr   string        // host:port, the value of AWS_LAMBDA_RUNTIME_API
	srv    *http.Server  // serves on addr
	ev     *event        // what each invocation sends and how its response is checked
	held   chan struct{} // holds a signal while a next request waits, every invocation granted used
	failed chan struct{} // closed at the first failure

	mu      sync.Mutex // guards the fields below, and sends on held
	rnd     *rand.ChaCha8
	granted int             // invocations granted so far
	used    int             // invocations sent so far; the number of the last one
	more    chan struct{}   // closed, and replaced, when more invocations are granted
	current string          // request id of the invocation under way; "" between invocations
	sent    time.Time       // when the current invocation's next was answered
	timing  bool            // whether walls records invocations
	walls   []time.Duration // from answering next to receiving the response, per invocation
	err     error           // the first failure
}

// startRuntimeAPI starts a runtimeAPI on a loopback port that serves ev.
func startRuntimeAPI(ev *event) (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API: %w", err)
	}
	var seed [32]byte
	crand.Read(seed[:])
	a := &runtimeAPI{
		addr:   l.Addr().String(),
		ev:     ev,
		held:   make(chan struct{}, 1),
		failed: make(chan struct{}),
		rnd:    rand.NewChaCha8(seed),
		more:   make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+nextPath, a.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", a.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", a.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", a.initError)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(l)
	return a, nil
}

// Close stops the server and drops the requests it holds.
func (a *runtimeAPI) Close() error {
	return a.srv.Close()
}

// grant lets the process have n more invocations, all at once: a next
// request never finds some of them granted and the rest to come. A held
// signal that await has not taken is dropped: the process is not idle any
// more.
func (a *runtimeAPI) grant(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.granted += n
	select {
	case <-a.held:
	default:
	}
	close(a.more)
	a.more = make(chan struct{})
}

// startTiming records the wall time of the invocations from now on, of
// which n are expected.
func (a *runtimeAPI) startTiming(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.timing = true
	a.walls = make([]time.Duration, 0, n)
}

// wallTimes returns the wall times recorded since startTiming.
func (a *runtimeAPI) wallTimes() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.walls
}

// failure returns the first failure, or nil.
func (a *runtimeAPI) failure() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// failLocked records err as the failure, if it is the first. a.mu is held.
func (a *runtimeAPI) failLocked(err error) {
	if a.err == nil {
		a.err = err
		close(a.failed)
	}
}

// process is the function process a runtimeAPI serves, as await watches it.
type process interface {
	Exited() <-chan struct{} // closed when the process has exited
	Err() error              // how it exited, once Exited is closed
}

// await waits until the process p has used every invocation granted and
// its next request is held, and returns the failure, if any. Only one
// goroutine may await at a time. It returns an
// error if p exits or timeout passes first.
func (a *runtimeAPI) await(p process, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-a.held:
		return a.failure()
	case <-a.failed:
		return a.failure()
	case <-p.Exited():
		if err := a.failure(); err != nil {
			return err
		}
		return fmt.Errorf("the function exited: %v", p.Err())
	case <-timer.C:
		return fmt.Errorf("the function did not use its invocations within %v", timeout)
	}
}

func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	for a.used == a.granted {
		// The process has used every invocation granted and waits: it
		// is idle. Signalled under a.mu, so that grant drops the signal
		// if it comes in between.
		select {
		case a.held <- struct{}{}:
		default:
		}
		more := a.more
		a.mu.Unlock()
		select {
		case <-more:
		case <-r.Context().Done():
			return // the process was killed
		}
		a.mu.Lock()
	}
	a.used++
	n := a.used
	if a.current != "" {
		a.failLocked(fmt.Errorf("the function asked for an invocation before it answered %s", a.current))
	}
	id, traceID := a.newIDsLocked()
	a.current = id
	now := time.Now()
	a.sent = now
	a.mu.Unlock()

	payload := a.ev.payload(n)

	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(now.Add(deadline).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", functionARN)
	h.Set("Lambda-Runtime-Trace-Id", traceID)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(payload)))
	w.WriteHeader(http.StatusOK)
	w.Write(payload)
}

// newIDsLocked returns a fresh request id, in the UUID form Lambda uses,
// and an X-Ray trace header, not sampled. a.mu is held.
func (a *runtimeAPI) newIDsLocked() (id, traceID string) {
	var b [36]byte // 16 for the id, 12 for the trace's root, 8 for its parent
	a.rnd.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	id = h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	traceID = fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", uint32(time.Now().Unix()), h[32:56], h[56:72])
	return id, traceID
}

func (a *runtimeAPI) response(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponse+1))
	received := time.Now()
	accept(w)

	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.endLocked(r.PathValue("id")) {
		return
	}
	if a.timing {
		a.walls = append(a.walls, received.Sub(a.sent))
	}
	switch {
	case err != nil:
		a.failLocked(fmt.Errorf("reading a response: %w", err))
	case len(body) > maxResponse:
		a.failLocked(fmt.Errorf("a response over %d bytes", maxResponse))
	default:
		// Every response, not only those that differ from the first:
		// invocations differ.
		if err := a.ev.check(a.used, body); err != nil {
			what := "the first response"
			if a.used > 1 {
				what = fmt.Sprintf("the response to invocation %d", a.used)
			}
			a.failLocked(fmt.Errorf("%s is wrong: %w\n%s", what, err, body))
		}
	}
}

// endLocked ends the invocation under way, whose request id must be id, and
// reports whether it was. a.mu is held.
func (a *runtimeAPI) endLocked(id string) bool {
	if id != a.current || id == "" {
		a.failLocked(fmt.Errorf("an answer for request %q, which is not the invocation under way (%q)", id, a.current))
		return false
	}
	a.current = ""
	return true
}

func (a *runtimeAPI) invocationError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	accept(w)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.endLocked(r.PathValue("id")) {
		a.failLocked(fmt.Errorf("function error (%s): %s", r.Header.Get("Lambda-Runtime-Function-Error-Type"), body))
	}
}

func (a *runtimeAPI) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	accept(w)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failLocked(fmt.Errorf("init error (%s): %s", r.Header.Get("Lambda-Runtime-Function-Error-Type"), body))
}

// accept answers 202, as the Runtime API answers a response or an error.
func accept(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}
