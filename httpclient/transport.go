// Package httpclient is an HTTP client for calls from a Lambda function to
// other services: retries with backoff inside the invocation's deadline,
// behind a circuit breaker, with one log line per call.
//
//	orders := breaker.New(breaker.Settings{Name: "orders-api", Store: shared})
//	client := &http.Client{Transport: &httpclient.Transport{Breaker: orders}}
//
//	order, err := httpclient.GetJSON[Order](ctx, client, "https://orders.internal/orders/42")
//
// [Transport] is an http.RoundTripper decorator, so it serves any code that
// takes an *http.Client. [GetJSON], [PostJSON] and [PostForm] add JSON
// decoding and a typed [*HTTPError] for answers other than 2xx.
//
// # Errors and the HTTP answer
//
// A handler of funcify's app (or any server using package httperror) may
// return this package's errors as they are: its caller gets the failure as
// an upstream's, never the downstream's status, body or URL.
//
//   - An [*HTTPError] answers 502 "upstream error", whatever the
//     downstream's status: a downstream's 401 or 404 is not the caller's.
//     Its DownstreamStatus (and Status field) keep the downstream's status,
//     which a breaker classifies. A handler that means to pass a 404 on
//     says so itself.
//   - A circuit that is open answers 503 "service unavailable", with
//     Retry-After for what is left of its stand-down; retries given up at
//     the deadline 503 too (see packages breaker and retry), and so does a
//     downstream's Retry-After, capped at retry's [retry.WithMaxRetryAfter].
//   - Any other failure of a call, from [Transport.RoundTrip] (through
//     http.Client's *url.Error) or the helpers (a refused connection, an
//     answer cut short or not JSON): 504 "upstream timeout" when it ran out
//     of time, else 502 "upstream error". Inside a Lambda invocation a
//     downstream that hangs usually ends otherwise: once a try has run out
//     of AttemptTimeout, the next one seldom fits before the invocation's
//     deadline, and retry gives up before it with [retry.ErrDeadline],
//     which answers 503 "service unavailable". 504 is what a call gets
//     when its last try itself ran out of time: a single try, or a
//     deadline that left room for every try.
//   - A request that could not be built (a malformed URL, a body that does
//     not encode) is the handler's own error: 500.
package httpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/retry"
)

// Transport is an http.RoundTripper that retries and guards the requests it
// sends through Base:
//
//   - Each try is bounded by AttemptTimeout, so that a downstream that hangs
//     fails the try while the caller still has time: a failure that Breaker
//     counts, where a try cut off by the caller's own deadline would not be.
//   - A request is retried only when sending it again is safe: its method is
//     idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or it carries an
//     Idempotency-Key (or X-Idempotency-Key) header, and its body can be
//     sent again (no body, or GetBody set, as http.NewRequest does for
//     in-memory bodies). Such a request is retried on a transport error, a
//     5xx or a 429 answer. Any other request, a POST or PATCH without a key,
//     is retried only when it failed before it was written (its connection
//     was refused, the dial or the DNS lookup failed): the server may have
//     acted on it otherwise, even when it answered 502 or 504 or the
//     connection was reset, and sending it again could repeat its effects.
//     net/http's own retries follow the same rule.
//   - Retries use the backoff and tries of package retry (2 tries by
//     default), never go past the request context's deadline, and honour
//     Retry-After up to retry's cap ([retry.DefaultMaxRetryAfter], a minute,
//     set with [retry.WithMaxRetryAfter]): a server asking for longer ends
//     the retries at once. A 4xx other than 429 is final. When the retries
//     end on a 5xx or 429, that last answer is returned.
//   - Every try goes through Breaker, if set: transport errors, 5xx answers
//     and tries that ran out of AttemptTimeout count as failures, and an
//     open circuit fails the request at once with an error matching
//     breaker.ErrOpen. A try cut off by the caller's own context does not
//     count. For a request sent by [GetJSON], [PostJSON] or [PostForm], the
//     try includes reading the answer's body: a downstream that sends its
//     headers and then stalls runs out of AttemptTimeout, counts, and is
//     retried like a reset (so a POST is not); a body that the downstream
//     breaks off (cut short, connection reset) counts as a 502 would, and is
//     retried likewise; a half-open circuit's trial closes it only once the
//     body has arrived. For a request of your own
//     sent through RoundTrip, the breaker hears of the try when the headers
//     arrive: reading the body is still bounded by AttemptTimeout, but a
//     body that stalls is neither counted nor retried.
//   - Each request is logged once, with the request's context, at Info (Warn
//     when it failed, unless the caller's own context ended it), with its
//     method, host, status, tries and duration: never its query string,
//     headers or body.
//
// A Transport is safe for concurrent use; its fields must not change once
// it is in use.
type Transport struct {
	// Base sends each try; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Breaker, if set, guards every try.
	Breaker *breaker.Breaker
	// Retry holds options for package retry, such as
	// retry.WithMaxTries(3); the defaults are retry's.
	Retry []retry.Option
	// AttemptTimeout bounds each try, reading its answer's body included.
	// Zero means the default: [DefaultAttemptTimeout], and at most three
	// quarters of the time left before the request context's deadline, so
	// that a try that hangs ends, and counts as a failure, while the caller
	// keeps a quarter of its time to answer; but never less than 1 s. A try
	// that had less than that says more about its caller's lack of time
	// than about the downstream, and cutting it shorter would fail calls
	// that a healthy downstream answers in time (a late invocation with 1 s
	// left calling one that answers in 850 ms) and count them against it,
	// opening the circuit for every caller. So when the context's deadline
	// is 1 s away or less, a try has no bound of its own: it runs to that
	// deadline, which does not count. A try cut off by the default bound,
	// 1 s or more, counts: a downstream that hangs opens the circuit for
	// callers with the usual Lambda deadlines (2.25 s per try for 3 s left,
	// 10 s for 29 s). A positive value is used as given, and a try that
	// runs out of it counts, however short; a try that reaches the
	// context's deadline first ends there and does not count. A negative
	// value sets no bound of its own: each try runs to the context's
	// deadline, and a downstream that hangs is never counted.
	AttemptTimeout time.Duration
	// Logger receives the line logged for each request; nil means
	// slog.Default(). Use a logger that discards to log nothing.
	Logger *slog.Logger

	// now reads the clock that the default AttemptTimeout measures the
	// time left by; nil means time.Now. Tests set it, so that a try's bound
	// can be derived from a deadline other than the one that ends it.
	now func() time.Time
}

// DefaultAttemptTimeout bounds each try of a [Transport] whose
// AttemptTimeout is zero. When the request's context has a deadline less
// than about 13 s away, as most Lambda invocations do, the bound is shorter:
// three quarters of the time left, but not under 1 s; with 1 s left or
// less, a try runs to the deadline (see AttemptTimeout).
const DefaultAttemptTimeout = 10 * time.Second

// RoundTrip sends req, retrying and guarding it as [Transport] says. Like any
// RoundTripper, it returns the answer whatever its status, and an error only
// when there is no answer.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	start := time.Now()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	idempotent := isIdempotent(req)

	var last *http.Response // a retryable answer, kept in case the tries run out
	attempts := 0
	resp, err := retry.Do(ctx, func(ctx context.Context) (*http.Response, error) {
		attempts++
		if last != nil {
			discard(last)
			last = nil
		}
		try, err := t.prepare(ctx, req, attempts)
		if err != nil {
			return nil, retry.Permanent(err)
		}
		resp, err := t.send(ctx, try)
		switch {
		case errors.Is(err, breaker.ErrOpen):
			return nil, retry.Permanent(err)
		case err != nil:
			if !replayable || ctx.Err() != nil || !(idempotent || notSent(err)) {
				return nil, retry.Permanent(err)
			}
			return nil, err
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			if !replayable || !idempotent {
				return resp, nil
			}
			last = resp
			status := &statusError{status: resp.StatusCode}
			if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				return nil, retry.RetryAfter(d, status)
			}
			return nil, status
		}
		return resp, nil
	}, t.Retry...)

	if err != nil && last != nil {
		resp, err = last, nil
	}
	t.log(ctx, req, resp, err, attempts, start)
	if err != nil {
		return nil, upstream(err)
	}
	return resp, nil
}

// isIdempotent reports whether req may be sent twice with the effect of
// once: its method says so (RFC 9110, section 9.2.2), or it carries an
// idempotency key, which net/http also takes as that promise.
func isIdempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

// notSent reports whether err shows that the request never left: no
// connection was made, so no byte of it was written.
func notSent(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// attemptTimeout returns the bound of a try that starts at now under ctx,
// as AttemptTimeout says, or 0 for none.
func (t *Transport) attemptTimeout(ctx context.Context, now time.Time) time.Duration {
	switch {
	case t.AttemptTimeout > 0:
		return t.AttemptTimeout
	case t.AttemptTimeout < 0:
		return 0
	}
	return attempt.Bound(ctx, now, DefaultAttemptTimeout)
}

func (t *Transport) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// prepare returns the request for one try: a clone with a fresh body after
// the first.
func (t *Transport) prepare(ctx context.Context, req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 1 {
		return req, nil
	}
	try := req.Clone(ctx)
	if attempt > 1 && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		try.Body = body
	}
	return try, nil
}

// send makes one try through the breaker. For the helpers (see
// withPreread), the try includes reading the answer's body.
func (t *Transport) send(ctx context.Context, req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	do := func(ctx context.Context) (*http.Response, error) {
		try, cancel := req, context.CancelFunc(nil)
		if d := t.attemptTimeout(ctx, t.clock()); d > 0 {
			var tctx context.Context
			tctx, cancel = context.WithTimeout(ctx, d)
			try = req.WithContext(tctx)
		}
		resp, err := base.RoundTrip(try)
		if err != nil {
			if cancel != nil {
				cancel()
			}
			return nil, err
		}
		if prereads(ctx) {
			if err := preread(try.Context(), resp, maxResponse, cancel); err != nil {
				return nil, err
			}
		} else if cancel != nil {
			resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		}
		return resp, classify(resp)
	}
	if t.Breaker == nil {
		resp, err := do(ctx)
		return resp, unwrapStatus(err)
	}
	resp, err := breaker.Execute(ctx, t.Breaker, do)
	return resp, unwrapStatus(err)
}

// prereadKey marks the context of a request sent by the helpers, whose
// answer's body is read inside the try.
type prereadKey struct{}

// withPreread returns ctx marked so that a Transport sending a request with
// it reads the answer's body within the try, where AttemptTimeout bounds it
// and the breaker sees how it ended. The helpers use it: they read the whole
// body anyway. The mark reaches the Transport through any RoundTripper that
// wraps it and keeps the request's context; a request of another
// RoundTripper made with the same context is read ahead too, which changes
// nothing of what its reader gets (see preread).
func withPreread(ctx context.Context) context.Context {
	return context.WithValue(ctx, prereadKey{}, true)
}

func prereads(ctx context.Context) bool {
	v, _ := ctx.Value(prereadKey{}).(bool)
	return v
}

// preread reads resp's body, up to limit+1 bytes, under ctx, the try's
// context, and then calls cancel, if not nil, to end the try. A body that
// fails to arrive fails the try with the context's error when it ended it
// (so that the breaker counts a try that ran out of AttemptTimeout and not
// one cut off by the caller), else with a [*readError]: the downstream
// broke off its answer (cut short, reset), a failure that the breaker
// counts as it counts a bad gateway. The body resp keeps reads the same
// bytes as the original: those read ahead, then, past limit, the rest of
// the original, whose Close ends the try.
func preread(ctx context.Context, resp *http.Response, limit int64, cancel context.CancelFunc) error {
	done := func() {
		if cancel != nil {
			cancel()
		}
	}
	buf, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		// Ask ctx why before done cancels it: after, every failure
		// would read as context.Canceled, which never counts.
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		} else {
			err = &readError{err: err}
		}
		resp.Body.Close()
		done()
		return fmt.Errorf("httpclient: reading the answer: %w", err)
	}
	if int64(len(buf)) <= limit { // the whole body
		resp.Body.Close()
		done()
		resp.Body = io.NopCloser(bytes.NewReader(buf))
		return nil
	}
	rest := resp.Body
	resp.Body = &cancelBody{ReadCloser: struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), rest), rest}, cancel: done}
	return nil
}

// classify turns a 5xx answer into an error for the breaker to count.
func classify(resp *http.Response) error {
	if resp.StatusCode >= 500 {
		return &statusError{status: resp.StatusCode}
	}
	return nil
}

// unwrapStatus drops the error classify made: the answer itself goes back.
func unwrapStatus(err error) error {
	var se *statusError
	if errors.As(err, &se) {
		return nil
	}
	return err
}

// statusError is a 5xx or 429 answer, as an error for the breaker and for
// retry. It never reaches the caller: the answer itself does.
type statusError struct{ status int }

func (e *statusError) Error() string         { return "httpclient: status " + http.StatusText(e.status) }
func (e *statusError) DownstreamStatus() int { return e.status }

// readError is an answer whose body the downstream broke off while the try
// still had time: cut short (io.ErrUnexpectedEOF), or its connection reset.
// The answer never arrived whole, so it is the downstream's failure, whatever
// its status said: it implements breaker.DownstreamError with status 502,
// so that a breaker counts it as it counts a bad gateway, and a half-open
// circuit's trial that gets it does not close the circuit. It wraps the
// read's error.
type readError struct{ err error }

func (e *readError) Error() string         { return e.err.Error() }
func (e *readError) Unwrap() error         { return e.err }
func (e *readError) DownstreamStatus() int { return http.StatusBadGateway }

// cancelBody cancels a try's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// discard drains a little of a body, so the connection can be reused, and
// closes it.
func discard(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

func (t *Transport) log(ctx context.Context, req *http.Request, resp *http.Response, err error, attempts int, start time.Time) {
	l := t.Logger
	if l == nil {
		l = slog.Default()
	}
	level := slog.LevelInfo
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if err != nil || status >= 500 {
		level = slog.LevelWarn
	}
	if attempt.EndedByCaller(ctx, err) {
		level = slog.LevelInfo // the caller's own context ended the call
	}
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("host", req.URL.Host),
		slog.Int("status", status),
		slog.Int("attempts", attempts),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", redact.Text(err)))
	}
	l.LogAttrs(ctx, level, "http call", attrs...)
}
