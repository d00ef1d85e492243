// Package session gives HTTP handlers cookie sessions: the caller's cookies
// read as session properties, set and removed with attributes, in plain text
// or sealed (authenticated and encrypted with AES-256-GCM), so that a caller
// can neither read nor forge them.
//
//	keys, err := session.KeysFromEnv("FUNCIFY_SESSION_KEYS")
//	if err != nil {
//		log.Fatal(err)
//	}
//	sealer, err := session.NewSealer(keys...)
//	if err != nil {
//		log.Fatal(err)
//	}
//	a := app.New()
//	a.Use(session.Middleware(session.Options{Sealer: sealer}))
//	a.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
//		s := session.FromRequest(r)
//		theme, _ := s.Get("theme")
//		user, ok := s.GetSealed("user")
//		...
//		if err := s.SetSealed("user", "u-42", 24*time.Hour); err != nil {
//			app.WriteError(w, r, err)
//			return
//		}
//		app.JSON(w, r, http.StatusOK, ...)
//	})
//
// # How changes reach the response
//
// [Middleware] puts a [Session] in each request's context and wraps the
// ResponseWriter. The session keeps its changes, one per cookie (name, Path
// and Domain: setting a cookie twice keeps the last), and the wrapper adds
// them to the header as one Set-Cookie value each just before the handler's
// first WriteHeader, Write or Flush, or after the handler returns if it wrote
// nothing. So a handler sets cookies before it writes its answer; later,
// Set fails with [ErrHeaderWritten] rather than losing the cookie silently.
// This works with any http.ResponseWriter, streaming ones included, and with
// funcify's app, whose buffered writer the wrapper returns from Unwrap.
//
// funcify's app then encodes each Set-Cookie where the source expects it:
// REST APIs (payload 1.0) in "multiValueHeaders", HTTP APIs (payload 2.0)
// and function URLs in the "cookies" array, ALB in "multiValueHeaders" when
// the target group has multi-value headers on. An ALB without them carries
// one Set-Cookie only: turn them on to set several cookies at once.
//
// # Cookies and attributes
//
// Names must be RFC 6265 tokens and plain values RFC 6265 cookie-octets
// (visible ASCII except '"', ',', ';' and '\'); anything else is an error
// from Set, never a malformed header. A cookie's defaults are Path=/,
// Secure, HttpOnly and SameSite=Lax, with no Domain and no expiry; [Attr]
// values change them: [Path], [Domain], [MaxAge], [Expires], [Secure],
// [HTTPOnly], [SameSite], [Partitioned]. Contradictions browsers would
// reject are errors too: SameSite=None or Partitioned without Secure, a
// "__Secure-" cookie without Secure, a "__Host-" cookie with a Domain or a
// Path other than "/". A cookie over [MaxCookieBytes] serialized (name,
// value and attributes) is [ErrTooLarge]. [Session.Delete] sends the cookie
// empty with Max-Age=0 and Expires in 1970; give it the Path and Domain the
// cookie was set with.
//
// Incoming Cookie headers are read once per request, on first use. Pairs
// whose name or value break the grammar are skipped; a value in double
// quotes loses them; when a name repeats the first wins.
//
// # Sealed values
//
// [Session.SetSealed] and [Session.GetSealed] store any string in a cookie
// through a [Sealer]: AES-256-GCM with the cookie's name as associated data
// (a value moved to another cookie does not open) and an expiry inside the
// sealed payload. The encoding is given at [Sealer]. Keys come from
// [KeysFromEnv] or [ParseKeys] (comma-separated base64, as in a secret) or
// as raw bytes to [NewSealer]; the first seals, all open, which is how keys
// rotate. A value that is tampered with, truncated, sealed for another name,
// sealed with a key no longer listed or expired reads as absent and is
// logged at debug level with the request's context, by name and reason,
// never by value; it is never an error for the caller.
//
// # Concurrency
//
// A [Sealer] and the middleware are safe for concurrent use by any number of
// invocations. A [Session] belongs to one request and is safe for the
// goroutines serving it.
package session
