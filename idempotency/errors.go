package idempotency

import (
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/funcify/funcify/internal/errtype"
)

// The errors of a call that [Do] refuses without running its function.
// ErrInProgress, ErrPayloadMismatch and ErrStoreUnavailable answer funcify's
// HTTP caller (see package httperror) with a status of their own: they
// implement HTTPStatus and PublicMessage. Their text, for logs, holds no key
// and no payload.
var (
	// ErrInProgress refuses a duplicate while the first call with its key
	// runs (and, with Config.Wait, once the duplicate can wait no longer
	// within its deadline): 409 "a request with this idempotency key is in
	// progress". Retry later.
	ErrInProgress error = &stateError{
		msg:    "idempotency: a call with this key is in progress",
		status: http.StatusConflict,
		public: "a request with this idempotency key is in progress",
	}
	// ErrPayloadMismatch refuses a call whose key was used with another
	// payload (Config.CheckPayload): 422 "the idempotency key was used with
	// another request". The other payload's result is never served.
	ErrPayloadMismatch error = &stateError{
		msg:    "idempotency: the key was used with another payload",
		status: http.StatusUnprocessableEntity,
		public: "the idempotency key was used with another request",
	}
	// ErrStoreUnavailable is wrapped, with the store's error, by the error
	// of a call refused because the store failed (Config.OnStoreError
	// FailClosed): 503 "service unavailable". Test with errors.Is.
	ErrStoreUnavailable error = &stateError{
		msg:    "idempotency: store unavailable",
		status: http.StatusServiceUnavailable,
		public: "service unavailable",
	}
	// ErrResultTooLarge is wrapped by the error that [Do] returns, with the
	// function's result, when the result is too large to store
	// (Config.MaxResultBytes), and by the error of the duplicates of that
	// call, which cannot be given the result. It carries no status: an HTTP
	// caller gets 500.
	ErrResultTooLarge = errors.New("idempotency: result too large to store")
)

// stateError is the type of the errors above that carry an HTTP status.
type stateError struct {
	msg    string
	status int
	public string
}

func (e *stateError) Error() string { return e.msg }

// HTTPStatus returns the status of funcify's HTTP answer.
func (e *stateError) HTTPStatus() int { return e.status }

// PublicMessage returns the message an HTTP caller sees.
func (e *stateError) PublicMessage() string { return e.public }

// Final marks err, returned by the function that [Do] runs, as final: Do
// stores it as the call's outcome, and duplicates get it back as a
// [*ReplayedError] instead of running the function again. Without Final, an
// error lets a retry run the function. Mark the errors that a retry would
// only repeat: a refused payment, an order for a product that does not
// exist. Final(nil) is nil.
//
// [Do] returns err itself to the first caller (not the error Final made,
// which has err's text and unwraps to err), so that its type is what the
// Lambda runtime reports.
func Final(err error) error {
	if err == nil {
		return nil
	}
	return &finalError{err: err}
}

type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

func isFinal(err error) bool {
	var f *finalError
	return errors.As(err, &f)
}

// ReplayedError is the error that [Do] returns to a duplicate of a call whose
// function failed with a [Final] error: that error as it was stored. Its text
// is the original's, and it answers an HTTP caller as the original did (the
// status and public message that package httperror chose for it). The
// original error's type and chain do not survive the store:
// errors.Is(err, ErrOutOfStock) holds for the first caller, not for its
// duplicates; test for a ReplayedError with errors.As, and compare Status or
// Message if you must tell final errors apart.
type ReplayedError struct {
	// Message is the original error's text, cut to 1 KB.
	Message string
	// Status is the HTTP status the original error answered with.
	Status int
	// Public is the message an HTTP caller saw, cut to 1 KB.
	Public string
	// Type is the name of the original error's type (without its package
	// or pointer), as the Lambda runtime names a function error: [Func]
	// returns a duplicate's error under that name, so that Step Functions'
	// Retry and Catch match it as they matched the first call's.
	Type string
}

func (e *ReplayedError) Error() string { return e.Message }

// HTTPStatus returns Status.
func (e *ReplayedError) HTTPStatus() int { return e.Status }

// PublicMessage returns Public.
func (e *ReplayedError) PublicMessage() string { return e.Public }

// ErrorType returns Type: funcify's Lambda runtime loop (runtimeapi) reports
// the error under that name, the original's, so that Step Functions' Retry
// and Catch match a duplicate as they matched the first call.
// aws-lambda-go's lambda.Start reports it as ReplayedError.
func (e *ReplayedError) ErrorType() string { return e.Type }

// typeName names err's type as the Lambda runtime does in a function
// error's errorType: without its package or pointer; an aws-lambda-go
// InvokeResponse_Error by the type it names.
func typeName(err error) string {
	switch e := err.(type) {
	case messages.InvokeResponse_Error:
		return e.Type
	case *messages.InvokeResponse_Error:
		if e != nil {
			return e.Type
		}
	}
	return errtype.Name(err)
}

// message returns err's message as the Lambda runtime reports it: an
// aws-lambda-go InvokeResponse_Error's Message, else err.Error().
func message(err error) string {
	switch e := err.(type) {
	case messages.InvokeResponse_Error:
		return e.Message
	case *messages.InvokeResponse_Error:
		if e != nil {
			return e.Message
		}
	}
	return err.Error()
}
