package app

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// WithBasePathFromEvent strips, before routing, the part of the request's
// path that the event itself proves is a stage or a custom domain's base
// path mapping rather than part of the route, so that "GET /orders/{id}"
// matches whether the function is called through api.example.com/v1/...,
// through <api-id>.execute-api.<region>.amazonaws.com/prod/... or directly.
// Nothing is stripped that the event does not prove: where it proves
// nothing, the path is left as it came, or [WithBasePath]'s prefix applies
// if one is set.
//
// What each source puts in the path (stage "prod", mapping key "v1", route
// GET /orders/{id}, client path /orders/42 after the stage or mapping):
//
//	source                              path field        carries            proof funcify uses
//	REST API, execute-api domain        path              nothing extra (a)  resource
//	REST API, custom domain mapping v1  path              /v1 (b)            resource
//	HTTP API 2.0, stage $default        rawPath           nothing extra (c)  routeKey
//	HTTP API 2.0, stage prod            rawPath           /prod (d)          routeKey, or the
//	                                                                         execute-api domain
//	HTTP API 2.0, custom domain mapping rawPath           not /v1 (e); /prod routeKey
//	                                                      reported (f)
//	HTTP API 1.0, custom domain mapping path              /v1 (e)            resource
//	HTTP API 1.0, stage prod            path              see (g)            resource
//	function URL                        rawPath           nothing extra (h)  none needed
//	ALB                                 path              nothing extra (i)  none needed
//
//	(a) The stage is in requestContext.path ("/prod/orders/42"), not in
//	    path; resource is the template ("/orders/{id}"). aws-lambda-go's
//	    events/testdata/apigw-request.json; the captures in
//	    aws-powertools/powertools-lambda-python#579.
//	(b) path and requestContext.path are "/v1/orders/42"; resource never
//	    carries the mapping. A mapping to an API without a stage puts the
//	    stage in path too ("/v1/prod/orders/42"). Observed in
//	    aws/serverless-java-container#34, CodeGenieApp/serverless-express#216,
//	    powertools-lambda-python#579 and localstack/localstack#12295.
//	(c) AWS API Gateway developer guide, "Create AWS Lambda proxy
//	    integrations for HTTP APIs", payload 2.0 example; aws-lambda-go's
//	    events/testdata/apigw-v2-request-no-authorizer.json.
//	(d) rawPath and requestContext.http.path are "/prod/orders/42"; routeKey
//	    ("GET /orders/{id}") and requestContext.stage ("prod") are not.
//	    powertools-lambda-python#621, logandk/serverless-wsgi#191,
//	    CodeGenieApp/serverless-express#653, aws/aws-lambda-rust-runtime#669.
//	(e) The same guide, "Payload format differences": in format 2.0
//	    "rawPath won't provide the API mapping value"; format 1.0's path
//	    does.
//	(f) A named stage's "/prod" in rawPath on a custom domain too:
//	    CodeGenieApp/serverless-express#465, adamchainz/apig-wsgi#194.
//	(g) Not settled by a published example; resource is right either way.
//	(h) rawPath is the URL's path; there is no stage to add and no custom
//	    domain of its own. aws-lambda-go's
//	    events/testdata/lambda-urls-request.json.
//	(i) path is the URL's path. aws-lambda-go's
//	    events/testdata/alb-lambda-target-request.json.
//
// So the proofs are these. REST APIs and HTTP APIs in format 1.0: the
// path's last segments must match resource (with pathParameters where it
// has them, and a {proxy+} taking the rest); what comes before is
// stripped. HTTP APIs in format 2.0: the same with routeKey's template;
// with the $default route, which has none, only the stage on the
// execute-api domain, where it is always the URL's first segment
// (requestContext.domainName <apiId>.execute-api...., requestContext.stage
// not "$default", and rawPath's first segment equal to it). A route of
// your own whose first segment equals the stage's name (GET /prod/reports
// on a custom domain) is never stripped by the stage's name alone. Function
// URLs and ALBs add nothing, and requests served through [App.ServeHTTP]
// have no event: for them, use [WithBasePath]. So too for an HTTP API
// whose $default route is reached through a custom domain, but there the
// prefix to give is the stage's name ("/prod", when the mapping points at
// a named stage), never the mapping key: rawPath never carries "/v1", and
// carries nothing at all when the mapping points at the $default stage.
//
// The prefix is stripped from r.URL.Path and r.URL.RawPath alike, before
// the app's guard, policy-information hook, parser and middleware run;
// r.RequestURI keeps the path as it came, as with [http.StripPrefix].
//
// A redirect (301, 302, 303, 307, 308) whose Location is an absolute path
// ("/files/", not "//host/..." or "https://...") gets the stripped prefix,
// as the client sent it, put back in front: such a Location is computed
// from the stripped path, by [http.ServeMux]'s own redirects (a "/files/"
// subtree reached as "/files", an unclean path) and by [http.Redirect],
// and without the prefix it would send the client outside the stage or
// mapping. A handler that builds such a Location with the prefix already
// in it (from r.RequestURI, say) must give a full URL instead. Other
// answers' headers are left as they are.
func WithBasePathFromEvent() Option {
	return func(o *options) { o.base.fromEvent = true }
}

// WithBasePath strips prefix from every HTTP request's path before
// routing: with WithBasePath("/v1"), /v1/orders/42 is routed as
// /orders/42 and /v1 and /v1/ as /. A path outside the prefix (/orders/42,
// /v1x/orders, /v2/orders) matches no route: it gets the app's 404 envelope,
// step "route", whatever routes the app has, since serving it would answer
// for a path the deployment does not expose (a careful caller is least
// hurt by a 404).
//
// prefix is compared segment by segment with the path as the client sent
// it, each segment decoded once, so /%761/orders (an encoded "v") is inside
// /v1 and /v1%2Forders is not. It must start with '/', must not end with
// one (except "/" itself, which strips nothing), and must not hold a
// wildcard ('{', '}', '*'), '%', '?', '#', an empty, "." or ".." segment:
// give it decoded, as the client's path reads. Like [http.ServeMux.Handle]
// with a bad pattern, WithBasePath panics when it is not.
//
// With [WithBasePathFromEvent] too, a prefix the event proves wins, and
// this prefix applies to the events that prove none (function URLs, ALBs,
// an HTTP API's $default route on a custom domain, where the prefix is the
// stage's name and never the mapping key) and to requests served through
// [App.ServeHTTP]. A redirect's Location gets the stripped prefix back, as
// [WithBasePathFromEvent] says.
func WithBasePath(prefix string) Option {
	segs := basePathSegments(prefix)
	return func(o *options) {
		o.base.prefix, o.base.segments = prefix, segs
	}
}

// basePathOptions is what [WithBasePathFromEvent] and [WithBasePath] set.
type basePathOptions struct {
	fromEvent bool
	prefix    string   // as given; "" or "/" strip nothing
	segments  []string // prefix's segments, decoded
}

// basePathSegments validates a [WithBasePath] prefix and returns its
// segments, panicking on a bad one.
func basePathSegments(prefix string) []string {
	bad := func(why string) {
		panic("app: WithBasePath(" + strconv.Quote(prefix) + "): " + why)
	}
	if prefix == "" || prefix[0] != '/' {
		bad("the prefix must start with '/'")
	}
	if prefix == "/" {
		return nil
	}
	if prefix[len(prefix)-1] == '/' {
		bad("the prefix must not end with '/'")
	}
	if i := strings.IndexAny(prefix, "{}*%?#"); i >= 0 {
		bad("the prefix must not hold " + strconv.Quote(prefix[i:i+1]) + ": give it decoded, without wildcards")
	}
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; c < 0x20 || c == 0x7f {
			bad("the prefix must not hold control characters")
		}
	}
	segs := strings.Split(prefix[1:], "/")
	for _, s := range segs {
		switch s {
		case "", ".", "..":
			bad("the prefix must not have an empty, \".\" or \"..\" segment")
		}
	}
	return segs
}

// handler returns next behind the base path stripping the options ask
// for, or next itself when they ask for none.
func (b *basePathOptions) handler(next http.Handler) http.Handler {
	if !b.fromEvent && len(b.segments) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, prefix, ok := b.strip(r)
		if !ok {
			// The message and step of the router's own 404.
			WriteError(w, r, &Error{Status: http.StatusNotFound, Message: "no route for " + r.Method + " " + r.URL.Path, Step: "route"})
			return
		}
		if u == nil {
			next.ServeHTTP(w, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = u
		if rw, ok := w.(*responseWriter); ok {
			// The app's own writer buffers the answer: fix its
			// Location once next is done.
			next.ServeHTTP(rw, r2)
			if isRedirect(rw.status) {
				addBasePath(rw.header, prefix)
			}
			return
		}
		next.ServeHTTP(&basePathWriter{ResponseWriter: w, prefix: prefix}, r2)
	})
}

// isRedirect reports whether status is one whose Location a client
// follows.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// addBasePath puts prefix, the escaped base path stripped from the
// request, back in front of h's Location when it is an absolute path
// ("/files/", not "//host/..." nor "https://..."): such a Location was
// computed from the stripped path, by ServeMux's redirects (a subtree
// reached without its '/', an unclean path) or by [http.Redirect], and
// without the prefix it would leave the stage or base path mapping.
func addBasePath(h http.Header, prefix string) {
	loc := h["Location"]
	if len(loc) != 1 {
		return
	}
	if l := loc[0]; len(l) > 0 && l[0] == '/' && (len(l) == 1 || l[1] != '/' && l[1] != '\\') {
		if p := prefix + l; len(p) > 1 && p[1] != '/' && p[1] != '\\' {
			loc[0] = p // never a scheme-relative Location, whatever the prefix
		}
	}
}

// plainSegments reports whether the escaped path prefix p is "/" followed
// by segments that are, decoded, neither empty nor "." nor "..".
func plainSegments(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		d, err := url.PathUnescape(seg)
		if err != nil || d == "" || d == "." || d == ".." || strings.ContainsAny(d, "/\\") {
			return false
		}
	}
	return true
}

// basePathWriter adds the stripped base path to a redirect's Location
// when the base path step is given a writer other than the app's own (see
// addBasePath).
type basePathWriter struct {
	http.ResponseWriter
	prefix      string
	wroteHeader bool
}

func (w *basePathWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 200 {
		w.wroteHeader = true
		if isRedirect(status) {
			addBasePath(w.Header(), w.prefix)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *basePathWriter) Write(p []byte) (int, error) {
	w.wroteHeader = true // 200: no Location to fix
	return w.ResponseWriter.Write(p)
}

// Unwrap lets [http.ResponseController] reach the writer beneath.
func (w *basePathWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// strip returns r's URL with the base path stripped and the stripped
// prefix as the client sent it (escaped), nil if there is none to strip,
// and false if r's path lies outside the fixed prefix.
func (b *basePathOptions) strip(r *http.Request) (*url.URL, string, bool) {
	esc := r.URL.EscapedPath()
	if b.fromEvent {
		if ev, ok := event.FromContext(r.Context()); ok {
			if n, ok := provedSegments(ev, esc); ok {
				if n == 0 {
					return nil, "", true
				}
				// A prefix with an empty, "." or ".." segment ("//evil.com")
				// is no stage or mapping: it proves nothing, and put back
				// in front of a redirect it would send the client away.
				if end := segmentsEnd(esc, n); plainSegments(esc[:end]) {
					return withEscapedPath(r.URL, esc[end:]), esc[:end], true
				}
			}
		}
	}
	if len(b.segments) == 0 {
		return nil, "", true
	}
	rest, ok := trimSegments(esc, b.segments)
	if !ok {
		return nil, "", false
	}
	return withEscapedPath(r.URL, rest), esc[:len(esc)-len(rest)], true
}

// trimSegments removes segs, compared decoded, from the front of the
// escaped path esc. It reports false unless esc starts with all of them,
// each followed by '/' or the path's end.
func trimSegments(esc string, segs []string) (string, bool) {
	for _, seg := range segs {
		if esc == "" || esc[0] != '/' {
			return "", false
		}
		esc = esc[1:]
		i := strings.IndexByte(esc, '/')
		if i < 0 {
			i = len(esc)
		}
		if !segmentIs(esc[:i], seg) {
			return "", false
		}
		esc = esc[i:]
	}
	return esc, true
}

// segmentIs reports whether the escaped path segment s decodes to want.
func segmentIs(s, want string) bool {
	if s == want {
		return true
	}
	if strings.IndexByte(s, '%') < 0 {
		return false
	}
	d, err := url.PathUnescape(s)
	return err == nil && d == want
}

// segmentsEnd returns the index in esc where its first n segments end.
func segmentsEnd(esc string, n int) int {
	i := 0
	for ; n > 0 && i < len(esc); n-- {
		j := strings.IndexByte(esc[i+1:], '/')
		if j < 0 {
			return len(esc)
		}
		i += 1 + j
	}
	return i
}

// withEscapedPath returns a copy of u whose path is rest, an escaped path
// that was a suffix of u's: u.Path is rest decoded, and u.RawPath rest
// when they differ, as newRequest sets them. An empty rest is "/".
func withEscapedPath(u *url.URL, rest string) *url.URL {
	if rest == "" {
		rest = "/"
	}
	u2 := *u
	u2.Path, u2.RawPath = rest, ""
	if strings.IndexByte(rest, '%') >= 0 {
		// rest is a suffix of a path that was valid escaping, cut at a
		// '/', so it decodes.
		if p, err := url.PathUnescape(rest); err == nil {
			u2.Path, u2.RawPath = p, rest
		}
	}
	return &u2
}

// provedSegments returns how many leading segments of esc, the request's
// escaped path, ev proves are a stage or base path mapping, and false if
// it proves nothing (see [WithBasePathFromEvent]).
func provedSegments(ev *event.Event, esc string) (int, bool) {
	switch v := ev.Value.(type) {
	case *events.APIGatewayProxyRequest:
		return templateTail(v.Resource, v.PathParameters, esc)
	case *events.APIGatewayV2HTTPRequest:
		_, tmpl, _ := strings.Cut(v.RouteKey, " ") // "GET /orders/{id}"; "$default" has none
		if n, ok := templateTail(tmpl, v.PathParameters, esc); ok {
			return n, true
		}
		rc := &v.RequestContext
		if rc.Stage != "" && rc.Stage != "$default" && rc.APIID != "" &&
			strings.HasPrefix(rc.DomainName, rc.APIID+".execute-api.") {
			if _, ok := trimSegments(esc, []string{rc.Stage}); ok {
				return 1, true
			}
		}
	}
	return 0, false
}

// templateTail matches the route template tmpl ("/orders/{id}",
// "/{proxy+}") against the last segments of the escaped path esc (a
// trailing '/' aside) and returns how many segments come before them. A
// {name} segment matches any segment, or, if params has name, only one
// that is params[name] as sent or decoded; a final {name+} matches the
// rest, likewise. It reports false if the template does not match, or
// matches in more than one place.
func templateTail(tmpl string, params map[string]string, esc string) (int, bool) {
	if tmpl == "" || tmpl[0] != '/' {
		return 0, false
	}
	t := splitSegments(tmpl)
	if len(esc) > 1 {
		esc = strings.TrimSuffix(esc, "/")
	}
	p := splitSegments(esc)
	if len(t) == 0 || !isGreedy(t[len(t)-1]) {
		n := len(p) - len(t)
		if n < 0 {
			return 0, false
		}
		for i, s := range t {
			if !templateSegmentMatches(s, p[n+i], params) {
				return 0, false
			}
		}
		return n, true
	}
	fixed, greedy := t[:len(t)-1], t[len(t)-1]
	name := greedy[1 : len(greedy)-2]
	found := -1
	for n := 0; n+len(t) <= len(p); n++ {
		ok := true
		for i, s := range fixed {
			if !templateSegmentMatches(s, p[n+i], params) {
				ok = false
				break
			}
		}
		if !ok || !paramMatches(name, strings.Join(p[n+len(fixed):], "/"), params, true) {
			continue
		}
		if found >= 0 {
			return 0, false // ambiguous: prove nothing
		}
		found = n
	}
	return found, found >= 0
}

// splitSegments returns the segments of path after its leading '/': none
// for "/".
func splitSegments(path string) []string {
	if len(path) <= 1 {
		return nil
	}
	return strings.Split(path[1:], "/")
}

func isGreedy(s string) bool {
	return len(s) > 3 && s[0] == '{' && strings.HasSuffix(s, "+}")
}

// templateSegmentMatches reports whether the escaped path segment seg
// matches the template segment s: a literal, or a {name}.
func templateSegmentMatches(s, seg string, params map[string]string) bool {
	if len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' {
		return paramMatches(s[1:len(s)-1], seg, params, false)
	}
	return segmentIs(seg, s)
}

// paramMatches reports whether the escaped path part v can be the value of
// the path parameter name: any value if params lacks it, else params[name]
// as sent or decoded (API Gateway passes it decoded for HTTP APIs), a
// trailing '/' aside for a greedy one.
func paramMatches(name, v string, params map[string]string, greedy bool) bool {
	want, ok := params[name]
	if !ok {
		return true
	}
	if greedy {
		want = strings.TrimSuffix(want, "/")
	}
	if v == want {
		return true
	}
	d, err := url.PathUnescape(v)
	return err == nil && d == want
}
