package runtimeapi_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// Found in review (issue 14): the loop calls the handler's error's Error
// method (functionError, in loop.invoke) outside the recover in call. An
// error whose Error method panics, the classic one being a typed nil
// pointer returned as an error (var e *MyError; return nil, e), panics the
// loop's goroutine: the process dies with a Go panic trace (exit 2), the
// invocation gets no POST at all, and with several loops every invocation
// in flight dies with it. aws-lambda-go turns the error into its document
// inside its recover (callBytesHandlerFunc), so the same handler is
// reported as a panic there, its error posted, then the loop exits.
// ReportInitError (and so app.FailInit) panics the same way.
//
// Right: build the error document inside the recover (or recover around
// functionError) and report a panicking Error method as a panic: POST the
// error, then Run returns an error. ReportInitError returns an error or
// reports the panic, and does not panic.

// nilPointerError's Error dereferences its receiver: a nil *nilPointerError
// returned as an error panics when it is printed.
type nilPointerError struct{ msg string }

func (e *nilPointerError) Error() string { return e.msg }

// typedNil returns a nil *nilPointerError as a non-nil error.
func typedNil() error {
	var e *nilPointerError
	return e
}

const typedNilAddrEnv = "RUNTIMEAPI_REVIEW_TYPEDNIL_ADDR"

// TestTypedNilErrorChild is the function process of
// TestTypedNilError; it runs only as that test's child.
func TestTypedNilErrorChild(t *testing.T) {
	addr := os.Getenv(typedNilAddrEnv)
	if addr == "" {
		t.Skip("run by TestTypedNilError")
	}
	h := handlerFunc(func(context.Context, []byte) ([]byte, error) { return nil, typedNil() })
	err := runtimeapi.Run(context.Background(), h, runtimeapi.Config{Address: addr, Concurrency: 1})
	fmt.Printf("Run returned: %v\n", err)
}

func TestTypedNilError(t *testing.T) {
	t.Parallel()
	t.Run("loop", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`{}`)})
		cmd := exec.Command(os.Args[0], "-test.run=^TestTypedNilErrorChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), typedNilAddrEnv+"="+s.Addr())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(fakeruntime.WaitTimeout):
			cmd.Process.Kill()
			<-done
			t.Fatalf("the function process did not exit within %v:\n%s", fakeruntime.WaitTimeout, &out)
		}
		ps := postsFor(s.Requests(), id)
		if len(ps) != 1 || !strings.HasSuffix(ps[0].Path, "/error") {
			t.Errorf("%d POSTs for the invocation, want its error (exit: %v)", len(ps), err)
		}
		if strings.Contains(out.String(), "panic: runtime error") {
			t.Errorf("the panic of the error's Error method escaped the loop and killed the process:\n%.600s", &out)
		}
		if !strings.Contains(out.String(), "Run returned: runtimeapi:") {
			t.Errorf("Run did not return an error:\n%.600s", &out)
		}
	})
	t.Run("ReportInitError", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		defer func() {
			if v := recover(); v != nil {
				t.Errorf("ReportInitError panicked: %v; want it to report the error or return one", v)
			}
		}()
		runtimeapi.ReportInitError(context.Background(), s.Addr(), typedNil())
	})
}
