// Package httperror turns errors into HTTP answers: the status, the headers
// and a message safe to show the caller, in funcify's JSON error envelope
// or as RFC 9457 problem details.
//
// It depends on the standard library only, so that packages below the
// Lambda pipeline (jwtauth, pip, pdp) and plain net/http servers answer
// errors the way funcify's app does without linking a Lambda runtime.
//
// # Errors that carry their answer
//
// An error chooses its answer by implementing, anywhere in its chain,
//
//	HTTPStatus() int        // the status, such as 401 or 503
//	Header() http.Header    // optional: WWW-Authenticate, Retry-After, ...
//	PublicMessage() string  // optional: a message fit for any caller
//
// No import of this package is needed for that: jwtauth's errors answer
// 401 with a Bearer challenge, breaker.ErrOpen 503. An [*Error] sets the
// answer explicitly and adds a step and a ctx for the caller. Any other
// error answers 500 "internal error", and its text stays in the log.
//
//	func getOrder(w http.ResponseWriter, r *http.Request) {
//		o, err := store.Order(r.Context(), r.PathValue("id"))
//		if err != nil {
//			httperror.Write(w, r, err) // 404, 503 or 500, as err says
//			return
//		}
//		...
//	}
//
// # Settings travel with the request
//
// [Write] reads the problem-details mode, the logger and the step the
// request is at from the request's context ([NewContext]), where funcify's
// app puts them: so it answers the same behind any middleware's writer.
//
// # Concurrency
//
// Everything here is safe for concurrent use.
package httperror
