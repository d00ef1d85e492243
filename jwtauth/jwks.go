package jwtauth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/funcify/funcify/internal/flight"
	"github.com/funcify/funcify/internal/redact"
)

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
	set, _, err := j.flight.Do(ctx, "", j.refreshOnce)
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

// load returns a newer set than the one fetched at since: from the store if
// another instance fetched it recently, else from the provider. A cold
// source (!had) whose fetch fails takes an older stored set, up to
// storeTTL old.
func (j *JWKS) load(ctx context.Context, since, now time.Time, had bool) (*KeySet, time.Time, error) {
	if j.urlErr != nil {
		logFetchError(ctx, j.o, "jwtauth: JWKS fetch failed", slog.String("url", redact.String(j.url)), j.urlErr)
		return nil, time.Time{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, j.urlErr)
	}
	var old *KeySet // a set from the store too old to use unless the provider fails
	var oldAt time.Time
	kept, version, ok := readStoredSet(ctx, j.o, j.key)
	if ok {
		at := time.Unix(0, kept.At)
		newer := at.After(since) && now.Sub(at) < j.o.maxAge
		if newer || now.Sub(at) < j.o.interval {
			if set, err := parseSet(kept.Doc); err == nil {
				return set, at, nil
			}
		} else if !had && now.Sub(at) < storeTTL {
			// Past storeTTL the store would have dropped it: a set
			// that old is a replay, and may hold keys the provider
			// rotated out because they leaked.
			if set, err := parseSet(kept.Doc); err == nil {
				old, oldAt = set, at
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
	writeStoredSet(ctx, j.o, j.key, version, got.doc, now)
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
