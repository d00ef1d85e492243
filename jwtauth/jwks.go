package jwtauth

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/internal/flight"
	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/store"
)

// Option configures [NewJWKS] and [NewOIDC].
type Option func(*options)

type options struct {
	client   *http.Client
	breaker  *breaker.Breaker
	store    store.Store
	interval time.Duration
	backoff  time.Duration // least time between a failed fetch and the next
	maxAge   time.Duration
	maxSize  int64
	now      func() time.Time
	logger   *slog.Logger
	sealKey  []byte // authenticates what is read back from store
	sealSet  bool   // WithSealKey was given, even with an empty key
}

// WithHTTPClient sets the client that fetches documents. Default: a client
// on http.DefaultTransport. Give it an httpclient.Transport for retries.
// Whatever the client, each fetch is bounded by its own timeout: 10
// seconds, and at most three quarters of the time left before the
// caller's deadline, so that a provider that hangs ends the fetch while
// the caller still has time to answer, and counts as a failure (see
// [WithRefreshInterval]).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithBreaker guards every fetch with b (default: a breaker of package
// breaker's defaults for each source, sharing its state through the
// source's store): while its circuit is open, no
// request is sent and cached keys keep serving.
func WithBreaker(b *breaker.Breaker) Option { return func(o *options) { o.breaker = b } }

// WithStore persists the fetched documents in s, shared by every instance,
// so that a cold instance finds the keys there instead of fetching them.
// A failing store is logged and otherwise ignored. A stored key set older
// than the refresh interval is used only when the provider fails, and
// never once it is older than 7 days (the time the store keeps it), so
// that an old document replayed into the store cannot bring back keys the
// provider rotated out long ago. The store keys name each document's URL
// without its query, user information or fragment, followed by a hash of
// the whole URL.
//
// What a source reads back from s decides which signatures it accepts:
// without [WithSealKey], s is a trust anchor, and whoever can write to it
// can plant signing keys.
func WithStore(s store.Store) Option { return func(o *options) { o.store = s } }

// WithSealKey authenticates the documents that the source keeps in its
// store ([WithStore]) with HMAC-SHA256 under key, which must be at least 32
// random bytes ([NewJWKS] and [NewOIDC] panic otherwise). A value read back
// without a valid tag is logged, ignored and replaced by a fetch from the
// provider, so that whoever can write to the store but does not hold key
// cannot plant signing keys or a jwks_uri. A seal proves who wrote a
// value, not when: an old sealed key set replayed into the store serves
// only within the bounds of [WithStore]. Every source that shares the
// store must have the same key. The documents are public and are not
// encrypted. Without a key, a source also reads sealed values, without
// checking their tags, so that a fleet can move to a key one instance at a
// time.
func WithSealKey(key []byte) Option {
	return func(o *options) { o.sealKey, o.sealSet = append([]byte(nil), key...), true }
}

// WithRefreshInterval sets the least time between a successful fetch of a
// document and the next: a token of an unknown "kid" triggers a fetch at
// most this often, however many such tokens come. Default 1 minute.
//
// A fetch that failed (an error status, a refused connection, a timeout
// of the fetch itself, an unusable document such as an HTML page answered
// with 200, an open circuit) is tried again by a later request after a
// short backoff instead, counted from the moment the fetch failed: 5
// seconds, or the refresh interval if shorter. A fetch cut off by its
// caller's own context ending is no failure: the next request fetches at
// once. The fetch's own timeout ([WithHTTPClient]) is shorter than the
// caller's time left, so a provider that hangs fails the fetch rather
// than the caller. When that timeout, made shorter than 10 seconds by the
// caller's deadline, ends the fetch, the backoff holds back only the
// requests whose fetch would be as short: one with time for a whole
// 10-second fetch tries at once.
func WithRefreshInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// failureBackoff is the least time between a failed fetch and the next,
// unless the refresh interval is shorter: long enough that a failing
// provider is not hammered by every request, short enough that one failure
// does not turn every request away for the whole refresh interval. The
// breaker limits what a lasting outage costs.
const failureBackoff = 5 * time.Second

// fetchTimeout bounds each fetch of a document, unless the caller's
// deadline calls for less ([fetchBound]).
const fetchTimeout = 10 * time.Second

// storeTTL is how long the store keeps a document, and the age past which
// a stored key set is refused even when the provider fails.
const storeTTL = 7 * 24 * time.Hour

// WithMaxAge sets how long a fetched key set is used before it is fetched
// again, during the next validation. Until a fetch succeeds the old set
// keeps serving. Default 1 hour.
func WithMaxAge(d time.Duration) Option { return func(o *options) { o.maxAge = d } }

// WithMaxSize caps the size of a fetched document. Default 1 MiB.
func WithMaxSize(n int64) Option { return func(o *options) { o.maxSize = n } }

// WithClock sets the source of the current time. Default time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger for fetch and store failures. Default
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

func newOptions(opts []Option) options {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		o.client = &http.Client{}
	}
	if o.interval <= 0 {
		o.interval = time.Minute
	}
	o.backoff = min(failureBackoff, o.interval)
	if o.sealSet && len(o.sealKey) < minSealKey {
		panic(fmt.Sprintf("jwtauth: WithSealKey needs at least %d bytes, got %d", minSealKey, len(o.sealKey)))
	}
	if o.maxAge <= 0 {
		o.maxAge = time.Hour
	}
	if o.maxSize <= 0 {
		o.maxSize = 1 << 20
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

// JWKS is a [KeySource] that fetches a JSON Web Key Set from a URL, lazily,
// during a validation: there is no background goroutine, which a frozen
// Lambda would not run. It fetches when it has no keys, when its keys are
// older than the max age, and when a token names a kid it does not hold.
// After a successful fetch the next waits the refresh interval; after a
// failed one, a short backoff ([WithRefreshInterval]). Each fetch is
// bounded by a timeout of its own ([WithHTTPClient]) and goes through a
// circuit breaker; a document that is not a usable key set counts as a
// failure, as an error status does. Fetched keys are kept in memory and,
// with [WithStore], in the shared store. A failed fetch keeps the keys it
// had.
//
// Concurrent validations that need a fetch share one, under the rule of
// funcify's single-flight: the fetch runs with the context of the
// validation that started it; when that context ends mid-fetch, a waiting
// validation whose context is live fetches again with its own, and nothing
// is counted against the provider. A waiting validation also fetches again
// when the fetch ran out of a timeout that the leader's deadline made
// short (see [WithRefreshInterval]); a fetch that failed otherwise fails
// for every validation that waited for it.
//
// A JWKS is safe for concurrent use; build one at init and share it.
type JWKS struct {
	url    string
	urlErr error  // why url cannot be fetched, or nil
	key    string // the store key
	o      options
	flight flight.Group[*KeySet]

	mu          sync.Mutex // guards the fields below
	set         *KeySet
	fetchedAt   time.Time // when set was fetched from the provider
	refreshedAt time.Time // when a refresh last succeeded here: the next waits the interval
	failedAt    time.Time // when the last refresh failed, zero after a success: the next waits the backoff
	failedShort bool      // the last refresh failed on a bound its caller's deadline shortened
}

// NewJWKS returns a key source for the JWKS at rawURL. It does not fetch.
// It panics if [WithSealKey] was given a key under 32 bytes. A rawURL
// that is not an absolute http or https URL makes every validation that
// needs the keys fail with ErrKeysUnavailable, and an error that names the
// URL without its query or user information.
func NewJWKS(rawURL string, opts ...Option) *JWKS {
	o := newOptions(opts)
	if o.breaker == nil {
		o.breaker = defaultBreaker("jwtauth jwks "+urlName(rawURL), o)
	}
	return &JWKS{url: rawURL, urlErr: checkURL("JWKS", rawURL), key: storeKey("jwks", rawURL), o: o}
}

// defaultBreaker guards a source's fetches when no breaker was given: the
// defaults of package breaker, its state shared through the source's store
// if it has one. name is logged and is part of a store key: it must not
// hold a URL's secrets, and must tell apart the URLs that differ only in
// them ([urlName]), or they would share one circuit across the fleet.
func defaultBreaker(name string, o options) *breaker.Breaker {
	return breaker.New(breaker.Settings{Name: name, Store: o.store, Logger: o.logger, Now: o.now})
}

// storeKey is the store key of the document of kind at rawURL (see
// [urlName]).
func storeKey(kind, rawURL string) string {
	return "jwtauth/" + kind + "/" + urlName(rawURL)
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

// Key returns the key of id kid that fits alg, fetching the set if needed.
// It returns ErrUnknownKey if the set has no such key and an error
// matching ErrKeysUnavailable if there is no set at all, whatever kept
// it from being fetched: the caller's own context ending while it waited
// for a fetch too, since that is no verdict on the token.
func (j *JWKS) Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	j.mu.Lock()
	set, fresh := j.set, j.o.now().Sub(j.fetchedAt) < j.o.maxAge
	j.mu.Unlock()
	if set != nil && fresh {
		if k, err := set.Key(ctx, kid, alg); err == nil {
			return k, nil
		}
	}
	set, err := j.refresh(ctx)
	if set == nil {
		// A waiter that gave up returns no set: the one held, if any,
		// still serves.
		j.mu.Lock()
		set = j.set
		j.mu.Unlock()
	}
	if set == nil {
		if errors.Is(err, ErrKeysUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return set.Key(ctx, kid, alg)
}

var (
	errTooSoon       = fmt.Errorf("%w: refreshed too recently", ErrKeysUnavailable)
	errRecentFailure = fmt.Errorf("%w: the last fetch failed moments ago", ErrKeysUnavailable)
)

// refresh brings the set up to date, sharing one refresh among concurrent
// callers. It returns the set held afterwards, which may be older than
// asked for, with the error that kept it from being newer.
func (j *JWKS) refresh(ctx context.Context) (*KeySet, error) {
	set, err, _ := j.flight.Do(ctx, "", j.refreshOnce)
	return set, err
}

// refreshOnce loads a newer set unless the last refresh was too recent. A
// refresh cut off by ctx ending records nothing: it says nothing about the
// provider.
//
// A refresh that failed because its caller was short of time (its fetch
// ran out of a bound that the caller's deadline shortened, see
// [shortFetch]) is that caller's own failure: it is marked
// [flight.LeadersOwn], so that a waiting validation with more time fetches
// again instead of inheriting it, and its backoff holds back only the
// callers short of time too (see [JWKS.gate]).
func (j *JWKS) refreshOnce(ctx context.Context) (*KeySet, error) {
	j.mu.Lock()
	now := j.o.now()
	if err := j.gate(ctx, now); err != nil {
		set, short := j.set, j.failedShort
		j.mu.Unlock()
		if short {
			// Held back only for want of time: a waiter with more
			// time behind this caller may fetch.
			err = flight.LeadersOwn(err)
		}
		return set, err
	}
	since, had := j.fetchedAt, j.set != nil
	j.mu.Unlock()

	set, at, err := j.load(ctx, since, now, had)
	short := isShortFetch(ctx, err)

	j.mu.Lock()
	defer j.mu.Unlock()
	if set != nil {
		j.set, j.fetchedAt = set, at
	}
	// The interval and the backoff count from the end of the refresh: a
	// fetch that took long to fail leaves the full backoff after it.
	switch end := j.o.now(); {
	case err == nil:
		j.refreshedAt, j.failedAt, j.failedShort = end, time.Time{}, false
	case ctx.Err() == nil:
		j.failedAt, j.failedShort = end, short
	}
	if short {
		return j.set, flight.LeadersOwn(err)
	}
	return j.set, err
}

// gate says whether a refresh may start at now under ctx: the backoff after
// a failure, the refresh interval after a success. A failure of a fetch cut
// short by its caller's deadline holds back only the callers who could not
// give a fetch more time ([heldBack]). j.mu is held.
func (j *JWKS) gate(ctx context.Context, now time.Time) error {
	if !j.failedAt.IsZero() {
		if heldBack(ctx, now.Sub(j.failedAt), j.o.backoff, j.failedShort) {
			return errRecentFailure
		}
		return nil
	}
	if !j.refreshedAt.IsZero() && now.Sub(j.refreshedAt) < j.o.interval {
		return errTooSoon
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

// stored is a document as kept in the store.
type stored struct {
	At  int64           `json:"at"` // unix nanoseconds of the fetch
	Doc json.RawMessage `json:"doc"`
}

// load returns a newer set than the one fetched at since: from the store if
// another instance fetched it recently, else from the provider. A cold
// source (!had) whose fetch fails takes an older stored set, up to
// storeTTL old.
func (j *JWKS) load(ctx context.Context, since, now time.Time, had bool) (*KeySet, time.Time, error) {
	if j.urlErr != nil {
		logFetchError(ctx, j.o, "jwtauth: JWKS fetch failed", slog.String("url", redact.String(j.url)), j.urlErr)
		return nil, time.Time{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, j.urlErr)
	}
	var version int64
	var old *KeySet // a set from the store too old to use unless the provider fails
	var oldAt time.Time
	if j.o.store != nil {
		it, err := storeGet(ctx, j.o, j.key)
		if err == nil && it.Version != 0 {
			version = it.Version
			var s stored
			if doc, ok := j.o.open(ctx, j.key, it.Value); ok && json.Unmarshal(doc, &s) == nil {
				at := time.Unix(0, s.At)
				newer := at.After(since) && now.Sub(at) < j.o.maxAge
				if newer || now.Sub(at) < j.o.interval {
					if set, err := parseSet(s.Doc); err == nil {
						return set, at, nil
					}
				} else if !had && now.Sub(at) < storeTTL {
					// Past storeTTL the store would have dropped it:
					// a set that old is a replay, and may hold keys
					// the provider rotated out because they leaked.
					if set, err := parseSet(s.Doc); err == nil {
						old, oldAt = set, at
					}
				}
			}
		}
	}
	got, err := fetch(ctx, j.o, j.url, func(doc []byte) (fetchedSet, error) {
		set, err := parseSet(doc)
		return fetchedSet{set: set, doc: doc}, err
	})
	if err != nil {
		logFetchError(ctx, j.o, "jwtauth: JWKS fetch failed", slog.String("url", redact.String(j.url)), err)
		return old, oldAt, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	if j.o.store != nil {
		v, _ := json.Marshal(stored{At: now.UnixNano(), Doc: got.doc})
		storeSet(ctx, j.o, j.key, version, j.o.seal(j.key, v))
	}
	return got.set, now, nil
}

// fetchedSet is a key set as fetched, with its document for the store.
type fetchedSet struct {
	set *KeySet
	doc []byte
}

// parseSet parses a JWKS document that must hold a usable key.
func parseSet(doc []byte) (*KeySet, error) {
	set, err := ParseJWKS(doc)
	if err != nil {
		return nil, err
	}
	if set.Len() == 0 {
		return nil, errors.New("jwtauth: JWKS has no usable key")
	}
	return set, nil
}

const storeTimeout = time.Second

// storeGet reads key. A failure is logged as the store's, unless the
// caller's own context ended it.
func storeGet(ctx context.Context, o options, key string) (store.Item, error) {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	it, err := o.store.Get(sctx, key)
	if err != nil && ctx.Err() == nil {
		o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: store read failed", slog.String("key", key), slog.String("error", redact.Text(err)))
	}
	return it, err
}

// storeSet writes value; a lost race means another instance wrote a set
// as recent, and is not an error. A failure is logged as the store's,
// unless the caller's own context ended it.
func storeSet(ctx context.Context, o options, key string, version int64, value []byte) {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	_, err := o.store.CompareAndSet(sctx, key, version, value, storeTTL)
	if err != nil && !errors.Is(err, store.ErrConflict) && ctx.Err() == nil {
		o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: store write failed", slog.String("key", key), slog.String("error", redact.Text(err)))
	}
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
// breaker.StatusError, so 5xx answers count as failures.
type statusError struct{ status int }

func (e *statusError) Error() string   { return "jwtauth: status " + strconv.Itoa(e.status) }
func (e *statusError) HTTPStatus() int { return e.status }

// unusableError is an answer of status 200 whose document cannot be used:
// not JSON, no usable key, another issuer, no usable jwks_uri, too large.
// It is the provider's failure (an HTML maintenance page from a proxy in
// front of it, a misconfiguration), and counts in the breaker as a bad
// gateway does: it implements breaker.StatusError with status 502.
type unusableError struct{ err error }

func (e *unusableError) Error() string   { return e.err.Error() }
func (e *unusableError) Unwrap() error   { return e.err }
func (e *unusableError) HTTPStatus() int { return http.StatusBadGateway }

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

// OIDC is a [KeySource] that finds the provider's JWKS by OpenID Connect
// discovery: it fetches issuer + "/.well-known/openid-configuration",
// lazily on the first validation, checks that the document's "issuer" is
// the configured issuer exactly, and serves keys from its "jwks_uri" as a
// [JWKS] with the same options. With [WithStore] the discovered jwks_uri is
// persisted too. Discovery follows the rules of [JWKS] fetches: one at a
// time, bounded by its own timeout, through a circuit breaker, taken over
// by a waiting validation when its caller's context ends, tried again
// after a short backoff when it failed. A discovery document of another
// issuer or without a usable jwks_uri is a failure, as an error status
// is. It is safe for concurrent use.
type OIDC struct {
	issuer    string
	issuerErr error // why issuer cannot be fetched, or nil
	key       string
	o         options
	opts      []Option
	flight    flight.Group[*JWKS]

	mu          sync.Mutex // guards the fields below
	jwks        *JWKS
	failedAt    time.Time // when the last discovery failed
	failedShort bool      // it failed on a bound its caller's deadline shortened
}

// NewOIDC returns a key source for the OpenID provider issuer. It does not
// fetch. It panics if [WithSealKey] was given a key under 32 bytes. An
// issuer that is not an absolute http or https URL makes every validation
// fail with ErrKeysUnavailable.
func NewOIDC(issuer string, opts ...Option) *OIDC {
	o := newOptions(opts)
	if o.breaker == nil {
		o.breaker = defaultBreaker("jwtauth oidc "+urlName(issuer), o)
	}
	return &OIDC{issuer: issuer, issuerErr: checkURL("issuer", issuer), key: storeKey("oidc", issuer), o: o, opts: opts}
}

// Key discovers the JWKS if needed and returns its key of id kid for alg.
// Every error of the discovery matches ErrKeysUnavailable.
func (p *OIDC) Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	j, err := p.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	return j.Key(ctx, kid, alg)
}

// JWKS returns the discovered JWKS source, discovering it if needed.
// Concurrent callers share one discovery; after a failure the next is
// tried no sooner than the backoff of [WithRefreshInterval] (5 seconds)
// after it; a discovery cut off by its caller's context ending is not a
// failure. Its errors match ErrKeysUnavailable, the caller's own context
// ending while it waited included.
func (p *OIDC) JWKS(ctx context.Context) (*JWKS, error) {
	p.mu.Lock()
	j := p.jwks
	p.mu.Unlock()
	if j != nil {
		return j, nil
	}
	j, err, _ := p.flight.Do(ctx, "", p.discoverOnce)
	if err != nil && !errors.Is(err, ErrKeysUnavailable) {
		err = fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return j, err
}

// discoverOnce discovers the JWKS unless it is known or the last discovery
// failed moments ago. As for a [JWKS] refresh, a discovery that failed
// because its caller was short of time is that caller's own failure
// ([flight.LeadersOwn]), and holds back only callers as short of time.
func (p *OIDC) discoverOnce(ctx context.Context) (*JWKS, error) {
	p.mu.Lock()
	j, failedAt, failedShort := p.jwks, p.failedAt, p.failedShort
	now := p.o.now()
	p.mu.Unlock()
	if j != nil {
		return j, nil
	}
	if !failedAt.IsZero() && heldBack(ctx, now.Sub(failedAt), p.o.backoff, failedShort) {
		if failedShort {
			return nil, flight.LeadersOwn(errRecentFailure)
		}
		return nil, errRecentFailure
	}
	uri, err := p.discover(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// The caller's own context ended the discovery: not the
			// provider's failure, nothing recorded or logged.
			return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
		}
		logFetchError(ctx, p.o, "jwtauth: OIDC discovery failed", slog.String("issuer", redact.String(p.issuer)), err)
		short := isShortFetch(ctx, err)
		p.mu.Lock()
		p.failedAt, p.failedShort = p.o.now(), short // the backoff counts from the failure
		p.mu.Unlock()
		err = fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
		if short {
			return nil, flight.LeadersOwn(err)
		}
		return nil, err
	}
	j = NewJWKS(uri, p.opts...)
	p.mu.Lock()
	p.jwks = j
	p.mu.Unlock()
	return j, nil
}

func (p *OIDC) discover(ctx context.Context) (string, error) {
	if p.issuerErr != nil {
		return "", p.issuerErr
	}
	var version int64
	if p.o.store != nil {
		if it, err := storeGet(ctx, p.o, p.key); err == nil && it.Version != 0 {
			version = it.Version
			if value, ok := p.o.open(ctx, p.key, it.Value); ok {
				if uri := string(value); p.checkURI(uri) == nil {
					return uri, nil
				}
			}
		}
	}
	uri, err := fetch(ctx, p.o, strings.TrimSuffix(p.issuer, "/")+"/.well-known/openid-configuration", p.jwksURI)
	if err != nil {
		return "", err
	}
	if p.o.store != nil {
		storeSet(ctx, p.o, p.key, version, p.o.seal(p.key, []byte(uri)))
	}
	return uri, nil
}

// jwksURI returns the jwks_uri of a discovery document, if the document is
// the issuer's and the URI is usable.
func (p *OIDC) jwksURI(doc []byte) (string, error) {
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(doc, &meta); err != nil {
		return "", errors.New("jwtauth: discovery document is not JSON")
	}
	if meta.Issuer != p.issuer {
		return "", fmt.Errorf("%w: discovery names issuer %q", ErrIssuer, meta.Issuer)
	}
	if err := p.checkURI(meta.JWKSURI); err != nil {
		return "", err
	}
	return meta.JWKSURI, nil
}

// checkURI accepts an absolute https URL, or http when the issuer is http
// (a test provider).
func (p *OIDC) checkURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && strings.HasPrefix(p.issuer, "http://"))) {
		return errors.New("jwtauth: discovery has no usable jwks_uri")
	}
	return nil
}
