package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/funcify/funcify/bench/internal/lambdaproc"
)

// nextPath is the Runtime API request a runtime makes once its init is done.
const nextPath = "/2018-06-01/runtime/invocation/next"

// runtimeAPI is a fake Lambda Runtime API on a loopback port. It records when
// a function first asks for an invocation and never answers: the measured
// process is killed instead. It serves one measured process at a time.
type runtimeAPI struct {
	addr   string         // host:port, the value of AWS_LAMBDA_RUNTIME_API
	srv    *http.Server   // serves on addr
	next   chan time.Time // receives the arrival time of each next request
	memory int            // AWS_LAMBDA_FUNCTION_MEMORY_SIZE
}

// startRuntimeAPI starts a runtimeAPI that tells functions they have memory
// MB of memory.
func startRuntimeAPI(memory int) (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API: %w", err)
	}
	a := &runtimeAPI{
		addr:   l.Addr().String(),
		next:   make(chan time.Time, 1),
		memory: memory,
	}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(l)
	return a, nil
}

// The Extensions API requests of a function that registers an internal
// extension (to get SIGTERM for its shutdown hooks), as Lambda answers
// them: the registration at once, event/next never before the process is
// killed. Without them, such a function's registration would fail and be
// logged, which costs it more than Lambda's answer does.
const (
	registerPath  = "/2020-01-01/extension/register"
	extensionNext = "/2020-01-01/extension/event/next"
)

func (a *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == registerPath:
		w.Header().Set("Lambda-Extension-Identifier", "3c4a5e0b-6c0d-4d62-9a3e-0c9b5d2f1a7e")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"functionName":"coldstart","functionVersion":"$LATEST","handler":"bootstrap"}`)
		return
	case r.Method == http.MethodGet && r.URL.Path == extensionNext:
		<-r.Context().Done()
		return
	case r.Method != http.MethodGet || r.URL.Path != nextPath:
		http.Error(w, "coldstart: this fake Runtime API only records "+nextPath, http.StatusNotImplemented)
		return
	}
	select {
	case a.next <- time.Now():
	default: // not the first request of this process
	}
	// Hold the request until the process is killed and its connection closes.
	<-r.Context().Done()
}

// Close stops the server and drops the requests it holds.
func (a *runtimeAPI) Close() error {
	return a.srv.Close()
}

// measure starts the function binary bin and returns the time from just
// before the process starts to the arrival of its first next request. It
// kills the process then, or after timeout.
func (a *runtimeAPI) measure(bin string, timeout time.Duration) (time.Duration, error) {
	// Drop a record left by an earlier process, if any.
	select {
	case <-a.next:
	default:
	}
	p, err := lambdaproc.Start(bin, lambdaproc.Env(a.addr, "coldstart", a.memory, filepath.Dir(bin)))
	if err != nil {
		return 0, err
	}

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var d time.Duration
	select {
	case at := <-a.next:
		d = at.Sub(p.Started)
	case <-p.Exited():
		return 0, fmt.Errorf("%s exited before it asked for an invocation: %v\n%s", bin, p.Err(), p.Output())
	case <-timer.C:
		err = fmt.Errorf("%s did not ask for an invocation within %v", bin, timeout)
	}
	if kerr := p.Kill(); kerr != nil {
		err = errors.Join(err, kerr)
	}
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, p.Output())
	}
	return d, nil
}
