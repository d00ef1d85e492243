package pdp

import (
	"errors"
	"net/http"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/pip"
)

// Messages the caller sees. They are the same for every policy, so that a
// denial does not tell an attacker which activity to look for.
const (
	msgUnauthenticated = "authentication required"
	msgForbidden       = "insufficient permissions"
)

// Require returns middleware that lets a request through when p allows the
// subject in its context ([pip.FromContext]; nil when there is none), and
// otherwise answers with the app's error envelope at step "authorize":
//
//   - a denial matching [ErrUnauthenticated]: 401 "authentication required",
//     with the header WWW-Authenticate: Bearer (RFC 6750 §3: a request that
//     sent no token gets no error attribute; a token that was sent and
//     failed validation is answered earlier, by the policy-information step);
//   - a denial matching [ErrForbidden]: 403 "insufficient permissions", with
//     WWW-Authenticate: Bearer error="insufficient_scope";
//   - any other error: the policy could not decide, so the request is
//     denied with 500 "internal error" and the error is logged. A policy that
//     wants another status returns an [*app.Error].
//
// Neither answer names the activity that was required or missing. Wrap a
// single route with it, or every route with [app.App.Use]:
//
//	read := pdp.MustActivity("orders:order:read")
//	a.Handle("GET /orders", pdp.Require(read)(http.HandlerFunc(listOrders)))
//
// It panics if p is nil.
func Require(p Policy) func(http.Handler) http.Handler {
	if p == nil {
		panic("pdp: Require needs a policy")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := pip.FromContext(r.Context())
			err := p.Decide(r.Context(), s)
			if err == nil {
				next.ServeHTTP(w, r)
				return
			}
			deny(w, r, err)
		})
	}
}

func deny(w http.ResponseWriter, r *http.Request, err error) {
	var ae *app.Error
	switch {
	case errors.Is(err, ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", "Bearer")
		ae = &app.Error{Status: http.StatusUnauthorized, Message: msgUnauthenticated, Step: "authorize", Err: err}
	case errors.Is(err, ErrForbidden):
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
		ae = &app.Error{Status: http.StatusForbidden, Message: msgForbidden, Step: "authorize", Err: err}
	case errors.As(err, &ae):
		e := *ae
		if e.Step == "" {
			e.Step = "authorize"
		}
		ae = &e
	default:
		ae = &app.Error{Status: http.StatusInternalServerError, Message: "internal error", Step: "authorize", Err: err}
	}
	app.WriteError(w, r, ae)
}
