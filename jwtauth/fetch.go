package jwtauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/internal/breakerclock"
	"github.com/funcify/funcify/internal/redact"
)

// failureBackoff is the least time between a failed fetch and the next,
// unless the refresh interval is shorter: long enough that a failing
// provider is not hammered by every request, short enough that one failure
// does not turn every request away for the whole refresh interval. The
// breaker limits what a lasting outage costs.
const failureBackoff = 5 * time.Second

// fetchTimeout bounds each fetch of a document, unless the caller's
// deadline calls for less ([fetchBound]).
const fetchTimeout = 10 * time.Second

// defaultBreaker guards a source's fetches when no breaker was given: the
// defaults of package breaker, its state shared through the source's store
// if it has one. name is logged and is part of a store key: it must not
// hold a URL's secrets, and must tell apart the URLs that differ only in
// them ([urlName]), or they would share one circuit across the fleet.
func defaultBreaker(name string, o options) *breaker.Breaker {
	s := breaker.Settings{Name: name, Store: o.store, Logger: o.logger}
	breakerclock.Set(&s, o.now) // the source's clock, which its tests move
	return breaker.New(s)
}

// urlName names rawURL in store keys, breaker names and so in logs: the URL
// without its query, user information and fragment, which may carry
// secrets and would be written in clear into the store's key space and
// logs, then a hash of the whole URL, so that URLs that differ only in
// those parts keep apart: Azure AD B2C serves one JWKS per user flow, told
// apart by the query ("?p=B2C_1_signin"), and each has its own circuit.
func urlName(rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return redact.String(rawURL) + "#" + hex.EncodeToString(sum[:8])
}

// checkURL returns why rawURL, the URL of what, cannot be fetched: it does
// not parse or is not an absolute http or https URL. The error names the
// URL without its secrets: it is logged, here and by the app.
func checkURL(what, rawURL string) error {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return fmt.Errorf("jwtauth: %s URL: %w", what, redact.Error(err))
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("jwtauth: %s URL %q is not an absolute http or https URL", what, redact.URL(u))
	}
	return nil
}

// heldBack reports whether a fetch under ctx is held back by a failure
// since ago, given the backoff: within the backoff, unless the failure was
// a fetch cut short by its caller's deadline (short) and a fetch under ctx
// would get the whole fetchTimeout. A caller short of time too would most
// likely fail the same way, and a provider that hangs would be called by
// each such caller in turn; a caller with time may well get the document.
func heldBack(ctx context.Context, since, backoff time.Duration, short bool) bool {
	if since >= backoff {
		return false
	}
	return !short || fetchBound(ctx, time.Now()) < fetchTimeout
}

// logFetchError logs a failed fetch of a document with the caller's ctx:
// as a warning, or at debug level while the circuit is open (the breaker
// itself logs nothing when it opens, but the failures that opened it were
// logged as warnings here, and a line per fetch the open circuit skips
// would say nothing new). A fetch cut off by the caller's own context
// ending is no failure of the provider, and is not logged.
func logFetchError(ctx context.Context, o options, msg string, which slog.Attr, err error) {
	if ctx.Err() != nil {
		return
	}
	level := slog.LevelWarn
	if errors.Is(err, breaker.ErrOpen) {
		level = slog.LevelDebug
	}
	o.logger.LogAttrs(ctx, level, msg, which, slog.String("error", redact.Text(err)))
}

// statusError is an answer other than 200; it implements
// breaker.DownstreamError, so 5xx answers count as failures. It has no
// HTTPStatus: the provider's status is not the answer funcify's caller
// gets, which is ErrKeysUnavailable's.
type statusError struct{ status int }

func (e *statusError) Error() string         { return "jwtauth: status " + strconv.Itoa(e.status) }
func (e *statusError) DownstreamStatus() int { return e.status }

// unusableError is an answer of status 200 whose document cannot be used:
// not JSON, no usable key, another issuer, no usable jwks_uri, too large.
// It is the provider's failure (an HTML maintenance page from a proxy in
// front of it, a misconfiguration), and counts in the breaker as a bad
// gateway does: it implements breaker.DownstreamError with status 502.
type unusableError struct{ err error }

func (e *unusableError) Error() string         { return e.err.Error() }
func (e *unusableError) Unwrap() error         { return e.err }
func (e *unusableError) DownstreamStatus() int { return http.StatusBadGateway }

// fetchBound returns the timeout of a fetch that starts now under ctx:
// fetchTimeout, and at most three quarters of the time left before ctx's
// deadline (never under a second), so that a provider that hangs ends the
// fetch on its own timeout, which counts as a failure, while the caller
// keeps a quarter of its time. With a second or less left, the fetch has
// no bound of its own: it ends on the caller's deadline and counts for
// nothing, since so short a fetch says little of the provider.
func fetchBound(ctx context.Context, now time.Time) time.Duration {
	return attempt.Bound(ctx, now, fetchTimeout)
}

// shortFetch is the failure of a fetch that ran out of a bound of its own
// that its caller's deadline had made shorter than fetchTimeout, while the
// caller's context was still live. It is a timeout, which the breaker
// counts, and a failure of that caller's lack of time, which a concurrent
// caller with more time does not inherit.
type shortFetch struct{ err error }

func (e *shortFetch) Error() string { return e.err.Error() }
func (e *shortFetch) Unwrap() error { return e.err }

// isShortFetch reports whether err, the failure of a fetch made for ctx,
// is a [shortFetch] and ctx still live.
func isShortFetch(ctx context.Context, err error) bool {
	var short *shortFetch
	return errors.As(err, &short) && ctx.Err() == nil
}

// fetch GETs the JSON document at rawURL through the breaker, if any, and
// returns what use makes of it. use runs inside the breaker's call, so
// that an answer it refuses counts as a failure, as an error status does,
// and so does an answer the provider broke off. Each fetch is bounded by
// [fetchBound]; one that runs out of a bound shortened by ctx's deadline
// fails with a [*shortFetch].
func fetch[T any](ctx context.Context, o options, rawURL string, use func(doc []byte) (T, error)) (T, error) {
	get := func(ctx context.Context) (T, error) {
		d := fetchBound(ctx, time.Now())
		fctx := ctx
		if d > 0 {
			var cancel context.CancelFunc
			fctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		v, err := fetchOnce(fctx, o, rawURL, use)
		if err != nil && d < fetchTimeout && errors.Is(err, context.DeadlineExceeded) && fctx.Err() != nil && ctx.Err() == nil {
			return v, &shortFetch{err}
		}
		return v, err
	}
	if o.breaker == nil {
		return get(ctx)
	}
	return breaker.Execute(ctx, o.breaker, get)
}

// fetchOnce GETs the document at rawURL under ctx, the fetch's own, and
// returns what use makes of it.
func fetchOnce[T any](ctx context.Context, o options, rawURL string, use func(doc []byte) (T, error)) (T, error) {
	var zero T
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return zero, redact.Error(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.client.Do(req)
	if err != nil {
		// The *url.Error names the URL, query and all; the error is
		// logged, here and by the app.
		return zero, redact.Error(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return zero, &statusError{status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, o.maxSize+1))
	if err != nil {
		if ctx.Err() != nil {
			// Whose deadline ended the read decides whether it
			// counts: keep it in the chain for the breaker.
			return zero, fmt.Errorf("jwtauth: reading the document: %w", ctx.Err())
		}
		// The provider broke off its answer (cut short, reset):
		// a failure to count, as an unusable document is.
		return zero, &unusableError{fmt.Errorf("jwtauth: reading the document: %w", err)}
	}
	if int64(len(body)) > o.maxSize {
		return zero, &unusableError{errors.New("jwtauth: document too large")}
	}
	v, err := use(body)
	if err != nil {
		return zero, &unusableError{err}
	}
	return v, nil
}
