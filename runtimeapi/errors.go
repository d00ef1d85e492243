package runtimeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/funcify/funcify/internal/errtype"
)

// errorBody is the body of a POST .../error or /init/error: the document
// aws-lambda-go sends, which Lambda hands the invoker as the function error.
type errorBody struct {
	Message    string       `json:"errorMessage"`
	Type       string       `json:"errorType"`
	StackTrace []stackFrame `json:"stackTrace,omitempty"`

	panicked bool // it describes a panic
}

// stackFrame is one frame of a panic's stack, as aws-lambda-go reports it:
// the file path from its module (or import path) on, the line, and the
// function without its package path.
type stackFrame struct {
	Path  string `json:"path"`
	Line  int32  `json:"line"`
	Label string `json:"label"`
}

// shortMessage is how much of the message a shortened error body keeps.
const shortMessage = 1 << 10

// xrayCauseMax is the largest X-Ray error cause sent as a header, as
// aws-lambda-go bounds it.
const xrayCauseMax = 1 << 20

// encode returns the JSON body and the X-Ray error cause for e. short drops
// the stack and cuts the message to shortMessage bytes, for a Runtime API
// that refused the whole; a body over MaxResponseSize is always cut so.
func (e *errorBody) encode(cwd string, short bool) (body, cause []byte) {
	if !short {
		body, _ = json.Marshal(e)
		if len(body) > MaxResponseSize {
			short = true
		}
	}
	if short {
		s := *e
		s.StackTrace = nil
		if len(s.Message) > shortMessage {
			s.Message = strings.ToValidUTF8(s.Message[:shortMessage], "") + " ... (cut)"
		}
		e = &s
		body, _ = json.Marshal(e)
	}
	cause, _ = json.Marshal(xrayCause(e, cwd))
	// JSON leaves DEL raw, and no HTTP field value may hold it: escape it.
	cause = bytes.ReplaceAll(cause, []byte{0x7f}, []byte(`\u007f`))
	if len(cause) >= xrayCauseMax {
		cause = nil
	}
	return body, cause
}

// xrayError is the X-Ray error cause aws-lambda-go sends in the
// Lambda-Runtime-Function-Xray-Error-Cause header, for X-Ray to show.
type xrayError struct {
	WorkingDirectory string          `json:"working_directory"`
	Exceptions       []xrayException `json:"exceptions"`
	Paths            []string        `json:"paths"`
}

type xrayException struct {
	Type    string       `json:"type"`
	Message string       `json:"message"`
	Stack   []stackFrame `json:"stack"`
}

func xrayCause(e *errorBody, cwd string) *xrayError {
	x := &xrayError{
		WorkingDirectory: cwd,
		Exceptions:       []xrayException{{Type: e.Type, Message: e.Message, Stack: e.StackTrace}},
		Paths:            []string{},
	}
	if x.Exceptions[0].Stack == nil {
		x.Exceptions[0].Stack = []stackFrame{}
	}
	for _, f := range e.StackTrace {
		if !slices.Contains(x.Paths, f.Path) {
			x.Paths = append(x.Paths, f.Path)
		}
	}
	return x
}

// functionError is the error body of a handler's error: its message and
// the name of its type, as aws-lambda-go reports it. An aws-lambda-go
// messages.InvokeResponse_Error is the document itself, as lambda.Start
// takes it: that is how a Go handler names its own errorType (which Step
// Functions retry and catch on). An error with a method ErrorType() string
// that returns a name is reported under that name (funcify's
// idempotency.ReplayedError names the type of the error it replays);
// lambda.Start does not know that method and reports the Go type.
func functionError(err error) *errorBody {
	if e, ok := err.(messages.InvokeResponse_Error); ok {
		return fromMessage(&e)
	}
	if n, ok := err.(interface{ ErrorType() string }); ok {
		if t := n.ErrorType(); t != "" {
			return &errorBody{Message: err.Error(), Type: t}
		}
	}
	return &errorBody{Message: err.Error(), Type: errorType(err)}
}

// fromMessage copies aws-lambda-go's error document.
func fromMessage(e *messages.InvokeResponse_Error) *errorBody {
	b := &errorBody{Message: e.Message, Type: e.Type}
	for _, f := range e.StackTrace {
		if f != nil {
			b.StackTrace = append(b.StackTrace, stackFrame{Path: f.Path, Line: f.Line, Label: f.Label})
		}
	}
	return b
}

// describe returns the error document of a handler's error and whether
// the process must exit after posting it (an aws-lambda-go
// InvokeResponse_Error's ShouldExit). An Error method that panics (a typed
// nil pointer returned as an error) is reported as a panic, which exits.
func describe(err error) (e *errorBody, exit bool) {
	defer func() {
		if v := recover(); v != nil {
			e, exit = panicError(v), true
			e.Message = "runtimeapi: the handler's error panicked when asked its message: " + e.Message
		}
	}()
	if m, ok := err.(messages.InvokeResponse_Error); ok {
		return fromMessage(&m), m.ShouldExit
	}
	return functionError(err), false
}

// invocationError is the error body of an invocation the loop could not
// run.
func invocationError(msg, typ string) *errorBody {
	return &errorBody{Message: msg, Type: typ}
}

// tooLarge is the error body of a response over MaxResponseSize, worded as
// Lambda words its own.
func tooLarge(n int) *errorBody {
	return &errorBody{
		Message: fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", n, MaxResponseSize),
		Type:    "Function.ResponseSizeTooLarge",
	}
}

// errorType names v's type as aws-lambda-go does (see package errtype).
func errorType(v any) string { return errtype.Name(v) }

// maxFrames is how many frames of a panic's stack are reported.
const maxFrames = 32

// panicError is the error body of a panic with value v, called from the
// deferred function that recovered it: the message is v printed with %v,
// the type v's, and the stack starts at the function that panicked.
func panicError(v any) *errorBody {
	if e, ok := v.(messages.InvokeResponse_Error); ok {
		return fromMessage(&e)
	}
	var pcs [maxFrames + 16]uintptr
	n := runtime.Callers(1, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var stack, all []stackFrame
	for {
		f, more := frames.Next()
		if f.Function == "runtime.gopanic" {
			stack = stack[:0] // the frames so far are the recovery's
		} else if f.Function != "" {
			stack = append(stack, frame(f))
			all = append(all, frame(f))
		}
		if !more || len(stack) == maxFrames {
			break
		}
	}
	if len(stack) == 0 {
		stack = all
	}
	return &errorBody{Message: fmt.Sprintf("%v", v), Type: errorType(v), StackTrace: stack, panicked: true}
}

// frame formats f: the path keeps as many trailing elements as the
// function's import path has, plus the file name (so that a path under
// GOPATH or a module cache reads from the import path on); the label drops
// the package.
func frame(f runtime.Frame) stackFrame {
	label := f.Function
	path := f.File
	// i ends on the slash before the kept elements, or at -1 when the path
	// has fewer slashes than that: path[i+1:] then keeps it whole, and a
	// path with exactly as many drops only its leading slash.
	i := len(path)
	for range strings.Count(label, "/") + 2 {
		if i = strings.LastIndexByte(path[:i], '/'); i < 0 {
			break
		}
	}
	path = path[i+1:]
	label = label[strings.LastIndexByte(label, '/')+1:]
	label = label[strings.IndexByte(label, '.')+1:]
	return stackFrame{Path: path, Line: int32(f.Line), Label: label}
}
