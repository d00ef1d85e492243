package breaker

import (
	"context"
	"errors"
	"net"
	"syscall"
)

// DownstreamError is implemented by errors that carry the HTTP status a
// downstream answered with, such as httpclient's *HTTPError:
// [IsDownstreamFailure] counts 5xx statuses and not others.
//
// DownstreamStatus is the downstream's status, not the one funcify's own
// caller gets: that is HTTPStatus (see package httperror), which the
// classifier does not read. An error may have both: httpclient's *HTTPError
// for an upstream 404 says DownstreamStatus 404, which does not count, and
// HTTPStatus 502, so that a handler returning it answers its own caller 502
// rather than 404.
//
// It replaces the StatusError interface, whose HTTPStatus() >= 500 the
// classifier counted: an error type that implemented StatusError for the
// breaker implements DownstreamStatus now, and HTTPStatus only for the
// answer its own callers get.
type DownstreamError interface {
	error
	DownstreamStatus() int
}

// IsDownstreamFailure is the default failure classifier. It counts only
// errors that say the downstream is unwell:
//
//   - an error carrying a downstream's HTTP status ([DownstreamError]) of
//     500 or more; a 4xx (including 429) is the caller's problem or a
//     throttle, not a failure;
//   - a timeout: context.DeadlineExceeded from the downstream call, or a
//     net.Error whose Timeout() is true;
//   - a refused, reset or aborted connection, an unreachable network or
//     host, and a failed DNS lookup.
//
// Everything else, context.Canceled included, does not count, nor does an
// error's HTTPStatus (the answer to funcify's caller), so another breaker's
// [ErrOpen] does not. Execute never counts an error caused by the caller's
// own context being done, whatever the classifier says.
func IsDownstreamFailure(err error) bool {
	if err == nil {
		return false
	}
	var de DownstreamError
	if errors.As(err, &de) {
		return de.DownstreamStatus() >= 500
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
