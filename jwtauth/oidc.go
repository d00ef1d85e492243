package jwtauth

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/funcify/funcify/internal/flight"
	"github.com/funcify/funcify/internal/redact"
)

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
	j, _, err := p.flight.Do(ctx, "", p.discoverOnce)
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
	value, version, ok := readStored(ctx, p.o, p.key)
	if uri := string(value); ok && p.checkURI(uri) == nil {
		return uri, nil
	}
	uri, err := fetch(ctx, p.o, strings.TrimSuffix(p.issuer, "/")+"/.well-known/openid-configuration", p.jwksURI)
	if err != nil {
		return "", err
	}
	writeStored(ctx, p.o, p.key, version, []byte(uri))
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
