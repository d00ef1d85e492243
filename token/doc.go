// Package token gets a function's own access token with the OAuth 2.0
// client-credentials grant (RFC 6749, section 4.4), and shares it between
// every instance of the function, so that the function calls its
// downstreams with a bearer token and never thinks about it again.
//
//	var src, _ = token.New(token.Config{
//		TokenURL:     "https://idp.example.com/oauth/token",
//		ClientID:     os.Getenv("CLIENT_ID"),
//		ClientSecret: logging.Secret(os.Getenv("CLIENT_SECRET")),
//		Audience:     "https://orders.example.com",
//		Store:        shared, // redisstore or dynamostore: one token for all instances
//	})
//
//	var client = &http.Client{Transport: &token.Transport{Source: src}}
//
// # How a token is had
//
// A token comes through four layers, each asked only when the one above
// it has nothing to serve, the way oauth2.ReuseTokenSource wraps the
// source it reuses:
//
//  1. Memory. [Source.Token] reads one atomic pointer: the token and this
//     instance's moment to refresh it, drawn in the random refresh window
//     (below). Until that moment, that is all a call costs.
//  2. The refresh. Past the moment, one caller in the process refreshes
//     for all (package internal/flight): the others go on serving the
//     current token while it is valid, or wait for the refresh's answer.
//     A waiting caller stops waiting when its own context ends; when the
//     refreshing caller's context ends first, a waiting caller whose
//     context is live refreshes in its place. While a valid token is
//     served, the refresh runs within a budget ("Failures", below), and a
//     refresh that fails leaves that token in place.
//  3. The shared store, with [Config.Store]. The refresh reads the store
//     first: a newer token put there by another instance is served and
//     kept in memory, with a moment of this instance's own. Otherwise the
//     instance takes the refresh lease in the store by compare-and-set,
//     so that one instance only asks the provider, and the others serve
//     their token or wait for the holder's ("Lease", below).
//  4. The grant. The holder of the lease, or a refreshing caller that
//     goes without the store (there is none, it fails, its lease writes
//     keep conflicting, or it cannot hold the token), asks the identity
//     provider: one client-credentials
//     request, through the circuit breaker, bounded by the Source's own
//     timeout, and not sent at all while a Retry-After runs or the
//     breaker is open.
//
// The answer goes back up the same way: into the store (sealed with
// AES-256-GCM when [Config.EncryptionKey] is set), with the lease given
// back in the same write, then into memory, with a new moment to refresh.
//
// # The random refresh window
//
// Each instance refreshes a token at a moment of its own inside the window
// of package window (by default one hour wide, ending one hour before the
// expiry, scaled down to tokens that live less than four hours, so that a
// token of any lifetime is kept for the first half of its life): it draws
// the moment once per token, uniformly over the window, so that the
// instances sharing a token do not all come at once. The expiry is the
// response's expires_in (a number or a numeric string), else the exp claim
// of a JWT access token (read without verification), else
// [Config.DefaultExpiry].
//
// # Lease
//
// With a Store, the instance that refreshes first takes a lease: it writes
// its id and the lease's end into the token's item by compare-and-set, so
// that one instance only wins. The others go on serving the current token
// and look at the store again a second later; an instance with no valid
// token (a cold start) polls the store until the holder's token arrives,
// within its context's deadline and [Config.LeaseWait], and takes the
// lease itself once it has expired. Hundreds of cold instances thus cause
// one grant. An instance whose grant fails, or whose write of the new token
// to the store fails, gives the lease back at once (by compare-and-set), so
// that the next instance need not wait for the lease to end. After a
// write of the token whose outcome is unknown (it timed out, or the time
// its caller may wait ran out during it), the store is read back first, and
// the lease given back if it is still there. Giving back has an allowance
// of its own, [Config.StoreTimeout] for the read and the release together,
// not only what is left of the refresh's budget, but at most half the time
// left before the caller's deadline: the caller is never held past it. If
// no time is left at all, or the store does not answer, the lease ends by
// itself after [Config.LeaseDuration].
//
// No lease is left that nobody uses, and no store is written to in a loop:
//
//   - A lease write whose outcome is unknown (its answer was lost, or came
//     after [Config.StoreTimeout] or the caller's deadline) is checked by
//     reading the store back: if it took the lease, the instance grants
//     under it, or gives it back when its caller has gone.
//   - A lease write that conflicts (another instance wrote first) is tried
//     again after a jittered wait that grows from 20 ms to 500 ms, until
//     the lease wait's end; then the caller grants without the store. So
//     is one that the store refused as throttled (another write of the key
//     under way, most likely another instance's lease: its error has a
//     method Throttled() bool that returns true, as ssmstore.ErrThrottled
//     has), after a wait of 250 to 500 ms: it is not a store outage.
//   - A stored token that fits the store but not with the lease beside it
//     (the store refuses the lease write as too large) is left out of the
//     lease write: meanwhile the other instances serve their own token or
//     wait for the holder's, and a release puts the stored token back.
//   - A write of the token that conflicts while the store still holds this
//     instance's lease (a write that changed nothing took a version, as
//     ssmstore's void writes do) is made again over the new version; so is
//     one the store refused as throttled, after a wait of 250 to 500 ms,
//     within the time the caller may wait: it is not a store outage.
//   - An instance that may send no request (a Retry-After has not passed,
//     or the breaker is open) takes no lease: it serves its valid token, or
//     fails at once.
//   - A stored lease that ends more than [Config.LeaseDuration] and 5
//     seconds from now (a skewed clock, a bad writer) is not honoured.
//
// # Store sizes
//
// The store holds the provider's whole token response, sealed and base64
// when [Config.EncryptionKey] is set: a store must hold a value of about
// the response's size (four thirds of it, sealed). Package store/ssmstore's
// Standard tier holds an access token of about 3.7 KB, 2.7 KB sealed; its
// Advanced tier about 7.8 KB, 5.8 KB sealed; Redis and DynamoDB hold far
// more. A store that refuses a value as too large (its error matches
// store.ErrTooLarge, as ssmstore's and dynamostore's do) is not
// taken for down: the Source logs once, at Error, that the token does not
// fit, gives its lease back, and from then on still reads the store but
// takes no lease and writes no token: each instance grants its own.
//
// # Failures
//
// A refresh that fails while the current token is valid does not fail the
// caller: the token is served, the failure logged once, and the refresh
// tried again 5 seconds later, or after the Retry-After of a 429 or 503.
//
// While the current token is valid, the one caller that refreshes it waits
// for the refresh at most its budget, store calls included, and the
// callers that come meanwhile are served the valid token at once. The
// budget is 3 seconds; after a refresh cut off by its budget, 6; after two
// or more in a row, 12; back to 3 once a new token comes; and never more
// than half the time left before the caller's deadline when the refresh
// begins. So a provider or a store that hangs does not hold up a caller
// that has a valid token to use for more than that, and a provider that
// answers slowly (in 4 seconds, say) is still used before the token is no
// longer served. The third refresh cut off by its budget in a row is
// logged once, at Warn, with the caller's context.
//
// Without a valid token, Token returns a *[RetrieveError] (status and RFC
// 6749 error fields; a 429 or 5xx also matches [ErrUnavailable]),
// [ErrUnavailable], [ErrMalformed] or [ErrTokenType]. No request is sent
// before a Retry-After has passed, or [Config.MaxRetryAfter] (1 minute by
// default), whichever comes first: a server cannot hold a Source without a
// valid token back for longer. A failing Store is logged once and
// bypassed, for 10 seconds at a time, in favour of memory and the grant.
//
// A handler that returns such an error answers its own caller (see package
// httperror) 503 "service unavailable" when the provider is unavailable (a
// 429 or 5xx, with its Retry-After capped at a minute; unreachable; its
// circuit open, with the stand-down left), 502 "upstream error" for any
// other refusal: never the provider's status or text.
//
// A caller without a valid token that gets one from its grant waits for
// the store to take it at most [Config.StoreTimeout] for each store call,
// and half the time left before its deadline for them all: the token is
// then kept in memory only, and the lease given back as "Lease" says.
//
// Each token request is bounded by the Source itself: 10 seconds, at most
// three quarters of the time left before the caller's deadline, and at most
// [Config.LeaseDuration] for the holder of the lease. While a valid token
// is served, it also ends 100 ms before its refresh's budget does (100 ms
// and [Config.StoreTimeout] with a Store, for the writes that follow), if
// that leaves it a second or more: by default, for a caller with more than
// about 2.2 seconds left (4.2 with a Store). The bound is inside the
// breaker, so a provider that hangs fails requests that the breaker
// counts, and opens it, while the callers still have time, even while a
// valid token is served. Such a request is, for the Source, a refresh cut
// off by its budget (see below); with less time, the budget alone cuts the
// request off, and the breaker does not count it.
//
// A refresh cut off by the caller's own context (its deadline, or a
// cancellation), or by its budget while a valid token is served, is not a
// failure of the provider or of the store: it is not logged as one, and it
// puts the next refresh off by 2 seconds only, while the valid token is
// served. Without a valid token nothing is put off, and a
// concurrent caller whose context is live takes the refresh over; so does
// one when the refresh failed only because the refreshing caller's
// deadline was near.
//
// TokenURL is logged, and named in errors, without its query, user
// information and fragment, which may hold a key.
//
// Lines logged during a call to Token or Invalidate are logged with the
// caller's context, so that a handler such as package logging's adds the
// invocation's request and trace ids.
//
// Nothing here logs a token or a secret: [Config.ClientSecret] is a
// logging.Secret, and a [Token] prints and logs its access token as
// "[REDACTED]".
//
// # Adapters
//
// [Transport] adds the bearer token to requests and, on a 401, invalidates
// it ([Source.Invalidate]) and retries once with a new one. Invalidate keeps
// a token younger than a minute and drops at most one token a minute per
// Source, so that a downstream that refuses every token (a wrong audience)
// costs at most one grant a minute per instance rather than one per call,
// and does not delete the token that every instance shares. [Source.OAuth2]
// returns an oauth2.TokenSource for oauth2.NewClient and the libraries that
// take one.
//
// A Source is safe for concurrent use. Build it once, at init, and share it.
package token
