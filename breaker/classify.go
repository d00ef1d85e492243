package breaker

import (
	"context"
	"errors"
	"net"
	"syscall"
)

// StatusError is implemented by errors that carry an HTTP status, such as
// httpclient's *HTTPError: [IsDownstreamFailure] counts 5xx statuses and
// not others.
type StatusError interface {
	error
	HTTPStatus() int
}

// IsDownstreamFailure is the default failure classifier. It counts only
// errors that say the downstream is unwell:
//
//   - an error carrying an HTTP status ([StatusError]) of 500 or more; a 4xx
//     (including 429) is the caller's problem or a throttle, not a failure;
//   - a timeout: context.DeadlineExceeded from the downstream call, or a
//     net.Error whose Timeout() is true;
//   - a refused, reset or aborted connection, an unreachable network or
//     host, and a failed DNS lookup.
//
// Everything else, context.Canceled included, does not count. Execute never
// counts an error caused by the caller's own context being done, whatever
// the classifier says.
func IsDownstreamFailure(err error) bool {
	if err == nil {
		return false
	}
	var se StatusError
	if errors.As(err, &se) {
		return se.HTTPStatus() >= 500
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.EPIPE} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
