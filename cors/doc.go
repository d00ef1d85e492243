// Package cors lets browser pages on other origins call net/http
// handlers, following the CORS protocol of the Fetch standard
// (https://fetch.spec.whatwg.org/#http-cors-protocol). It depends on the
// standard library only: it works in funcify's app, a plain net/http
// server or a chi router alike.
//
//	policy, err := cors.New(cors.Options{
//		AllowedOrigins:   []string{"https://app.example.com", "https://*.preview.example.com"},
//		AllowedMethods:   []string{"PUT", "PATCH", "DELETE"},
//		AllowedHeaders:   []string{"Content-Type", "Authorization"},
//		ExposedHeaders:   []string{"Location"},
//		AllowCredentials: true,
//		MaxAge:           10 * time.Minute,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.HandleFunc("POST /orders", createOrder)
//	log.Fatal(http.ListenAndServe(":8080", policy.Handler(mux)))
//
// With chi, r.Use(policy.Handler). Install it outermost, before
// authentication: a preflight carries no credentials, so an auth step
// would refuse it, and a router would answer 405 to an OPTIONS request.
//
// # Preflights
//
// A preflight is an OPTIONS request with an Origin and an
// Access-Control-Request-Method header (whatever their values: an empty
// or repeated one is refused). [Policy.Handler] answers it
// itself and never passes it on: 204 No Content, no body, and Vary:
// Origin, Access-Control-Request-Method, Access-Control-Request-Headers.
// When the origin is allowed, the method is GET, HEAD, POST or one of
// AllowedMethods (compared case-sensitively, as browsers do), and every
// name of Access-Control-Request-Headers is allowed, the answer also
// carries Access-Control-Allow-Origin, Access-Control-Allow-Methods (the
// method asked for), Access-Control-Allow-Headers (the names asked for),
// Access-Control-Allow-Credentials and Access-Control-Max-Age as
// configured. Otherwise it carries no CORS header, and the browser
// refuses the call: a refusal is not an error, and nothing is logged.
// An OPTIONS request without Access-Control-Request-Method, or without
// Origin, is not a preflight and goes on to the handler.
//
// # Actual requests
//
// Every other request goes on to the handler, with CORS headers already
// in its response header (see [Policy.SetHeaders]): an allowed origin
// gets Access-Control-Allow-Origin with its own value,
// Access-Control-Allow-Credentials and Access-Control-Expose-Headers as
// configured; a disallowed or missing origin gets none. With listed
// origins each answer depends on Origin, so Vary: Origin is added to it
// (existing Vary values are kept). With AllowedOrigins "*" every answer,
// with or without Origin, gets Access-Control-Allow-Origin: *, and no
// Vary, as the Fetch standard advises for caches.
//
// Code that clears a response's headers, as an app does when it replaces
// the answer of a handler that panicked, calls [Policy.SetHeaders] to put
// the CORS headers back, so that the calling page can read the error.
//
// # Origins and patterns
//
// An allowed origin is scheme://host[:port], without path, query or
// user; scheme and host are put in lower case and a default port (80 for
// http, 443 for https) is dropped, as browsers do when they send Origin.
// An IPv6 address is serialized as browsers do (the WHATWG URL standard):
// hex pieces, the first longest run of zeros compressed, and never an
// IPv4 part, so [::ffff:127.0.0.1] is kept as [::ffff:7f00:1]. An IPv4
// address must be written in dotted decimal (127.0.0.1): browsers also
// read a host that ends in a number in hex, octal or shortened forms
// (0x7f.0.0.1, 0177.0.0.1, 127.1) and send it in dotted decimal, and [New]
// refuses such a form rather than convert it.
// The Origin header is then compared exactly: browsers always send that
// form, so another spelling is not a browser's and is not allowed. Nor is
// a request with two Origin headers, which no browser sends.
//
// A pattern has "*" as its whole first label: "https://*.example.com"
// allows https://a.example.com and https://a.b.example.com (any depth),
// but not https://example.com (list it too), http://a.example.com (another
// scheme), https://a.example.com:8443 (another port) nor
// https://evil-example.com or https://example.com.evil.io. The labels that
// "*" stands for are lower-case letters, digits, '-' and '_'. A pattern
// needs two labels or more after "*." ("https://*.com" is refused), and
// no IP address. "*" anywhere else is refused.
//
// A pattern is a promise that every subdomain of its host is yours, now
// and later. On a public suffix, where anyone can have a name, it would
// let anyone in, so [New] refuses a pattern whose host is one: a
// country's second level (co.uk, com.au, ac.jp, gob.mx: "co", "com",
// "net", "org", "ac", "edu", "gov", "go", "ne", "or" and a few more under
// any two-letter top-level domain), and the hosting services' domains
// most used with CORS (github.io, gitlab.io, vercel.app, netlify.app,
// pages.dev, workers.dev, herokuapp.com, cloudfront.net, every name under
// amazonaws.com and on.aws, azurewebsites.net, appspot.com, web.app,
// firebaseapp.com, onrender.com, fly.dev, ngrok's domains and others).
// This is a short embedded list, not the Public Suffix List
// (https://publicsuffix.org), which this package does not carry: a host
// it does not refuse is not thereby proved yours, and a name that is both
// yours and under a refused second level ("*.co.xx" where co.xx is not a
// registry's) must be listed origin by origin. "https://*.example.co.uk"
// and "https://*.team.github.io" are accepted: their hosts are names
// someone owns.
//
// "null", the origin of sandboxed frames, data: URLs and local files, is
// refused in AllowedOrigins and matched by no pattern: any page can make
// a request with it, so allowing it would allow everyone. With
// AllowedOrigins "*" it is answered like any origin, with "*".
//
// # Credentials
//
// AllowCredentials lets pages send cookies and read the answers. It
// cannot be combined with "*" in AllowedOrigins, AllowedHeaders or
// ExposedHeaders: [New] refuses such options, since browsers would read
// "*" literally, or an attacker's page could read a signed-in user's
// data.
//
// # Concurrency
//
// A [Policy] is immutable once [New] returns it and is safe for
// concurrent use by any number of requests.
package cors
