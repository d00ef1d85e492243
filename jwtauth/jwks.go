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
	"github.com/funcify/funcify/store"
)

// Option configures [NewJWKS] and [NewOIDC].
type Option func(*options)

type options struct {
	client   *http.Client
	breaker  *breaker.Breaker
	store    store.Store
	interval time.Duration
	maxAge   time.Duration
	maxSize  int64
	now      func() time.Time
	logger   *slog.Logger
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
func WithStore(s store.Store) Option { return func(o *options) { o.store = s } }

// WithRefreshInterval sets the least time between two fetches of a
// document: a token of an unknown "kid" triggers a fetch at most this
// often, however many such tokens come. Default 1 minute.
func WithRefreshInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

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
// older than the max age, and when a token names a kid it does not hold;
// never more often than the refresh interval, and concurrent validations
// that need a fetch share one. Fetched keys are kept in memory and, with
// [WithStore], in the shared store. A failed fetch keeps the keys it had.
// A JWKS is safe for concurrent use; build one at init and share it.
type JWKS struct {
	url string
	key string // the store key
	o   options

	mu        sync.Mutex // guards the fields below
	set       *KeySet
	fetchedAt time.Time // when set was fetched from the provider
	lastTry   time.Time // when this process last tried to refresh
	flight    *call     // the refresh under way
}

type call struct {
	done chan struct{}
	err  error
}

// NewJWKS returns a key source for the JWKS at rawURL. It does not fetch.
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

var errTooSoon = fmt.Errorf("%w: refreshed too recently", ErrKeysUnavailable)

// refresh brings the set up to date, once per interval, sharing one load
// among concurrent callers. It returns the set held afterwards.
func (j *JWKS) refresh(ctx context.Context) (current *KeySet, err error) {
	j.mu.Lock()
	if c := j.flight; c != nil {
		j.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.set, c.err
	}
	now := j.o.now()
	if !j.lastTry.IsZero() && now.Sub(j.lastTry) < j.o.interval {
		defer j.mu.Unlock()
		return j.set, errTooSoon
	}
	j.lastTry = now
	c := &call{done: make(chan struct{}), err: errors.New("jwtauth: JWKS refresh panicked")}
	j.flight = c
	since, had := j.fetchedAt, j.set != nil
	j.mu.Unlock()

	var set *KeySet
	var at time.Time
	defer func() {
		j.mu.Lock()
		if set != nil {
			j.set, j.fetchedAt = set, at
		}
		current = j.set
		j.flight = nil
		j.mu.Unlock()
		close(c.done)
	}()
	set, at, c.err = j.load(ctx, since, now, had)
	return nil, c.err // current is set by the deferred function
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
			if json.Unmarshal(it.Value, &s) == nil {
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
		j.o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: JWKS fetch failed", slog.String("url", redact(j.url)), slog.String("error", err.Error()))
		return old, oldAt, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	set, err := parseSet(doc)
	if err != nil {
		j.o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: JWKS unusable", slog.String("url", redact(j.url)), slog.String("error", err.Error()))
		return nil, time.Time{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	if j.o.store != nil {
		v, _ := json.Marshal(stored{At: now.UnixNano(), Doc: doc})
		storeSet(ctx, j.o, j.key, version, v)
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

func storeGet(ctx context.Context, o options, key string) (store.Item, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	it, err := o.store.Get(ctx, key)
	if err != nil {
		o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: store read failed", slog.String("key", key), slog.String("error", err.Error()))
	}
	return it, err
}

// storeSet writes value; a lost race means another instance wrote a set
// as recent, and is not an error.
func storeSet(ctx context.Context, o options, key string, version int64, value []byte) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	_, err := o.store.CompareAndSet(ctx, key, version, value, 7*24*time.Hour)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: store write failed", slog.String("key", key), slog.String("error", err.Error()))
	}
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
			return nil, err
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

func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(invalid URL)"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}

// OIDC is a [KeySource] that finds the provider's JWKS by OpenID Connect
// discovery: it fetches issuer + "/.well-known/openid-configuration",
// lazily on the first validation, checks that the document's "issuer" is
// the configured issuer exactly, and serves keys from its "jwks_uri" as a
// [JWKS] with the same options. With [WithStore] the discovered jwks_uri is
// persisted too. It is safe for concurrent use.
type OIDC struct {
	issuer string
	o      options
	opts   []Option
	sem    chan struct{} // held while discovering

	mu      sync.Mutex // guards the fields below
	jwks    *JWKS
	lastTry time.Time
}

// NewOIDC returns a key source for the OpenID provider issuer. It does not
// fetch.
func NewOIDC(issuer string, opts ...Option) *OIDC {
	o := newOptions(opts)
	if o.breaker == nil {
		o.breaker = defaultBreaker("jwtauth oidc "+issuer, o)
	}
	return &OIDC{issuer: issuer, o: o, opts: opts, sem: make(chan struct{}, 1)}
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
// tried no sooner than the refresh interval.
func (p *OIDC) JWKS(ctx context.Context) (*JWKS, error) {
	p.mu.Lock()
	j := p.jwks
	p.mu.Unlock()
	if j != nil {
		return j, nil
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.sem }()
	p.mu.Lock()
	j, last := p.jwks, p.lastTry
	now := p.o.now()
	if j == nil && !last.IsZero() && now.Sub(last) < p.o.interval {
		p.mu.Unlock()
		return nil, errTooSoon
	}
	p.lastTry = now
	p.mu.Unlock()
	if j != nil {
		return j, nil
	}
	uri, err := p.discover(ctx)
	if err != nil {
		p.o.logger.LogAttrs(ctx, slog.LevelWarn, "jwtauth: OIDC discovery failed", slog.String("issuer", p.issuer), slog.String("error", err.Error()))
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
			if uri := string(it.Value); p.checkURI(uri) == nil {
				return uri, nil
			}
			version = it.Version
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
		storeSet(ctx, p.o, key, version, []byte(meta.JWKSURI))
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
