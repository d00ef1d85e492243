package jwtauth

// StoreKey is the store key of the document of kind ("jwks" or "oidc") at
// rawURL, for tests that read or plant what a source keeps in its store.
func StoreKey(kind, rawURL string) string { return storeKey(kind, rawURL) }

// RefreshWaiting returns how many validations have joined the refresh of
// j under way, 0 if none runs.
func RefreshWaiting(j *JWKS) int { return j.flight.Waiting("") }

// DiscoveryWaiting returns how many validations have joined the discovery
// of p under way, 0 if none runs.
func DiscoveryWaiting(p *OIDC) int { return p.flight.Waiting("") }
