package jwtauth

import (
	"context"
	"crypto"
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
// with a 10-second timeout. Give it an httpclient.Transport for retries.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithBreaker guards every fetch with b (default: a breaker of package
// breaker's defaults for each source, sharing its state through the
// source's store): while its circuit is open, no
// request is sent and cached keys keep serving.
func WithBreaker(b *breaker.Breaker) Option { return func(o *options) { o.breaker = b } }

// WithStore persists the fetched documents in s, shared by every instance,
// so that a cold instance finds the keys there instead of fetching them.
// A failing store is logged and otherwise ignored.
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
// cannot plant signing keys or a jwks_uri. Every source that shares the
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
// of the fetch itself, an unusable document, an open circuit) is tried
// again by a later request after a short backoff instead: 5 seconds, or
// the refresh interval if shorter. A fetch cut off by its caller's own
// context ending is no failure: the next request fetches at once.
func WithRefreshInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// failureBackoff is the least time between a failed fetch and the next,
// unless the refresh interval is shorter: long enough that a failing
// provider is not hammered by every request, short enough that one failure
// does not turn every request away for the whole refresh interval. The
// breaker limits what a lasting outage costs.
const failureBackoff = 5 * time.Second

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
		o.client = &http.Client{Timeout: 10 * time.Second}
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
// failed one, a short backoff ([WithRefreshInterval]). Fetched keys are
// kept in memory and, with [WithStore], in the shared store. A failed
// fetch keeps the keys it had.
//
// Concurrent validations that need a fetch share one, under the rule of
// funcify's single-flight: the fetch runs with the context of the
// validation that started it; when that context ends mid-fetch, a waiting
// validation whose context is live fetches again with its own, and nothing
// is counted against the provider; a fetch that failed otherwise fails for
// every validation that waited for it.
//
// A JWKS is safe for concurrent use; build one at init and share it.
type JWKS struct {
	url    string
	key    string // the store key
	o      options
	flight flight.Group[*KeySet]

	mu          sync.Mutex // guards the fields below
	set         *KeySet
	fetchedAt   time.Time // when set was fetched from the provider
	refreshedAt time.Time // when a refresh last succeeded here: the next waits the interval
	failedAt    time.Time // when the last refresh failed, zero after a success: the next waits the backoff
}

// NewJWKS returns a key source for the JWKS at rawURL. It does not fetch.
// It panics if [WithSealKey] was given a key under 32 bytes.
func NewJWKS(rawURL string, opts ...Option) *JWKS {
	o := newOptions(opts)
	if o.breaker == nil {
		o.breaker = defaultBreaker("jwtauth jwks "+rawURL, o)
	}
	return &JWKS{url: rawURL, key: "jwtauth/jwks/" + rawURL, o: o}
}

// defaultBreaker guards a source's fetches when no breaker was given: the
// defaults of package breaker, its state shared through the source's store
// if it has one.
func defaultBreaker(name string, o options) *breaker.Breaker {
	return breaker.New(breaker.Settings{Name: name, Store: o.store, Logger: o.logger, Now: o.now})
}

// Key returns the key of id kid that fits alg, fetching the set if needed.
// It returns ErrUnknownKey if the set has no such key and ErrKeysUnavailable
// if there is no set at all.
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
		if errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ctx.Err()) {
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
func (j *JWKS) refreshOnce(ctx context.Context) (*KeySet, error) {
	j.mu.Lock()
	now := j.o.now()
	if err := j.gate(now); err != nil {
		set := j.set
		j.mu.Unlock()
		return set, err
	}
	since, had := j.fetchedAt, j.set != nil
	j.mu.Unlock()

	set, at, err := j.load(ctx, since, now, had)

	j.mu.Lock()
	defer j.mu.Unlock()
	if set != nil {
		j.set, j.fetchedAt = set, at
	}
	switch {
	case err == nil:
		j.refreshedAt, j.failedAt = now, time.Time{}
	case ctx.Err() == nil:
		j.failedAt = now
	}
	return j.set, err
}

// gate says whether a refresh may start at now: the backoff after a
// failure, the refresh interval after a success. j.mu is held.
func (j *JWKS) gate(now time.Time) error {
	if !j.failedAt.IsZero() {
		if now.Sub(j.failedAt) < j.o.backoff {
			return errRecentFailure
		}
		return nil
	}
	if !j.refreshedAt.IsZero() && now.Sub(j.refreshedAt) < j.o.interval {
		return errTooSoon
	}
	return nil
}

// stored is a document as kept in the store.
type stored struct {
	At  int64           `json:"at"` // unix nanoseconds of the fetch
	Doc json.RawMessage `json:"doc"`
}

// load returns a newer set than the one fetched at since: from the store if
// another instance fetched it recently, else from the provider.
func (j *JWKS) load(ctx context.Context, since, now time.Time, had bool) (*KeySet, time.Time, error) {
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
				} else if !had {
					if set, err := parseSet(s.Doc); err == nil {
						old, oldAt = set, at
					}
				}
			}
		}
	}
	doc, err := fetch(ctx, j.o, j.url)
	if err != nil {
		logFetchError(ctx, j.o, "jwtauth: JWKS fetch failed", slog.String("url", redact.String(j.url)), err)
		return old, oldAt, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	set, err := parseSet(doc)
	if err != nil {
		j.o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: JWKS unusable", slog.String("url", redact.String(j.url)), slog.String("error", err.Error()))
		return nil, time.Time{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	if j.o.store != nil {
		v, _ := json.Marshal(stored{At: now.UnixNano(), Doc: doc})
		storeSet(ctx, j.o, j.key, version, j.o.seal(j.key, v))
	}
	return set, now, nil
}

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
		o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: store read failed", slog.String("key", logKey(key)), slog.String("error", redact.Text(err)))
	}
	return it, err
}

// storeSet writes value; a lost race means another instance wrote a set
// as recent, and is not an error. A failure is logged as the store's,
// unless the caller's own context ended it.
func storeSet(ctx context.Context, o options, key string, version int64, value []byte) {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	_, err := o.store.CompareAndSet(sctx, key, version, value, 7*24*time.Hour)
	if err != nil && !errors.Is(err, store.ErrConflict) && ctx.Err() == nil {
		o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: store write failed", slog.String("key", logKey(key)), slog.String("error", redact.Text(err)))
	}
}

// logKey is a store key as logged: the URL it ends with is redacted.
func logKey(key string) string {
	i := strings.Index(key, "://")
	if i < 0 {
		return key
	}
	start := strings.LastIndexByte(key[:i], '/') + 1
	return key[:start] + redact.String(key[start:])
}

// logFetchError logs a failed fetch of a document with the caller's ctx:
// as a warning, or at debug level while the circuit is open (the breaker
// logs when it opens; a line per skipped fetch says nothing new). A fetch
// cut off by the caller's own context ending is no failure of the
// provider, and is not logged.
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

// fetch GETs a JSON document through the breaker, if any.
func fetch(ctx context.Context, o options, rawURL string) ([]byte, error) {
	get := func(ctx context.Context) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := o.client.Do(req)
		if err != nil {
			// The *url.Error names the URL, query and all; the error is
			// logged, here and by the app.
			return nil, redact.Error(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			return nil, &statusError{status: resp.StatusCode}
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, o.maxSize+1))
		if err != nil {
			return nil, err
		}
		if int64(len(body)) > o.maxSize {
			return nil, errors.New("jwtauth: document too large")
		}
		return body, nil
	}
	if o.breaker == nil {
		return get(ctx)
	}
	return breaker.Execute(ctx, o.breaker, get)
}

// OIDC is a [KeySource] that finds the provider's JWKS by OpenID Connect
// discovery: it fetches issuer + "/.well-known/openid-configuration",
// lazily on the first validation, checks that the document's "issuer" is
// the configured issuer exactly, and serves keys from its "jwks_uri" as a
// [JWKS] with the same options. With [WithStore] the discovered jwks_uri is
// persisted too. Discovery follows the rules of [JWKS] fetches: one at a
// time, taken over by a waiting validation when its caller's context ends,
// tried again after a short backoff when it failed. It is safe for
// concurrent use.
type OIDC struct {
	issuer string
	o      options
	opts   []Option
	flight flight.Group[*JWKS]

	mu       sync.Mutex // guards the fields below
	jwks     *JWKS
	failedAt time.Time // when the last discovery failed
}

// NewOIDC returns a key source for the OpenID provider issuer. It does not
// fetch. It panics if [WithSealKey] was given a key under 32 bytes.
func NewOIDC(issuer string, opts ...Option) *OIDC {
	o := newOptions(opts)
	if o.breaker == nil {
		o.breaker = defaultBreaker("jwtauth oidc "+issuer, o)
	}
	return &OIDC{issuer: issuer, o: o, opts: opts}
}

// Key discovers the JWKS if needed and returns its key of id kid for alg.
func (p *OIDC) Key(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	j, err := p.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	return j.Key(ctx, kid, alg)
}

// JWKS returns the discovered JWKS source, discovering it if needed.
// Concurrent callers share one discovery; after a failure the next is
// tried no sooner than the backoff of [WithRefreshInterval] (5 seconds);
// a discovery cut off by its caller's context ending is not a failure.
func (p *OIDC) JWKS(ctx context.Context) (*JWKS, error) {
	p.mu.Lock()
	j := p.jwks
	p.mu.Unlock()
	if j != nil {
		return j, nil
	}
	j, err, _ := p.flight.Do(ctx, "", p.discoverOnce)
	return j, err
}

// discoverOnce discovers the JWKS unless it is known or the last discovery
// failed moments ago.
func (p *OIDC) discoverOnce(ctx context.Context) (*JWKS, error) {
	p.mu.Lock()
	j, failedAt := p.jwks, p.failedAt
	now := p.o.now()
	p.mu.Unlock()
	if j != nil {
		return j, nil
	}
	if !failedAt.IsZero() && now.Sub(failedAt) < p.o.backoff {
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
		p.mu.Lock()
		p.failedAt = now
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	j = NewJWKS(uri, p.opts...)
	p.mu.Lock()
	p.jwks = j
	p.mu.Unlock()
	return j, nil
}

func (p *OIDC) discover(ctx context.Context) (string, error) {
	key := "jwtauth/oidc/" + p.issuer
	var version int64
	if p.o.store != nil {
		if it, err := storeGet(ctx, p.o, key); err == nil && it.Version != 0 {
			version = it.Version
			if value, ok := p.o.open(ctx, key, it.Value); ok {
				if uri := string(value); p.checkURI(uri) == nil {
					return uri, nil
				}
			}
		}
	}
	doc, err := fetch(ctx, p.o, strings.TrimSuffix(p.issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return "", err
	}
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
	if p.o.store != nil {
		storeSet(ctx, p.o, key, version, p.o.seal(key, []byte(meta.JWKSURI)))
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
