package result

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// Result is either a value of type T or an error.
//
// The zero Result is successful and holds the zero value of T.
type Result[T any] struct {
	v   T
	err error
}

// errNilErr is the error of a Result made by Err(nil), so that a result made
// by Err is never successful.
var errNilErr = errors.New("result: Err called with a nil error")

// Ok returns a successful Result holding v.
func Ok[T any](v T) Result[T] {
	return Result[T]{v: v}
}

// Err returns a failed Result holding err.
//
// Err(nil) is a programming error; it still returns a failed Result, whose
// error says that Err was called with a nil error.
func Err[T any](err error) Result[T] {
	if err == nil {
		err = errNilErr
	}
	return Result[T]{err: err}
}

// Of returns a Result from the return values of a (T, error) function:
// failed if err is non-nil, successful otherwise.
//
// Of keeps v even when err is non-nil, so that [Result.Get] returns exactly
// what the function returned (some functions, such as io.Reader.Read, return a
// partial value together with an error).
func Of[T any](v T, err error) Result[T] {
	return Result[T]{v: v, err: err}
}

// Get returns the value and the error, in the usual Go shape.
func (r Result[T]) Get() (T, error) {
	return r.v, r.err
}

// IsOk reports whether r is successful, that is whether its error is nil.
func (r Result[T]) IsOk() bool {
	return r.err == nil
}

// Value returns the value held by r. For a failed Result it is the zero value
// of T, or the value passed to [Of] along with the error.
func (r Result[T]) Value() T {
	return r.v
}

// Err returns the error held by r, or nil if r is successful.
func (r Result[T]) Err() error {
	return r.err
}

// OrElse returns the value of r if r is successful, and v otherwise.
func (r Result[T]) OrElse(v T) T {
	if r.err != nil {
		return v
	}
	return r.v
}

// Map returns fn applied to the value of r if r is successful; otherwise it
// returns r's error without calling fn.
func Map[T, U any](r Result[T], fn func(T) U) Result[U] {
	if r.err != nil {
		return Result[U]{err: r.err}
	}
	return Result[U]{v: fn(r.v)}
}

// Then calls fn with the value of r if r is successful and returns fn's
// results as a Result; otherwise it returns r's error without calling fn.
func Then[T, U any](r Result[T], fn func(T) (U, error)) Result[U] {
	if r.err != nil {
		return Result[U]{err: r.err}
	}
	return Of(fn(r.v))
}

// ThenResult is [Then] for a step that itself returns a Result.
func ThenResult[T, U any](r Result[T], fn func(T) Result[U]) Result[U] {
	if r.err != nil {
		return Result[U]{err: r.err}
	}
	return fn(r.v)
}

// Recover calls fn with the error of r if r failed and returns fn's results
// as a Result, so fn can replace the failure by a value or by another error;
// if r is successful, Recover returns it without calling fn.
//
// Recover has nothing to do with the built-in recover: see [Try] for panics.
func Recover[T any](r Result[T], fn func(error) (T, error)) Result[T] {
	if r.err == nil {
		return r
	}
	return Of(fn(r.err))
}

// Try calls fn and returns its results as a Result. If fn panics, Try
// recovers and returns a failed Result whose error is a [*PanicError]
// carrying the panic value and the stack of the panicking goroutine.
//
// Try does not stop runtime.Goexit. Only fn is protected: functions passed
// to [Map], [Then] and the others are called without recovering.
func Try[T any](fn func() (T, error)) (r Result[T]) {
	defer func() {
		if v := recover(); v != nil {
			r = Result[T]{err: newPanicError(v)}
		}
	}()
	return Of(fn())
}

// Run is [Try] for a function that returns only an error: it calls fn and
// returns its error, or a [*PanicError] if fn panics.
func Run(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return fn()
}

// PanicError is the error returned by [Try] and [Run] when the function they
// call panics. Use errors.As to get at it.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack trace of the goroutine at the time of the panic,
	// formatted by runtime/debug.Stack.
	Stack []byte
}

func newPanicError(v any) *PanicError {
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// Error returns "result: panic: " followed by the panic value. It does not
// include the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("result: panic: %v", e.Value)
}

// Unwrap returns the panic value if it is an error, and nil otherwise, so
// that errors.Is and errors.As see through a panic with an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
