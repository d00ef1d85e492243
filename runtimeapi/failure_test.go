package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// customError is a handler's own error type, returned as a pointer.
type customError struct{ msg string }

func (e *customError) Error() string { return e.msg }

// valueError is an error type returned as a value.
type valueError struct{}

func (valueError) Error() string { return "value failure" }

func decodeError(t *testing.T, body []byte) errorDoc {
	t.Helper()
	var e errorDoc
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	return e
}

// xrayCause is the Lambda-Runtime-Function-Xray-Error-Cause document.
type xrayCause struct {
	WorkingDirectory string `json:"working_directory"`
	Exceptions       []struct {
		Type    string            `json:"type"`
		Message string            `json:"message"`
		Stack   []json.RawMessage `json:"stack"`
	} `json:"exceptions"`
	Paths []string `json:"paths"`
}

// failing answers `"fail"` with err and echoes anything else.
func failing(err error) handlerFunc {
	return func(_ context.Context, payload []byte) ([]byte, error) {
		if string(payload) == `"fail"` {
			return nil, err
		}
		return payload, nil
	}
}

// served checks that the loop still answers invocations.
func served(t *testing.T, s *fakeruntime.Server) {
	t.Helper()
	id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"still serving"`)})
	wantResponse(t, s.Wait(t, id), id, []byte(`"still serving"`))
}

// TestFunctionError: a handler's error is posted as aws-lambda-go posts it:
// the body {"errorMessage","errorType"} with the error's message and the
// name of its type, the type in Lambda-Runtime-Function-Error-Type, and the
// X-Ray error cause.
func TestFunctionError(t *testing.T) {
	t.Parallel()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	quotedCWD, _ := json.Marshal(cwd)
	tests := []struct {
		name     string
		err      error
		wantBody string
		wantType string
	}{
		{"errors.New", errors.New("boom"), `{"errorMessage":"boom","errorType":"errorString"}`, "errorString"},
		{"pointer type", &customError{"custom failure"}, `{"errorMessage":"custom failure","errorType":"customError"}`, "customError"},
		{"value type", valueError{}, `{"errorMessage":"value failure","errorType":"valueError"}`, "valueError"},
		{"wrapped", fmt.Errorf("wrapped: %w", errors.New("inner")), `{"errorMessage":"wrapped: inner","errorType":"wrapError"}`, "wrapError"},
		{
			"message to escape",
			errors.New("line 1\n\"quoted\" <tag> & é\r\nX-Injected: 1"),
			`{"errorMessage":"line 1\n\"quoted\" \u003ctag\u003e \u0026 é\r\nX-Injected: 1","errorType":"errorString"}`,
			"errorString",
		},
		// lambda.Start posts aws-lambda-go's own error document as it is,
		// so that a handler can choose its errorType (Step Functions retry
		// and catch on it).
		{
			"messages.InvokeResponse_Error",
			messages.InvokeResponse_Error{Message: "order o-1 not found", Type: "OrderNotFound"},
			`{"errorMessage":"order o-1 not found","errorType":"OrderNotFound"}`,
			"OrderNotFound",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fakeruntime.Start(t)
			startRun(t, s, failing(tt.err), runtimeapi.Config{})
			id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fail"`)})
			res := s.Wait(t, id)
			if !res.Error || res.Path != invocationPath+id+"/error" {
				t.Fatalf("POST %s, want %s", res.Path, invocationPath+id+"/error")
			}
			if string(res.Body) != tt.wantBody {
				t.Errorf("body\n got %s\nwant %s", res.Body, tt.wantBody)
			}
			if got := res.Header.Get("Lambda-Runtime-Function-Error-Type"); got != tt.wantType {
				t.Errorf("Lambda-Runtime-Function-Error-Type %q, want %q", got, tt.wantType)
			}
			if got := res.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			var e errorDoc
			json.Unmarshal([]byte(tt.wantBody), &e)
			msg, _ := json.Marshal(e.Message)
			typ, _ := json.Marshal(e.Type)
			wantCause := fmt.Sprintf(`{"working_directory":%s,"exceptions":[{"type":%s,"message":%s,"stack":[]}],"paths":[]}`, quotedCWD, typ, msg)
			if got := res.Header.Get("Lambda-Runtime-Function-Xray-Error-Cause"); got != wantCause {
				t.Errorf("Lambda-Runtime-Function-Xray-Error-Cause\n got %s\nwant %s", got, wantCause)
			}
			if res.Status != 202 {
				t.Errorf("the fake answered %d, want 202", res.Status)
			}
			served(t, s)
		})
	}
}

// panicWith panics with v: the first frame of the reported stack.
func panicWith(v any) {
	panic(v)
}

// awsFramePath is the path aws-lambda-go reports for a frame in file of
// function fn: as many trailing elements as fn's import path has, plus the
// file name, or the whole path when it has fewer.
func awsFramePath(file, fn string) string {
	i := len(file)
	for range strings.Count(fn, "/") + 2 {
		i = strings.LastIndex(file[:i], "/")
		if i < 0 {
			break
		}
	}
	return file[i+1:]
}

// TestPanic: a panic in the handler is posted as an error with the panic's
// stack, first frame the function that panicked, and the errorType of the
// panic's value; then Run returns an error naming it, without asking for
// another invocation.
func TestPanic(t *testing.T) {
	t.Parallel()
	fn := runtime.FuncForPC(reflect.ValueOf(panicWith).Pointer())
	file, declLine := fn.FileLine(fn.Entry())
	wantPath := awsFramePath(file, fn.Name())
	tests := []struct {
		name     string
		value    any
		wantType string
		wantMsg  string
	}{
		{"string", "x", "string", "x"},
		{"error", errors.New("bad state"), "errorString", "bad state"},
		{"custom error", &customError{"custom panic"}, "customError", "custom panic"},
		{"int", 42, "int", "42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := handlerFunc(func(context.Context, []byte) ([]byte, error) {
				panicWith(tt.value)
				return nil, nil
			})
			s := fakeruntime.Start(t)
			r := startRun(t, s, h, runtimeapi.Config{})
			id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`{}`)})
			res := s.Wait(t, id)
			runErr := r.wait()

			if !res.Error {
				t.Fatalf("POST %s, want an error", res.Path)
			}
			e := decodeError(t, res.Body)
			if e.Type != tt.wantType || e.Message != tt.wantMsg {
				t.Errorf("errorType %q, errorMessage %q, want %q, %q", e.Type, e.Message, tt.wantType, tt.wantMsg)
			}
			if got := res.Header.Get("Lambda-Runtime-Function-Error-Type"); got != tt.wantType {
				t.Errorf("Lambda-Runtime-Function-Error-Type %q, want %q", got, tt.wantType)
			}
			if len(e.StackTrace) == 0 {
				t.Fatalf("no stackTrace in %s", res.Body)
			}
			if f := e.StackTrace[0]; f.Label != "panicWith" || f.Path != wantPath || f.Line != declLine+1 {
				t.Errorf("first frame %+v, want label panicWith, path %s, line %d", f, wantPath, declLine+1)
			}
			var cause xrayCause
			if err := json.Unmarshal([]byte(res.Header.Get("Lambda-Runtime-Function-Xray-Error-Cause")), &cause); err != nil {
				t.Fatalf("X-Ray error cause: %v", err)
			}
			if len(cause.Exceptions) != 1 || cause.Exceptions[0].Type != tt.wantType || len(cause.Exceptions[0].Stack) != len(e.StackTrace) ||
				len(cause.Paths) == 0 || cause.Paths[0] != wantPath {
				t.Errorf("X-Ray error cause %+v, want the panic's type, its %d frames and %s first in paths", cause, len(e.StackTrace), wantPath)
			}

			if runErr == nil || !strings.Contains(runErr.Error(), "panic") || !strings.Contains(runErr.Error(), tt.wantMsg) {
				t.Errorf("Run: %v, want an error naming the panic %q", runErr, tt.wantMsg)
			}
			var got []string
			for _, req := range s.Requests() {
				got = append(got, req.Method+" "+req.Path)
			}
			want := []string{"GET " + nextPath, "POST " + invocationPath + id + "/error"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("requests %q, want %q", got, want)
			}
		})
	}
}

// TestResponseTooLarge: a response over MaxResponseSize is not sent; the
// invocation's error says why, and the loop goes on.
func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int
	}{
		{"one byte over", runtimeapi.MaxResponseSize + 1},
		{"7 MB", 7 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := pattern(tt.size)
			h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
				if string(payload) == `"big"` {
					return out, nil
				}
				return payload, nil
			})
			s := fakeruntime.Start(t)
			startRun(t, s, h, runtimeapi.Config{})
			id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"big"`)})
			s.Wait(t, id)
			served(t, s)
			ps := postsFor(s.Requests(), id)
			if len(ps) != 1 || ps[0].Path != invocationPath+id+"/error" {
				for _, p := range ps {
					t.Errorf("POST %s (%d bytes)", p.Path, len(p.Body))
				}
				t.Fatalf("%d POSTs for the invocation, want one, of its error", len(ps))
			}
			want := fmt.Sprintf(`{"errorMessage":"Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).","errorType":"Function.ResponseSizeTooLarge"}`,
				tt.size, runtimeapi.MaxResponseSize)
			if string(ps[0].Body) != want {
				t.Errorf("body\n got %s\nwant %s", ps[0].Body, want)
			}
			if got := ps[0].Header.Get("Lambda-Runtime-Function-Error-Type"); got != "Function.ResponseSizeTooLarge" {
				t.Errorf("Lambda-Runtime-Function-Error-Type %q, want Function.ResponseSizeTooLarge", got)
			}
		})
	}
	t.Run("at the limit", func(t *testing.T) {
		t.Parallel()
		out := pattern(runtimeapi.MaxResponseSize)
		s := fakeruntime.Start(t)
		startRun(t, s, handlerFunc(func(context.Context, []byte) ([]byte, error) { return out, nil }), runtimeapi.Config{})
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`{}`)})
		wantResponse(t, s.Wait(t, id), id, out)
	})
}

// TestResponseRefused: a response the Runtime API refuses with 413 is
// followed by the invocation's error; another refusal is logged. The loop
// goes on.
func TestResponseRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		inv       fakeruntime.Invocation
		wantError bool // an error posted after the refused response
		wantLog   string
	}{
		{"413", fakeruntime.Invocation{ResponseStatus: 413}, true, "too large"},
		{"over the fake's limit", fakeruntime.Invocation{MaxResponseBody: 100}, true, "too large"},
		{"400", fakeruntime.Invocation{ResponseStatus: 400}, false, "refused the response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := pattern(200)
			h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
				if string(payload) == `"refuse"` {
					return out, nil
				}
				return payload, nil
			})
			s := fakeruntime.Start(t)
			r := startRun(t, s, h, runtimeapi.Config{})
			tt.inv.Payload = []byte(`"refuse"`)
			id := s.Enqueue(tt.inv)
			s.Wait(t, id)
			served(t, s)
			ps := postsFor(s.Requests(), id)
			want := []string{"response 413"}
			if !tt.wantError {
				want = []string{fmt.Sprintf("response %d", tt.inv.ResponseStatus)}
			} else {
				want = append(want, "error 202")
			}
			var got []string
			for _, p := range ps {
				got = append(got, fmt.Sprintf("%s %d", p.Path[strings.LastIndexByte(p.Path, '/')+1:], p.Status))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("POSTs for the invocation %q, want %q", got, want)
			}
			if !bytes.Equal(ps[0].Body, out) {
				t.Errorf("the refused response's body differs from the handler's")
			}
			if tt.wantError {
				e := decodeError(t, ps[1].Body)
				if e.Type != "Function.ResponseSizeTooLarge" {
					t.Errorf("errorType %q, want Function.ResponseSizeTooLarge", e.Type)
				}
			}
			if !strings.Contains(r.log.String(), tt.wantLog) {
				t.Errorf("the log does not say %q:\n%s", tt.wantLog, r.log)
			}
		})
	}
}

// TestErrorRefused: an error body refused with 413 is sent again
// shortened; an error refused otherwise is logged. The loop goes on.
func TestErrorRefused(t *testing.T) {
	t.Parallel()
	t.Run("413, then shortened", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("a long message; ", 400) // 6400 bytes
		s := fakeruntime.Start(t)
		startRun(t, s, failing(errors.New(long)), runtimeapi.Config{})
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fail"`), MaxErrorBody: 2000})
		waitPosts(t, s, id, 2)
		served(t, s)
		ps := postsFor(s.Requests(), id)
		if len(ps) != 2 {
			t.Fatalf("%d POSTs for the invocation, want 2", len(ps))
		}
		if ps[0].Status != 413 || ps[1].Status != 202 || !strings.HasSuffix(ps[1].Path, "/error") {
			t.Errorf("POSTs %s %d, %s %d; want both of the error, 413 then 202", ps[0].Path, ps[0].Status, ps[1].Path, ps[1].Status)
		}
		if e := decodeError(t, ps[0].Body); e.Message != long {
			t.Errorf("the first error's message is %d bytes, want the whole %d", len(e.Message), len(long))
		}
		e := decodeError(t, ps[1].Body)
		if e.Type != "errorString" || len(e.Message) >= len(long) || !strings.HasPrefix(e.Message, long[:500]) {
			t.Errorf("the shortened error: type %q, message of %d bytes %.60q...; want errorString, a prefix of the message", e.Type, len(e.Message), e.Message)
		}
		if got := ps[1].Header.Get("Lambda-Runtime-Function-Error-Type"); got != "errorString" {
			t.Errorf("Lambda-Runtime-Function-Error-Type %q, want errorString", got)
		}
	})
	t.Run("400", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		r := startRun(t, s, failing(errors.New("boom")), runtimeapi.Config{})
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fail"`), ErrorStatus: 400})
		if res := s.Wait(t, id); res.Status != 400 {
			t.Fatalf("the fake answered %d, want 400", res.Status)
		}
		served(t, s)
		if n := len(postsFor(s.Requests(), id)); n != 1 {
			t.Errorf("%d POSTs for the invocation, want 1", n)
		}
		if !strings.Contains(r.log.String(), "refused the error") {
			t.Errorf("the log does not say the error was refused:\n%s", r.log)
		}
	})
}

// TestRuntimeAPISaysExit: a status for next other than 200, or a 500 to a
// post, ends Run with an error.
func TestRuntimeAPISaysExit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		inv     fakeruntime.Invocation
		wantIn  string
		wantReq []string // the requests' kinds, in order
	}{
		{"next 500", fakeruntime.Invocation{NextStatus: 500}, "500", []string{"next 500"}},
		{"next 403", fakeruntime.Invocation{NextStatus: 403}, "403", []string{"next 403"}},
		{"next 500 with Connection: close", fakeruntime.Invocation{NextStatus: 500, NextConnectionClose: true}, "500", []string{"next 500"}},
		// A response carries the request for the next invocation after it
		// (pipelined): it arrives, and the loop exits without its answer.
		// An error does not.
		{"response 500", fakeruntime.Invocation{ResponseStatus: 500}, "500", []string{"next 200", "response 500", "next 0"}},
		{"error 500", fakeruntime.Invocation{ErrorStatus: 500, Payload: []byte(`"fail"`)}, "500", []string{"next 200", "error 500"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fakeruntime.Start(t)
			r := startRun(t, s, failing(errors.New("boom")), runtimeapi.Config{})
			if tt.inv.Payload == nil {
				tt.inv.Payload = []byte(`{}`)
			}
			s.Enqueue(tt.inv)
			err := r.wait()
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Run: %v, want an error naming status %s", err, tt.wantIn)
			}
			// The server may read the pipelined next after Run returned.
			reqs := s.WaitFor(t, "the requests", func(reqs []fakeruntime.Request) bool { return len(reqs) >= len(tt.wantReq) })
			var got []string
			for _, req := range reqs {
				got = append(got, fmt.Sprintf("%s %d", req.Path[strings.LastIndexByte(req.Path, '/')+1:], req.Status))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantReq) {
				t.Errorf("requests %q, want %q", got, tt.wantReq)
			}
		})
	}
}

// TestRuntimeAPIGone: a Runtime API that goes away, or was never there,
// ends Run with an error after five attempts in a row.
func TestRuntimeAPIGone(t *testing.T) {
	t.Parallel()
	t.Run("closed while the loop waits", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		r := startRun(t, s, echo, runtimeapi.Config{})
		s.WaitNext(t, 1)
		s.Close()
		err := r.wait()
		if err == nil || !strings.Contains(err.Error(), "failed 5 times in a row") {
			t.Errorf("Run: %v, want an error saying it failed 5 times in a row", err)
		}
		if n := strings.Count(r.log.String(), "retrying"); n != 4 {
			t.Errorf("%d retries logged, want 4:\n%s", n, r.log)
		}
	})
	t.Run("never there", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		s := fakeruntime.Start(t) // unused but for the helper's cleanup order
		r := startRun(t, s, echo, runtimeapi.Config{Address: addr})
		err = r.wait()
		if err == nil || !strings.Contains(err.Error(), "failed 5 times in a row") {
			t.Errorf("Run: %v, want an error saying it failed 5 times in a row", err)
		}
	})
}

// TestRefusalAfter413IsAWarning: after a 413 on a response, Lambda has
// failed the invocation itself, so a 403 to the error the loop posts then
// is expected: a Warn saying so, not an Error.
func TestRefusalAfter413IsAWarning(t *testing.T) {
	t.Parallel()
	s := fakeruntime.Start(t)
	r := startRun(t, s, echo, runtimeapi.Config{})
	id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"big"`), ResponseStatus: 413, ErrorStatus: 403})
	waitPosts(t, s, id, 2)
	s.Wait(t, s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"next"`)}))
	if err := r.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	got := r.log.String()
	if !strings.Contains(got, "level=WARN") || !strings.Contains(got, "had already failed the invocation") {
		t.Errorf("want a warning that the Runtime API had already failed the invocation; log:\n%s", got)
	}
	if strings.Contains(got, "level=ERROR msg=\"runtimeapi: the Runtime API refused the error") {
		t.Errorf("the expected 403 was logged as an error:\n%s", got)
	}
}
