// Package pdp is the policy decision point: may this caller do this? Its
// policies look at the subject the policy-information step put in the
// request's context (package pip) and either allow it or deny it, and
// [Require] turns a policy into middleware for a route.
//
//	read := pdp.MustActivity("orders:order:read")
//	write := pdp.MustActivity("orders:order:write")
//	a.Handle("GET /orders", pdp.Require(read)(http.HandlerFunc(listOrders)))
//	a.Handle("POST /orders", pdp.Require(write)(http.HandlerFunc(createOrder)))
//	a.Handle("GET /me", pdp.Require(pdp.ValidToken())(http.HandlerFunc(me)))
//
// # Policies
//
// A [Policy] decides for a subject: nil allows; [ErrUnauthenticated] denies
// because there is no subject (who are you?); an error matching
// [ErrForbidden] denies a subject that is known and not allowed. [ValidToken]
// allows any subject; [Activity] allows a subject granted an activity;
// [All] and [Any] combine policies; [PolicyFunc] makes a policy of a
// function.
//
// # Activities
//
// An activity names what a caller does as ':'-separated segments, by
// convention "service:resource:action", such as "orders:order:read". A
// subject's Activities are its grants; a grant admits a required activity
// when they agree segment by segment (see [Match]):
//
//   - segments are compared exactly: case-sensitive, byte for byte;
//   - "*" as a whole grant segment matches any one segment:
//     "orders:*:read" admits "orders:order:read", not "orders:order:write";
//   - "*" as the last grant segment matches all the rest, one segment or
//     more: "orders:*" admits "orders:order:read" and "orders:order", but
//     not "orders" itself; "*" alone admits everything;
//   - a required activity is concrete: a '*' in it is an error, as are an
//     empty segment ("", a leading or trailing ':', "::"), spaces and
//     control characters. A grant of that shape matches nothing.
//
// A namespace ([Namespace]) limits the grants that count to those whose
// first segment is the namespace, compared as a whole segment: namespace
// "order" does not admit the grant "orders:order:read", and a grant whose
// first segment is "*" belongs to no namespace.
//
// Matching walks the grant and the required activity once, with no
// backtracking and no regular expressions: its time is linear in their
// length however many '*' a grant holds, and it allocates nothing.
//
// # Answers
//
// [Require] answers a denial with the app's error envelope at step
// "authorize": 401 with WWW-Authenticate: Bearer when there is no subject,
// 403 with WWW-Authenticate: Bearer error="insufficient_scope" when the
// subject is not allowed (RFC 6750). The messages are generic: neither the
// envelope nor the header names the activity that was required, so a caller
// cannot probe for it.
//
// # Concurrency
//
// Every policy of this package is immutable and safe for concurrent use;
// build them once, at setup. A [Policy] of your own must be safe for
// concurrent use too.
package pdp
