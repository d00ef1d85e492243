package jwtauth

import "time"

// WithClock makes a source read the time from now instead of time.Now, so
// that tests move its refresh interval, backoff, max age and store ages,
// and its default breaker's, without sleeping.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// SetClock makes the Validator built from cfg read the time from now
// instead of time.Now, for its checks of "exp", "nbf" and "iat".
func SetClock(cfg *Config, now func() time.Time) { cfg.now = now }

// StoreKey is the store key of the document of kind ("jwks" or "oidc") at
// rawURL, for tests that read or plant what a source keeps in its store.
func StoreKey(kind, rawURL string) string { return storeKey(kind, rawURL) }

// RefreshWaiting returns how many validations have joined the refresh of
// j under way, 0 if none runs.
func RefreshWaiting(j *JWKS) int { return j.flight.Waiting("") }

// DiscoveryWaiting returns how many validations have joined the discovery
// of p under way, 0 if none runs.
func DiscoveryWaiting(p *OIDC) int { return p.flight.Waiting("") }
