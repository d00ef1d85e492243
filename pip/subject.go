// Package pip is the policy information point: who the caller is. It turns
// a validated bearer token into a [Subject] (its id, claims and the
// activities it is granted), optionally enriched from the identity
// provider's userinfo endpoint, and puts it in the request's context for the
// decision points of package pdp.
package pip

import "context"

// Subject is the caller of a request, as the policy information point
// learned it from a validated token.
type Subject struct {
	// ID is the subject identifier: the token's "sub" claim.
	ID string
	// Claims are the token's claims, as decoded from its JSON payload.
	Claims map[string]any
	// Activities are the activities the subject is granted, such as
	// "orders:order:read", taken from the configured claim.
	Activities []string
	// UserInfo holds the provider's userinfo answer when enrichment is on.
	UserInfo map[string]any
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries s.
func NewContext(ctx context.Context, s *Subject) context.Context {
	return context.WithValue(ctx, contextKey{}, s)
}

// FromContext returns the subject in ctx, if any: a request whose bearer
// token was validated has one.
func FromContext(ctx context.Context) (*Subject, bool) {
	s, ok := ctx.Value(contextKey{}).(*Subject)
	return s, ok && s != nil
}
