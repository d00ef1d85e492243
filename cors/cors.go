package cors

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Options says which cross-origin callers a [Policy] lets read its
// answers. Only AllowedOrigins is required; the zero value of every other
// field is the narrowest setting.
type Options struct {
	// AllowedOrigins are the origins whose pages may call: exact origins
	// ("https://app.example.com", "http://localhost:5173"), patterns whose
	// first label is "*" ("https://*.example.com": every subdomain of
	// example.com at any depth, on https and the default port, never
	// example.com itself), or "*" alone (any origin, only without
	// credentials). They may be written in any case and with a default
	// port; the Origin header is compared with them in the form browsers
	// send (lower case, no default port, IPv6 in hex pieces; an IPv4
	// address must be dotted decimal). "null", and a pattern on a public
	// suffix of the package's partial list ("https://*.co.uk",
	// "https://*.github.io"), are refused. Required.
	AllowedOrigins []string

	// AllowedMethods are the methods a preflight may ask for besides GET,
	// HEAD and POST, which browsers send without asking and are always
	// allowed. Methods are case-sensitive, as in Fetch, except DELETE,
	// GET, HEAD, OPTIONS, POST and PUT, which browsers upper-case and which
	// are upper-cased here too: "patch" and "PATCH" are two methods.
	AllowedMethods []string

	// AllowedHeaders are the request headers a preflight may ask for,
	// compared case-insensitively; say "Content-Type" for JSON bodies and
	// "Authorization" for bearer tokens. "*" allows any name except
	// Authorization, which must be listed too, as with Fetch's own
	// wildcard; "*" cannot be combined with AllowCredentials.
	AllowedHeaders []string

	// ExposedHeaders are the response headers, beyond the CORS-safelisted
	// ones (Content-Type, Cache-Control, ...), that the calling page may
	// read. "*" exposes all of them; it cannot be combined with
	// AllowCredentials.
	ExposedHeaders []string

	// AllowCredentials lets browsers send cookies and HTTP authentication
	// with cross-origin requests, and lets the page read the answers.
	AllowCredentials bool

	// MaxAge is how long a browser may keep a preflight's answer, in whole
	// seconds (rounded down); browsers cap it (Chromium at 2 hours). Zero
	// leaves Access-Control-Max-Age out, so a browser keeps the answer for
	// its own default (5 seconds); a negative value sends 0, so that
	// browsers do not keep it at all.
	MaxAge time.Duration
}

// A Policy answers CORS preflights and adds CORS headers to the answers of
// cross-origin requests, as [Options] say. It is immutable and safe for
// concurrent use.
type Policy struct {
	anyOrigin   bool                // AllowedOrigins is "*"
	origins     map[string]struct{} // exact origins, serialized as browsers do
	patterns    []pattern
	methods     map[string]struct{} // besides GET, HEAD and POST
	anyHeader   bool                // AllowedHeaders holds "*"
	headers     map[string]struct{} // lower case
	credentials bool
	expose      string // Access-Control-Expose-Headers, or ""
	maxAge      string // Access-Control-Max-Age, or ""
}

// New checks o and returns its policy. It refuses "*" origins or headers
// with AllowCredentials, an origin that is not scheme://host[:port] as a
// browser sends it or a pattern of the documented shape (not on a public
// suffix), and names that are not HTTP tokens.
func New(o Options) (*Policy, error) {
	p := &Policy{credentials: o.AllowCredentials}
	if len(o.AllowedOrigins) == 0 {
		return nil, errors.New("cors: Options.AllowedOrigins is required")
	}
	for i, s := range o.AllowedOrigins {
		if s == "*" {
			if len(o.AllowedOrigins) > 1 {
				return nil, errors.New(`cors: Options.AllowedOrigins: "*" allows every origin and must be the only one`)
			}
			if o.AllowCredentials {
				return nil, errors.New(`cors: Options.AllowedOrigins "*" cannot be combined with AllowCredentials: list the origins`)
			}
			p.anyOrigin = true
			break
		}
		origin, pat, isPattern, err := parseOrigin(s)
		if err != nil {
			return nil, fmt.Errorf("cors: Options.AllowedOrigins[%d] %q: %w", i, s, err)
		}
		if isPattern {
			p.patterns = append(p.patterns, pat)
			continue
		}
		if p.origins == nil {
			p.origins = make(map[string]struct{}, len(o.AllowedOrigins))
		}
		p.origins[origin] = struct{}{}
	}

	p.methods = make(map[string]struct{}, len(o.AllowedMethods))
	for i, m := range o.AllowedMethods {
		if m == "*" {
			return nil, fmt.Errorf(`cors: Options.AllowedMethods[%d]: "*" is not supported: list the methods`, i)
		}
		if !validToken(m) {
			return nil, fmt.Errorf("cors: Options.AllowedMethods[%d] %q: not a method name", i, m)
		}
		switch u := strings.ToUpper(m); u {
		case "CONNECT", "TRACE", "TRACK":
			return nil, fmt.Errorf("cors: Options.AllowedMethods[%d] %q: browsers never send it", i, m)
		case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
			m = u // Fetch normalizes these six
		}
		p.methods[m] = struct{}{}
	}

	p.headers = make(map[string]struct{}, len(o.AllowedHeaders))
	for i, h := range o.AllowedHeaders {
		if h == "*" {
			if o.AllowCredentials {
				return nil, errors.New(`cors: Options.AllowedHeaders "*" cannot be combined with AllowCredentials: list the headers`)
			}
			p.anyHeader = true
			continue
		}
		if !validToken(h) {
			return nil, fmt.Errorf("cors: Options.AllowedHeaders[%d] %q: not a header name", i, h)
		}
		p.headers[strings.ToLower(h)] = struct{}{}
	}

	for i, h := range o.ExposedHeaders {
		if h == "*" && o.AllowCredentials {
			return nil, errors.New(`cors: Options.ExposedHeaders "*" cannot be combined with AllowCredentials: list the headers`)
		}
		if !validToken(h) {
			return nil, fmt.Errorf("cors: Options.ExposedHeaders[%d] %q: not a header name", i, h)
		}
	}
	p.expose = strings.Join(o.ExposedHeaders, ", ")

	switch {
	case o.MaxAge < 0:
		p.maxAge = "0"
	case o.MaxAge > 0:
		p.maxAge = strconv.FormatInt(int64(o.MaxAge/time.Second), 10)
	}
	return p, nil
}

// MustNew is like [New] but panics if o is invalid; it is for setup code,
// as in r.Use(cors.MustNew(o).Handler).
func MustNew(o Options) *Policy {
	p, err := New(o)
	if err != nil {
		panic(err)
	}
	return p
}

// Handler returns middleware that answers CORS preflights itself and
// passes every other request on to next, with the CORS headers of
// [Policy.SetHeaders] already in its response header.
//
// A preflight is an OPTIONS request with an Origin and an
// Access-Control-Request-Method header. Its answer is 204 No Content with
// no body, carrying the CORS headers when the origin, the method and every
// requested header are allowed and none otherwise (the browser then
// refuses the call; it is not an error here). next never sees it, so a
// router's 405 and an authentication step's 401 never answer a preflight.
func (p *Policy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			if _, ok := r.Header[headerRequestMethod]; ok {
				if origin, ok := r.Header[headerOrigin]; ok {
					p.preflight(w, r, origin)
					return
				}
			}
		}
		p.SetHeaders(w.Header(), r)
		next.ServeHTTP(w, r)
	})
}

const (
	headerOrigin         = "Origin"
	headerRequestMethod  = "Access-Control-Request-Method"
	headerRequestHeaders = "Access-Control-Request-Headers"
	headerAllowOrigin    = "Access-Control-Allow-Origin"
	headerAllowCreds     = "Access-Control-Allow-Credentials"
	headerAllowMethods   = "Access-Control-Allow-Methods"
	headerAllowHeaders   = "Access-Control-Allow-Headers"
	headerExpose         = "Access-Control-Expose-Headers"
	headerMaxAge         = "Access-Control-Max-Age"
	headerVary           = "Vary"
	preflightVary        = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
)

// SetHeaders puts in h the CORS headers of the answer to r, an actual
// (not preflight) request; [Policy.Handler] calls it before passing r on.
// Call it again to restore them after clearing a response's headers, as
// an app does when it replaces a handler's answer after a panic.
//
// With AllowedOrigins "*", every answer gets Access-Control-Allow-Origin:
// * (and Access-Control-Expose-Headers), whether r has an Origin or not,
// so that a cache may serve one answer to all; no Vary is needed. With
// listed origins the answer depends on Origin: Vary: Origin is added to
// h's Vary values (kept, and not repeated), and an allowed origin gets
// Access-Control-Allow-Origin with that origin,
// Access-Control-Allow-Credentials and Access-Control-Expose-Headers as
// configured. A missing or disallowed origin gets no CORS headers.
// Headers a handler sets afterwards are its own: to add to Vary, use
// h.Add, not h.Set.
func (p *Policy) SetHeaders(h http.Header, r *http.Request) {
	if p.anyOrigin {
		if p.expose == "" {
			h[headerAllowOrigin] = []string{"*"}
			return
		}
		v := []string{"*", p.expose}
		h[headerAllowOrigin], h[headerExpose] = v[0:1:1], v[1:2:2]
		return
	}
	vary := !hasToken(h[headerVary], headerOrigin)
	origins := r.Header[headerOrigin]
	allowed := len(origins) == 1 && p.allowed(origins[0])
	n := 0
	if vary {
		n++
	}
	if allowed {
		n++
		if p.credentials {
			n++
		}
		if p.expose != "" {
			n++
		}
	}
	if n == 0 {
		return
	}
	// One backing array for every value; each header's slice is capped
	// so that a handler's Add copies instead of writing into the next.
	v := make([]string, 0, n)
	put := func(key, value string) {
		v = append(v, value)
		h[key] = v[len(v)-1 : len(v) : len(v)]
	}
	if vary {
		if old := h[headerVary]; len(old) > 0 {
			h[headerVary] = append(old, headerOrigin)
		} else {
			put(headerVary, headerOrigin)
		}
	}
	if !allowed {
		return
	}
	put(headerAllowOrigin, origins[0])
	if p.credentials {
		put(headerAllowCreds, "true")
	}
	if p.expose != "" {
		put(headerExpose, p.expose)
	}
}

// preflight answers a CORS preflight: 204 with the CORS headers when
// everything asked for is allowed, 204 without them otherwise.
func (p *Policy) preflight(w http.ResponseWriter, r *http.Request, origins []string) {
	h := w.Header()
	acao, ok := p.preflightOrigin(origins)
	methods := r.Header[headerRequestMethod]
	ok = ok && len(methods) == 1 && p.methodAllowed(methods[0])
	var asked string
	if ok {
		asked, ok = p.headersAllowed(r.Header[headerRequestHeaders])
	}
	// One backing array for every value, as in SetHeaders.
	v := make([]string, 0, 6)
	put := func(key, value string) {
		v = append(v, value)
		h[key] = v[len(v)-1 : len(v) : len(v)]
	}
	if old := h[headerVary]; len(old) > 0 {
		h[headerVary] = append(old, preflightVary)
	} else {
		put(headerVary, preflightVary)
	}
	if ok {
		put(headerAllowOrigin, acao)
		put(headerAllowMethods, methods[0])
		if asked != "" {
			put(headerAllowHeaders, asked)
		}
		if p.credentials {
			put(headerAllowCreds, "true")
		}
		if p.maxAge != "" {
			put(headerMaxAge, p.maxAge)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// preflightOrigin returns the Access-Control-Allow-Origin value for a
// preflight from origins, and whether that origin is allowed.
func (p *Policy) preflightOrigin(origins []string) (string, bool) {
	if p.anyOrigin {
		return "*", true
	}
	if len(origins) == 1 && p.allowed(origins[0]) {
		return origins[0], true
	}
	return "", false
}

// allowed reports whether origin, exactly as the request spelt it, is one
// of the listed origins or matches a pattern. Browsers serialize origins
// in lower case without a default port, the form the listed ones were
// put in; another spelling is not a browser's and does not match.
func (p *Policy) allowed(origin string) bool {
	if _, ok := p.origins[origin]; ok {
		return true
	}
	for _, pat := range p.patterns {
		if pat.match(origin) {
			return true
		}
	}
	return false
}

// methodAllowed reports whether a preflight may ask for method. GET, HEAD
// and POST need no permission: browsers accept them whatever the answer.
func (p *Policy) methodAllowed(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
		return true
	}
	_, ok := p.methods[method]
	return ok
}

// headersAllowed checks the Access-Control-Request-Headers field lines of
// a preflight: comma-separated header names, compared case-insensitively,
// with optional white space and empty elements, as HTTP lists allow. It
// returns the names asked for, as sent, to echo in
// Access-Control-Allow-Headers ("" when none), and whether all are
// allowed. A malformed list is not allowed.
func (p *Policy) headersAllowed(lines []string) (string, bool) {
	names := 0
	for _, line := range lines {
		for rest := line; rest != ""; {
			var name string
			name, rest, _ = strings.Cut(rest, ",")
			name = strings.Trim(name, " \t")
			if name == "" {
				continue
			}
			if !validToken(name) || !p.headerAllowed(name) {
				return "", false
			}
			names++
		}
	}
	switch {
	case names == 0:
		return "", true
	case len(lines) == 1:
		return lines[0], true
	}
	return strings.Join(lines, ","), true
}

// headerAllowed reports whether a preflight may ask for the header name.
// Names up to 64 bytes are lower-cased on the stack.
func (p *Policy) headerAllowed(name string) bool {
	if !hasUpper(name) || len(name) > 64 {
		lower := strings.ToLower(name) // name itself when already lower case
		_, ok := p.headers[lower]
		return ok || p.anyHeader && lower != "authorization"
	}
	var buf [64]byte
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	_, ok := p.headers[string(b)]
	return ok || p.anyHeader && string(b) != "authorization"
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// hasToken reports whether one of the comma-separated lists in values
// holds token, compared case-insensitively.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for rest := v; rest != ""; {
			var t string
			t, rest, _ = strings.Cut(rest, ",")
			if strings.EqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// validToken reports whether s is an HTTP token (RFC 9110, section 5.6.2),
// the syntax of method and header names.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
