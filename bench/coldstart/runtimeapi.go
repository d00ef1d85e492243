package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
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
	memory string         // AWS_LAMBDA_FUNCTION_MEMORY_SIZE
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
		memory: fmt.Sprint(memory),
	}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(l)
	return a, nil
}

func (a *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != nextPath {
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
	var out bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = a.env(filepath.Dir(bin))
	cmd.Dir = filepath.Dir(bin)
	cmd.Stdout = &out
	cmd.Stderr = &out
	exited := make(chan error, 1)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { exited <- cmd.Wait() }()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var d time.Duration
	var err error
	select {
	case at := <-a.next:
		d = at.Sub(start)
	case werr := <-exited:
		// out is complete: Wait has returned.
		return 0, fmt.Errorf("%s exited before it asked for an invocation: %v\n%s", bin, werr, out.Bytes())
	case <-timer.C:
		err = fmt.Errorf("%s did not ask for an invocation within %v", bin, timeout)
	}
	if kerr := cmd.Process.Kill(); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
		err = errors.Join(err, fmt.Errorf("kill %s: %w", bin, kerr))
	}
	<-exited
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, out.Bytes())
	}
	return d, nil
}

// env returns the environment Lambda gives a function on the provided.al2023
// runtime whose code is in taskRoot, pointed at a.
func (a *runtimeAPI) env(taskRoot string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + a.addr,
		"AWS_LAMBDA_FUNCTION_NAME=coldstart",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + a.memory,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/coldstart",
		"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		// Fake credentials, as Lambda provides real ones: an SDK
		// configuration loaded at init finds them without a network call.
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN=coldstart",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"LAMBDA_RUNTIME_DIR=/var/runtime",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	}
}
