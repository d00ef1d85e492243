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
// # Memory, store, grant
//
// [Source.Token] serves the token from memory, a read of one atomic
// pointer, until this instance's moment to refresh it. Then it reads the
// shared store: a newer token put there by another instance is served and
// kept in memory. Otherwise it asks the identity provider, through the
// circuit breaker, and puts the answer in the store (sealed with
// AES-256-GCM when [Config.EncryptionKey] is set). Concurrent callers in
// one process share that work: one asks, the others wait for its answer or,
// when the current token is still valid, go on serving it. A waiting caller
// stops waiting when its own context ends; when the asking caller's context
// ends first, a waiting caller whose context is live asks in its place.
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
// that the next instance need not wait for the lease to end.
//
// # Failures
//
// A refresh that fails while the current token is valid does not fail the
// caller: the token is served, the failure logged once, and the refresh
// tried again 5 seconds later, or after the Retry-After of a 429 or 503.
// Without a valid token, Token returns a *[RetrieveError] (status and RFC
// 6749 error fields; a 429 or 5xx also matches [ErrUnavailable]),
// [ErrUnavailable], [ErrMalformed] or [ErrTokenType]. No request is sent
// before a Retry-After has passed, or [Config.MaxRetryAfter] (1 minute by
// default), whichever comes first: a server cannot hold a Source without a
// valid token back for longer. A failing Store is logged once and
// bypassed, for 10 seconds at a time, in favour of memory and the grant.
//
// A refresh cut off by the caller's own context (its deadline, or a
// cancellation) is not a failure of the provider or of the store: it is
// not logged as one, and it does not put the next refresh off.
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
