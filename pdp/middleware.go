package pdp

import (
	"net/http"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/pip"
)

// Require returns middleware that lets a request through when p allows the
// subject in its context ([pip.FromContext]; nil when there is none), and
// otherwise answers with the answer the denial calls
// for ([ErrUnauthenticated], [ErrForbidden]), through httperror.Write (the
// app's error envelope, or problem details when the app says so), at step
// "authorize" unless the policy's error names its own step:
//
//   - a denial matching [ErrUnauthenticated]: 401 "authentication required",
//     with the header WWW-Authenticate: Bearer (RFC 6750 §3: a request that
//     sent no token gets no error attribute; a token that was sent and
//     failed validation is answered earlier, by the policy-information step);
//   - a denial matching [ErrForbidden]: 403 "insufficient permissions", with
//     WWW-Authenticate: Bearer error="insufficient_scope";
//   - any other error: the policy could not decide, so the request is
//     denied with 500 "internal error" and the error is logged. A policy that
//     wants another status returns an error that carries it (an
//     httperror.Error, or any error with an HTTPStatus() int method).
//
// Neither answer names the activity that was required or missing. Wrap a
// single route with it, or every route with funcify app's App.Use:
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
	httperror.WriteAt(w, r, err, "authorize")
}
