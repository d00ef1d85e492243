package jwtauth

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/funcify/funcify/breaker"
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
	now      func() time.Time // time.Now, unless this package's tests set a clock (export_test.go)
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

// WithMaxAge sets how long a fetched key set is used before it is fetched
// again, during the next validation. Until a fetch succeeds the old set
// keeps serving. Default 1 hour.
func WithMaxAge(d time.Duration) Option { return func(o *options) { o.maxAge = d } }

// WithMaxSize caps the size of a fetched document. Default 1 MiB.
func WithMaxSize(n int64) Option { return func(o *options) { o.maxSize = n } }

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
