package pdp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/funcify/funcify/pip"
)

// Errors a policy decides with. [Require] answers 401 for an error that
// matches ErrUnauthenticated, 403 for one that matches ErrForbidden.
var (
	// ErrUnauthenticated: there is no subject, so the policy cannot tell
	// whether the caller may go on. Who are you?
	// It answers 401 "authentication required" with WWW-Authenticate:
	// Bearer (RFC 6750 §3: a request that sent no token gets no error
	// attribute).
	ErrUnauthenticated error = &denial{msg: "pdp: no authenticated subject", status: http.StatusUnauthorized}
	// ErrForbidden: the subject is known and is not allowed. It answers
	// 403 "insufficient permissions" with WWW-Authenticate:
	// Bearer error="insufficient_scope".
	ErrForbidden error = &denial{msg: "pdp: not allowed", status: http.StatusForbidden}
)

// denial is the type of the decision errors. Like jwtauth's, they carry
// the HTTP answer they call for (HTTPStatus, Header, PublicMessage), which
// funcify's httperror.Write and app.WriteError honour. The messages are the
// same for every policy, so that a denial does not tell an attacker which
// activity to look for.
type denial struct {
	msg    string
	status int
}

func (e *denial) Error() string   { return e.msg }
func (e *denial) HTTPStatus() int { return e.status }

func (e *denial) Header() http.Header {
	if e.status == http.StatusForbidden {
		return http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope"`}}
	}
	return http.Header{"Www-Authenticate": {"Bearer"}}
}

func (e *denial) PublicMessage() string {
	if e.status == http.StatusForbidden {
		return "insufficient permissions"
	}
	return "authentication required"
}

// Policy decides whether a subject may go on: nil allows, an error denies.
// s is nil when the request has no authenticated subject.
//
// A denial is an error that matches [ErrUnauthenticated] (no subject) or
// [ErrForbidden] (subject present, not allowed); any other error means the
// policy could not decide, and denies. Decide must be safe for concurrent
// use: one policy serves every invocation. ctx is the request's context, for
// policies that do I/O.
type Policy interface {
	Decide(ctx context.Context, s *pip.Subject) error
}

// PolicyFunc adapts a function to a [Policy].
type PolicyFunc func(ctx context.Context, s *pip.Subject) error

// Decide returns f(ctx, s).
func (f PolicyFunc) Decide(ctx context.Context, s *pip.Subject) error { return f(ctx, s) }

// ValidToken returns a policy that allows any authenticated subject: the
// policy-information step found a valid token and put its subject in the
// context ([pip.NewContext]).
func ValidToken() Policy { return validToken{} }

type validToken struct{}

func (validToken) Decide(_ context.Context, s *pip.Subject) error {
	if s == nil {
		return ErrUnauthenticated
	}
	return nil
}

// Option configures an [Activity] policy.
type Option func(*options)

type options struct {
	namespace    string
	hasNamespace bool // Namespace was given, perhaps with ""
}

// Namespace limits the grants an [Activity] policy counts to those whose
// first segment is ns, compared as a whole segment: with namespace "orders",
// the grants "orders:order:read" and "orders:*" count, "orders2:order:read",
// "order:*" and "*:order:read" do not. A grant whose first segment is a
// wildcard belongs to no namespace, so a service with a namespace honours
// only grants issued for it by name.
//
// ns is one segment: not empty, without ':', '*', spaces or control
// characters. The required activity must be in the namespace too (its first
// segment is ns), since no other could match.
func Namespace(ns string) Option {
	return func(o *options) { o.namespace, o.hasNamespace = ns, true }
}

// ActivityPolicy is the policy [Activity] returns: it allows a subject
// granted an activity that admits the required one (see [Match]). It is
// immutable and safe for concurrent use, and deciding allocates nothing.
type ActivityPolicy struct {
	required  string
	namespace string
	deny      error // built once, so that a denial allocates nothing
}

// Activity returns a policy that requires the activity required, such as
// "orders:order:read", of the subject: one of the subject's Activities must
// admit it (see [Match] for the wildcards), counting only the grants in the
// namespace, if one is set ([Namespace]).
//
// required is concrete: one or more non-empty segments separated by ':',
// with no '*', spaces or control characters. A malformed activity or
// namespace returns an error matching [ErrMalformed]; these are setup errors,
// and [MustActivity] panics on them.
func Activity(required string, opts ...Option) (*ActivityPolicy, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if seg, why := checkActivity(required); why != "" {
		if seg > 0 {
			why = "segment " + strconv.Itoa(seg) + ": " + why
		}
		return nil, fmt.Errorf("%w activity %q: %s", ErrMalformed, required, why)
	}
	p := &ActivityPolicy{required: required, namespace: o.namespace}
	if o.hasNamespace {
		if why := checkSegment(p.namespace); why != "" {
			return nil, fmt.Errorf("%w namespace %q: %s", ErrMalformed, p.namespace, why)
		}
		if !inNamespace(required, p.namespace) {
			return nil, fmt.Errorf("%w activity %q: not in namespace %q, so no grant could match", ErrMalformed, required, p.namespace)
		}
	}
	p.deny = fmt.Errorf("%w: activity %s not granted", ErrForbidden, required)
	return p, nil
}

// MustActivity is like [Activity] but panics on an error. It is meant for
// policies built at setup, in main or a package variable.
func MustActivity(required string, opts ...Option) *ActivityPolicy {
	p, err := Activity(required, opts...)
	if err != nil {
		panic(err)
	}
	return p
}

// Decide allows s if one of its activities admits the required one. It
// returns [ErrUnauthenticated] when s is nil and an error matching
// [ErrForbidden] when no grant admits it.
func (p *ActivityPolicy) Decide(_ context.Context, s *pip.Subject) error {
	if s == nil {
		return ErrUnauthenticated
	}
	if p.Granted(s.Activities) {
		return nil
	}
	return p.deny
}

// Granted reports whether one of grants admits the required activity,
// counting only the grants in the policy's namespace, if it has one.
func (p *ActivityPolicy) Granted(grants []string) bool {
	for _, g := range grants {
		if p.namespace != "" && !inNamespace(g, p.namespace) {
			continue
		}
		if match(g, p.required) {
			return true
		}
	}
	return false
}

// String returns the required activity, and the namespace if there is one.
func (p *ActivityPolicy) String() string {
	if p.namespace != "" {
		return p.required + " (namespace " + p.namespace + ")"
	}
	return p.required
}

// All returns a policy that allows a subject every one of ps allows. It asks
// them in order and stops at the first denial, which it returns: put
// [ValidToken] or the cheapest policies first. It panics if ps is empty or
// holds a nil policy: an empty All would allow everyone.
func All(ps ...Policy) Policy {
	return allOf(checkPolicies("All", ps))
}

type allOf []Policy

func (ps allOf) Decide(ctx context.Context, s *pip.Subject) error {
	for _, p := range ps {
		if err := p.Decide(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Any returns a policy that allows a subject one of ps allows. It asks them
// in order and stops at the first that allows. When none does, it returns
// the first denial that matches [ErrUnauthenticated] (a token might let the
// caller in), else the first error that is not a denial (a policy could not
// decide, and might have allowed), else the first [ErrForbidden]. It panics
// if ps is empty or holds a nil policy.
func Any(ps ...Policy) Policy {
	return anyOf(checkPolicies("Any", ps))
}

type anyOf []Policy

func (ps anyOf) Decide(ctx context.Context, s *pip.Subject) error {
	var unauthenticated, failed, forbidden error
	for _, p := range ps {
		err := p.Decide(ctx, s)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrUnauthenticated):
			if unauthenticated == nil {
				unauthenticated = err
			}
		case errors.Is(err, ErrForbidden):
			if forbidden == nil {
				forbidden = err
			}
		default:
			if failed == nil {
				failed = err
			}
		}
	}
	switch {
	case unauthenticated != nil:
		return unauthenticated
	case failed != nil:
		return failed
	}
	return forbidden
}

func checkPolicies(name string, ps []Policy) []Policy {
	if len(ps) == 0 {
		panic("pdp: " + name + " needs at least one policy")
	}
	for i, p := range ps {
		if p == nil {
			panic("pdp: " + name + ": policy " + strconv.Itoa(i) + " is nil")
		}
	}
	return append([]Policy(nil), ps...)
}
