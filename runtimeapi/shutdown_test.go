package runtimeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// The shutdown tests send the test process SIGTERM, which Run catches with
// signal.Notify when it has hooks. They are not parallel: a SIGTERM goes to
// every Run with hooks in the process.

// guardSIGTERM keeps a SIGTERM from killing the test process when Run
// fails to catch it: the test then fails waiting for Run instead.
func guardSIGTERM(t *testing.T) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	t.Cleanup(func() { signal.Stop(sig) })
}

// TestShutdownHooks: with hooks, Run registers one internal extension for
// no events and parks its event/next; on SIGTERM the hooks run in order,
// within ShutdownTimeout, past a hook that panics, and Run returns nil.
func TestShutdownHooks(t *testing.T) {
	var mu sync.Mutex // guards ran and remaining
	var ran []string
	var remaining []time.Duration
	hook := func(name string) func(ctx context.Context) {
		return func(ctx context.Context) {
			mu.Lock()
			defer mu.Unlock()
			ran = append(ran, name)
			d, ok := ctx.Deadline()
			if !ok {
				remaining = append(remaining, -1)
				return
			}
			remaining = append(remaining, time.Until(d))
		}
	}
	hooks := []func(context.Context){
		hook("flush metrics"),
		func(ctx context.Context) {
			hook("panics")(ctx)
			panic("hook failed")
		},
		hook("flush traces"),
	}
	s := fakeruntime.Start(t)
	r := startRun(t, s, echo, runtimeapi.Config{OnShutdown: hooks})

	reqs := s.WaitFor(t, "the registration and the parked event/next", func(reqs []fakeruntime.Request) bool {
		for _, r := range reqs {
			if r.Path == extensionPath+"event/next" {
				return true
			}
		}
		return false
	})
	var regs, events []fakeruntime.Request
	for _, req := range reqs {
		switch req.Path {
		case extensionPath + "register":
			regs = append(regs, req)
		case extensionPath + "event/next":
			events = append(events, req)
		}
	}
	if len(regs) != 1 {
		t.Fatalf("%d registrations, want 1", len(regs))
	}
	reg := regs[0]
	if reg.Method != "POST" || reg.Status != 200 {
		t.Errorf("registration %s answered %d, want POST answered 200", reg.Method, reg.Status)
	}
	if got := reg.Header.Get("Lambda-Extension-Name"); got != "funcify-shutdown" {
		t.Errorf("Lambda-Extension-Name %q, want funcify-shutdown", got)
	}
	if got := string(reg.Body); got != `{"events":[]}` {
		t.Errorf("registration body %s, want {\"events\":[]}", got)
	}
	if len(events) != 1 || events[0].Method != "GET" || events[0].Status != 0 || events[0].Header.Get("Lambda-Extension-Identifier") == "" {
		t.Errorf("event/next requests %+v, want one GET with the identifier, unanswered", events)
	}

	served(t, s) // the loop runs beside the extension

	guardSIGTERM(t)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(); err != nil {
		t.Errorf("Run: %v, want nil after a shutdown", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"flush metrics", "panics", "flush traces"}; fmt.Sprint(ran) != fmt.Sprint(want) {
		t.Errorf("hooks ran %q, want %q", ran, want)
	}
	for i, d := range remaining {
		if d == -1 || d > runtimeapi.ShutdownTimeout {
			t.Errorf("hook %d had %v left (-1: no deadline), want a deadline within %v", i, d, runtimeapi.ShutdownTimeout)
		}
	}
	if !strings.Contains(r.log.String(), "hook failed") {
		t.Errorf("the hook's panic is not logged:\n%s", r.log)
	}
}

// TestNoHooksNoRegistration: without hooks Run does not touch the
// Extensions API, which would cost a request at cold start.
func TestNoHooksNoRegistration(t *testing.T) {
	t.Parallel()
	s := fakeruntime.Start(t)
	r := startRun(t, s, echo, runtimeapi.Config{})
	served(t, s)
	s.WaitNext(t, 2)
	if err := r.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	for _, req := range s.Requests() {
		if strings.HasPrefix(req.Path, extensionPath) {
			t.Errorf("%s %s without shutdown hooks", req.Method, req.Path)
		}
	}
	if got := s.Conns(); got != 1 {
		t.Errorf("%d connections, want 1", got)
	}
}

// TestRegistrationRefused: when the Extensions API refuses the
// registration, Run warns and serves invocations all the same.
func TestRegistrationRefused(t *testing.T) {
	s := fakeruntime.Start(t)
	s.SetRegisterStatus(500)
	r := startRun(t, s, echo, runtimeapi.Config{OnShutdown: []func(context.Context){func(context.Context) {}}})
	served(t, s)
	if err := r.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	var regs, events int
	for _, req := range s.Requests() {
		switch req.Path {
		case extensionPath + "register":
			regs++
			if req.Status != 500 {
				t.Errorf("registration answered %d, want 500", req.Status)
			}
		case extensionPath + "event/next":
			events++
		}
	}
	if regs != 1 || events != 0 {
		t.Errorf("%d registrations and %d event/next, want 1 and 0", regs, events)
	}
	if !strings.Contains(r.log.String(), "cannot register") {
		t.Errorf("no warning about the registration:\n%s", r.log)
	}
}

// TestReportInitError: the init error is posted to /runtime/init/error as
// aws-lambda-go posts an error.
func TestReportInitError(t *testing.T) {
	t.Parallel()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	s := fakeruntime.Start(t)
	if err := runtimeapi.ReportInitError(context.Background(), s.Addr(), &customError{"cannot load config"}); err != nil {
		t.Fatalf("ReportInitError: %v", err)
	}
	req := s.InitError(t)
	if req.Method != "POST" || req.Path != "/2018-06-01/runtime/init/error" || req.Status != 202 {
		t.Errorf("%s %s answered %d, want POST /2018-06-01/runtime/init/error answered 202", req.Method, req.Path, req.Status)
	}
	if got, want := string(req.Body), `{"errorMessage":"cannot load config","errorType":"customError"}`; got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}
	if got := req.Header.Get("Lambda-Runtime-Function-Error-Type"); got != "customError" {
		t.Errorf("Lambda-Runtime-Function-Error-Type %q, want customError", got)
	}
	quotedCWD, _ := json.Marshal(cwd)
	wantCause := fmt.Sprintf(`{"working_directory":%s,"exceptions":[{"type":"customError","message":"cannot load config","stack":[]}],"paths":[]}`, quotedCWD)
	if got := req.Header.Get("Lambda-Runtime-Function-Xray-Error-Cause"); got != wantCause {
		t.Errorf("Lambda-Runtime-Function-Xray-Error-Cause\n got %s\nwant %s", got, wantCause)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestReportInitErrorFails: ReportInitError says when it could not report.
func TestReportInitErrorFails(t *testing.T) {
	t.Parallel()
	t.Run("nil error", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		if err := runtimeapi.ReportInitError(context.Background(), s.Addr(), nil); err == nil {
			t.Error("ReportInitError(nil) returned nil, want an error")
		}
		if n := len(s.Requests()); n != 0 {
			t.Errorf("%d requests, want 0", n)
		}
	})
	t.Run("Runtime API gone", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		addr := s.Addr()
		s.Close()
		if err := runtimeapi.ReportInitError(context.Background(), addr, errors.New("x")); err == nil {
			t.Error("ReportInitError returned nil, want an error")
		}
	})
}

// TestAddressFromEnvironment: an empty address means AWS_LAMBDA_RUNTIME_API,
// and neither is an error.
func TestAddressFromEnvironment(t *testing.T) {
	s := fakeruntime.Start(t)
	t.Setenv("AWS_LAMBDA_RUNTIME_API", s.Addr())
	if err := runtimeapi.ReportInitError(context.Background(), "", errors.New("from the environment")); err != nil {
		t.Fatalf("ReportInitError: %v", err)
	}
	s.InitError(t)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- runtimeapi.Run(ctx, echo, runtimeapi.Config{Concurrency: 1}) }()
	id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"env"`)})
	wantResponse(t, s.Wait(t, id), id, []byte(`"env"`))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}

	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	if err := runtimeapi.Run(context.Background(), echo, runtimeapi.Config{}); err == nil || !strings.Contains(err.Error(), "AWS_LAMBDA_RUNTIME_API") {
		t.Errorf("Run without an address: %v, want an error naming AWS_LAMBDA_RUNTIME_API", err)
	}
	if err := runtimeapi.ReportInitError(context.Background(), "", errors.New("x")); err == nil {
		t.Error("ReportInitError without an address returned nil, want an error")
	}
	if err := runtimeapi.Run(context.Background(), nil, runtimeapi.Config{Address: s.Addr()}); err == nil {
		t.Error("Run with a nil handler returned nil, want an error")
	}
}
