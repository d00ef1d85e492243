package cors_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/cors"
)

// corsHeaders are the response headers this package writes.
var corsHeaders = []string{
	"Access-Control-Allow-Origin",
	"Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers",
	"Access-Control-Allow-Credentials",
	"Access-Control-Expose-Headers",
	"Access-Control-Max-Age",
	"Vary",
}

// serve sends a request with method and header through p's middleware
// and returns the recorded answer and whether the next handler ran.
func serve(t testing.TB, p *cors.Policy, method string, header http.Header) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	called := false
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Set("X-App", "1")
		w.WriteHeader(http.StatusTeapot)
	}))
	r := httptest.NewRequest(method, "/orders/1", nil)
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w, called
}

// checkHeaders compares the CORS headers of got with want, absent ones
// included.
func checkHeaders(t *testing.T, got http.Header, want map[string][]string) {
	t.Helper()
	for _, k := range corsHeaders {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("%s: got %q, want %q", k, got[k], want[k])
		}
	}
	for k := range want {
		if !slices.Contains(corsHeaders, k) {
			t.Fatalf("test names %s, which checkHeaders does not compare", k)
		}
	}
}

func mustNew(t testing.TB, o cors.Options) *cors.Policy {
	t.Helper()
	p, err := cors.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

const (
	app       = "https://app.example.com"
	evil      = "https://evil.example.net"
	preVary   = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
	acrm      = "Access-Control-Request-Method"
	acrh      = "Access-Control-Request-Headers"
	acao      = "Access-Control-Allow-Origin"
	acam      = "Access-Control-Allow-Methods"
	acah      = "Access-Control-Allow-Headers"
	acac      = "Access-Control-Allow-Credentials"
	aceh      = "Access-Control-Expose-Headers"
	acma      = "Access-Control-Max-Age"
	originKey = "Origin"
)

var (
	listed = cors.Options{
		AllowedOrigins:   []string{app, "https://*.preview.example.com"},
		AllowedMethods:   []string{"put", "PATCH", "Foo"},
		AllowedHeaders:   []string{"Content-Type", "authorization", "X-Request-ID"},
		ExposedHeaders:   []string{"Location", "X-Request-ID"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	}
	public = cors.Options{
		AllowedOrigins: []string{"*"},
		AllowedMethods: []string{"DELETE"},
		AllowedHeaders: []string{"*"},
		ExposedHeaders: []string{"Location"},
	}
)

// TestPreflight follows the CORS-preflight fetch of the Fetch standard:
// which preflights get the CORS headers, and which get a bare 204.
func TestPreflight(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   cors.Options
		header http.Header
		want   map[string][]string
	}{
		{"allowed method", listed,
			http.Header{originKey: {app}, acrm: {"PUT"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"PUT"}, acac: {"true"}, acma: {"600"}}},
		{"pattern origin", listed,
			http.Header{originKey: {"https://pr-7.preview.example.com"}, acrm: {"PATCH"}},
			map[string][]string{"Vary": {preVary}, acao: {"https://pr-7.preview.example.com"}, acam: {"PATCH"}, acac: {"true"}, acma: {"600"}}},
		{"safelisted method needs no listing", listed,
			http.Header{originKey: {app}, acrm: {"POST"}, acrh: {"content-type"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"POST"}, acah: {"content-type"}, acac: {"true"}, acma: {"600"}}},
		{"headers case-insensitive and echoed as asked", listed,
			http.Header{originKey: {app}, acrm: {"PUT"}, acrh: {"authorization,content-type,x-request-id"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"PUT"}, acah: {"authorization,content-type,x-request-id"}, acac: {"true"}, acma: {"600"}}},
		{"header list with white space, empty elements and capitals", listed,
			http.Header{originKey: {app}, acrm: {"PUT"}, acrh: {" Content-Type ,, \tX-REQUEST-ID\t,"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"PUT"}, acah: {" Content-Type ,, \tX-REQUEST-ID\t,"}, acac: {"true"}, acma: {"600"}}},
		{"header list split over two lines", listed,
			http.Header{originKey: {app}, acrm: {"PUT"}, acrh: {"content-type", "x-request-id"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"PUT"}, acah: {"content-type,x-request-id"}, acac: {"true"}, acma: {"600"}}},
		{"empty header list", listed,
			http.Header{originKey: {app}, acrm: {"PUT"}, acrh: {""}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"PUT"}, acac: {"true"}, acma: {"600"}}},
		{"listed custom method, same case", listed,
			http.Header{originKey: {app}, acrm: {"Foo"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"Foo"}, acac: {"true"}, acma: {"600"}}},

		{"disallowed origin", listed,
			http.Header{originKey: {evil}, acrm: {"PUT"}},
			map[string][]string{"Vary": {preVary}}},
		{"null origin", listed,
			http.Header{originKey: {"null"}, acrm: {"PUT"}},
			map[string][]string{"Vary": {preVary}}},
		{"empty origin", listed,
			http.Header{originKey: {""}, acrm: {"PUT"}},
			map[string][]string{"Vary": {preVary}}},
		{"two origins", listed,
			http.Header{originKey: {app, app}, acrm: {"PUT"}},
			map[string][]string{"Vary": {preVary}}},
		{"method not listed", listed,
			http.Header{originKey: {app}, acrm: {"DELETE"}},
			map[string][]string{"Vary": {preVary}}},
		{"method case differs from listed PATCH", listed,
			http.Header{originKey: {app}, acrm: {"patch"}},
			map[string][]string{"Vary": {preVary}}},
		{"method case differs from listed Foo", listed,
			http.Header{originKey: {app}, acrm: {"FOO"}},
			map[string][]string{"Vary": {preVary}}},
		{"empty method", listed,
			http.Header{originKey: {app}, acrm: {""}},
			map[string][]string{"Vary": {preVary}}},
		{"two methods", listed,
			http.Header{originKey: {app}, acrm: {"PUT", "PUT"}},
			map[string][]string{"Vary": {preVary}}},
		{"one header not allowed", listed,
			http.Header{originKey: {app}, acrm: {"PUT"}, acrh: {"content-type,x-other"}},
			map[string][]string{"Vary": {preVary}}},
		{"malformed header list", listed,
			http.Header{originKey: {app}, acrm: {"PUT"}, acrh: {"content-type;x-request-id"}},
			map[string][]string{"Vary": {preVary}}},
		{"header name with a space", listed,
			http.Header{originKey: {app}, acrm: {"PUT"}, acrh: {"content type"}},
			map[string][]string{"Vary": {preVary}}},

		{"any origin answers *", public,
			http.Header{originKey: {evil}, acrm: {"DELETE"}, acrh: {"x-anything"}},
			map[string][]string{"Vary": {preVary}, acao: {"*"}, acam: {"DELETE"}, acah: {"x-anything"}}},
		{"any origin, null origin", public,
			http.Header{originKey: {"null"}, acrm: {"GET"}},
			map[string][]string{"Vary": {preVary}, acao: {"*"}, acam: {"GET"}}},
		{"* headers leave Authorization out, as Fetch's wildcard", public,
			http.Header{originKey: {evil}, acrm: {"DELETE"}, acrh: {"authorization,x-anything"}},
			map[string][]string{"Vary": {preVary}}},
		{"* headers with Authorization listed", cors.Options{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"*", "Authorization"}},
			http.Header{originKey: {evil}, acrm: {"GET"}, acrh: {"Authorization,x-anything"}},
			map[string][]string{"Vary": {preVary}, acao: {"*"}, acam: {"GET"}, acah: {"Authorization,x-anything"}}},
		// With "*" headers only the token grammar (RFC 9110) stands
		// between a name and its echo in Access-Control-Allow-Headers.
		{"* headers, a name with a character outside the token grammar", public,
			http.Header{originKey: {evil}, acrm: {"DELETE"}, acrh: {"x-ok,x(bad)"}},
			map[string][]string{"Vary": {preVary}}},
		{"* headers, a name with a space", public,
			http.Header{originKey: {evil}, acrm: {"DELETE"}, acrh: {"x ok"}},
			map[string][]string{"Vary": {preVary}}},
		{"* headers, a name with a quote", public,
			http.Header{originKey: {evil}, acrm: {"DELETE"}, acrh: {`x"ok`}},
			map[string][]string{"Vary": {preVary}}},
		{"* headers, a name with a non-ASCII byte", public,
			http.Header{originKey: {evil}, acrm: {"DELETE"}, acrh: {"x-\u00e9"}},
			map[string][]string{"Vary": {preVary}}},
		{"* origins still check the method", public,
			http.Header{originKey: {evil}, acrm: {"PUT"}},
			map[string][]string{"Vary": {preVary}}},
		{"no max age, no credentials", cors.Options{AllowedOrigins: []string{app}},
			http.Header{originKey: {app}, acrm: {"GET"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"GET"}}},
		{"negative max age sends 0", cors.Options{AllowedOrigins: []string{app}, MaxAge: -1},
			http.Header{originKey: {app}, acrm: {"GET"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"GET"}, acma: {"0"}}},
		{"max age rounded down to seconds", cors.Options{AllowedOrigins: []string{app}, MaxAge: 1999 * time.Millisecond},
			http.Header{originKey: {app}, acrm: {"GET"}},
			map[string][]string{"Vary": {preVary}, acao: {app}, acam: {"GET"}, acma: {"1"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, called := serve(t, mustNew(t, tt.opts), http.MethodOptions, tt.header)
			if called {
				t.Error("the preflight reached the next handler")
			}
			if w.Code != http.StatusNoContent {
				t.Errorf("status: got %d, want 204", w.Code)
			}
			if w.Body.Len() != 0 {
				t.Errorf("body: got %q, want none", w.Body)
			}
			checkHeaders(t, w.Header(), tt.want)
		})
	}
}

// TestActual checks the headers of answers to requests that are not
// preflights, which always reach the next handler.
func TestActual(t *testing.T) {
	// The next handler adds Vary: Accept-Encoding after the middleware.
	for _, tt := range []struct {
		name   string
		opts   cors.Options
		method string
		header http.Header
		want   map[string][]string
	}{
		{"allowed origin", listed, "GET", http.Header{originKey: {app}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}, acao: {app}, acac: {"true"}, aceh: {"Location, X-Request-ID"}}},
		{"allowed pattern origin", listed, "DELETE", http.Header{originKey: {"https://a.b.preview.example.com"}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}, acao: {"https://a.b.preview.example.com"}, acac: {"true"}, aceh: {"Location, X-Request-ID"}}},
		{"disallowed origin", listed, "POST", http.Header{originKey: {evil}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}}},
		{"apex of a pattern", listed, "GET", http.Header{originKey: {"https://preview.example.com"}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}}},
		{"origin in capitals is not a browser's", listed, "GET", http.Header{originKey: {"https://APP.example.com"}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}}},
		{"null origin", listed, "GET", http.Header{originKey: {"null"}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}}},
		{"no origin", listed, "GET", nil,
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}}},
		{"two origins", listed, "GET", http.Header{originKey: {app, app}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}}},
		{"OPTIONS without Access-Control-Request-Method", listed, "OPTIONS", http.Header{originKey: {app}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}, acao: {app}, acac: {"true"}, aceh: {"Location, X-Request-ID"}}},
		{"OPTIONS with Access-Control-Request-Method but no Origin", listed, "OPTIONS", http.Header{acrm: {"PUT"}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}}},
		{"preflight headers on a GET are ignored", listed, "GET", http.Header{originKey: {app}, acrm: {"PUT"}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}, acao: {app}, acac: {"true"}, aceh: {"Location, X-Request-ID"}}},
		{"no credentials, no exposed headers", cors.Options{AllowedOrigins: []string{app}}, "GET", http.Header{originKey: {app}},
			map[string][]string{"Vary": {"Origin", "Accept-Encoding"}, acao: {app}}},

		{"any origin answers * without Vary", public, "GET", http.Header{originKey: {evil}},
			map[string][]string{"Vary": {"Accept-Encoding"}, acao: {"*"}, aceh: {"Location"}}},
		{"any origin answers * to a request without Origin", public, "GET", nil,
			map[string][]string{"Vary": {"Accept-Encoding"}, acao: {"*"}, aceh: {"Location"}}},
		{"any origin, nothing exposed", cors.Options{AllowedOrigins: []string{"*"}}, "GET", http.Header{originKey: {"null"}},
			map[string][]string{"Vary": {"Accept-Encoding"}, acao: {"*"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, called := serve(t, mustNew(t, tt.opts), tt.method, tt.header)
			if !called {
				t.Fatal("the request did not reach the next handler")
			}
			if w.Code != http.StatusTeapot || w.Header().Get("X-App") != "1" {
				t.Errorf("got %d X-App %q, want the handler's 418 and X-App 1", w.Code, w.Header().Get("X-App"))
			}
			checkHeaders(t, w.Header(), tt.want)
		})
	}
}

// TestVaryKept checks that Vary values set before the middleware are kept
// and that Origin is not repeated.
func TestVaryKept(t *testing.T) {
	p := mustNew(t, listed)
	for _, tt := range []struct {
		before, want []string
	}{
		{nil, []string{"Origin"}},
		{[]string{"Accept-Encoding"}, []string{"Accept-Encoding", "Origin"}},
		{[]string{"Accept-Encoding, origin"}, []string{"Accept-Encoding, origin"}},
		{[]string{"Cookie", "Origin"}, []string{"Cookie", "Origin"}},
		{[]string{"Originator"}, []string{"Originator", "Origin"}},
	} {
		h := http.Header{}
		if tt.before != nil {
			h["Vary"] = slices.Clone(tt.before)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Origin", app)
		p.SetHeaders(h, r)
		if !slices.Equal(h["Vary"], tt.want) {
			t.Errorf("Vary %q: got %q, want %q", tt.before, h["Vary"], tt.want)
		}
	}

	// A preflight adds its Vary to an outer middleware's.
	h := p.Handler(http.NotFoundHandler())
	w := httptest.NewRecorder()
	w.Header().Add("Vary", "Accept-Encoding")
	r := httptest.NewRequest("OPTIONS", "/", nil)
	r.Header.Set("Origin", app)
	r.Header.Set(acrm, "PUT")
	h.ServeHTTP(w, r)
	if want := []string{"Accept-Encoding", preVary}; !slices.Equal(w.Header()["Vary"], want) {
		t.Errorf("preflight Vary: got %q, want %q", w.Header()["Vary"], want)
	}
}

// TestHandlerHeadersNotClobbered checks that the headers a handler sets,
// CORS ones included, are what the caller gets, and that appending to one
// of the middleware's values does not write into another's.
func TestHandlerHeadersNotClobbered(t *testing.T) {
	p := mustNew(t, listed)
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		w.Header().Add(acao, "extra")
		w.Header().Set(aceh, "X-Own")
		w.Write([]byte("ok"))
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Origin", app)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	checkHeaders(t, w.Header(), map[string][]string{
		"Vary": {"Origin", "Cookie"}, acao: {app, "extra"}, acac: {"true"}, aceh: {"X-Own"},
	})
	if got := r.Header["Origin"]; !slices.Equal(got, []string{app}) {
		t.Errorf("request Origin: got %q, want it unchanged", got)
	}
}

// TestSetHeadersAfterReset is what funcify's app does when it replaces an
// answer after a panic: clear the header, then restore the CORS headers.
func TestSetHeadersAfterReset(t *testing.T) {
	for _, opts := range []cors.Options{listed, public} {
		p := mustNew(t, opts)
		r := httptest.NewRequest("POST", "/orders", nil)
		r.Header.Set("Origin", app)
		first := http.Header{}
		p.SetHeaders(first, r)
		h := first.Clone()
		h.Set("Content-Type", "text/plain")
		clear(h)
		p.SetHeaders(h, r)
		checkHeaders(t, h, first)
	}
}

// TestNew checks the options New refuses and the message it gives.
func TestNew(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts cors.Options
		want string // "" when valid
	}{
		{"no origins", cors.Options{}, "cors: Options.AllowedOrigins is required"},
		{"* with credentials", cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true}, `"*" cannot be combined with AllowCredentials`},
		{"* among others", cors.Options{AllowedOrigins: []string{app, "*"}}, `must be the only one`},
		{"* headers with credentials", cors.Options{AllowedOrigins: []string{app}, AllowedHeaders: []string{"*"}, AllowCredentials: true}, `AllowedHeaders "*" cannot be combined`},
		{"* exposed with credentials", cors.Options{AllowedOrigins: []string{app}, ExposedHeaders: []string{"*"}, AllowCredentials: true}, `ExposedHeaders "*" cannot be combined`},
		{"* exposed without credentials", cors.Options{AllowedOrigins: []string{app}, ExposedHeaders: []string{"*"}}, ""},
		{"null origin", cors.Options{AllowedOrigins: []string{"null"}}, `cors: Options.AllowedOrigins[0] "null": "null" is the origin of sandboxed frames`},
		{"path", cors.Options{AllowedOrigins: []string{app + "/"}}, `Options.AllowedOrigins[0] "https://app.example.com/": an origin has no path`},
		{"bad origin second", cors.Options{AllowedOrigins: []string{app, "app.example.com"}}, `AllowedOrigins[1] "app.example.com": an origin is scheme://host[:port]`},
		{"method *", cors.Options{AllowedOrigins: []string{app}, AllowedMethods: []string{"*"}}, `"*" is not supported`},
		{"method with space", cors.Options{AllowedOrigins: []string{app}, AllowedMethods: []string{"GET "}}, `AllowedMethods[0] "GET ": not a method name`},
		{"method TRACE", cors.Options{AllowedOrigins: []string{app}, AllowedMethods: []string{"trace"}}, `browsers never send it`},
		{"header with colon", cors.Options{AllowedOrigins: []string{app}, AllowedHeaders: []string{"X-A:"}}, `AllowedHeaders[0] "X-A:": not a header name`},
		{"empty exposed header", cors.Options{AllowedOrigins: []string{app}, ExposedHeaders: []string{""}}, `ExposedHeaders[0] "": not a header name`},
		{"everything", listed, ""},
		{"public", public, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := cors.New(tt.opts)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.want == "" && p == nil:
				t.Fatal("got a nil policy")
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "cors: ")):
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			case tt.want != "" && p != nil:
				t.Fatal("got a policy with the error")
			}
		})
	}
}

func TestMustNewPanics(t *testing.T) {
	defer func() {
		if v := recover(); v == nil {
			t.Error("MustNew with invalid options did not panic")
		}
	}()
	cors.MustNew(cors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true})
}

// TestConfiguredOriginsNormalized checks that configured origins are put in
// the form browsers send.
func TestConfiguredOriginsNormalized(t *testing.T) {
	for _, tt := range []struct{ configured, sent string }{
		{"HTTPS://App.Example.COM", "https://app.example.com"},
		{"https://app.example.com:443", "https://app.example.com"},
		{"http://localhost:80", "http://localhost"},
		{"http://localhost:05173", "http://localhost:5173"},
		{"https://app.example.com:8443", "https://app.example.com:8443"},
		{"http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]:8080"},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000"},
		{"HTTPS://*.Example.COM:443", "https://a.example.com"},
		{"chrome-extension://abcdefghijklmnop", "chrome-extension://abcdefghijklmnop"},
	} {
		p := mustNew(t, cors.Options{AllowedOrigins: []string{tt.configured}})
		w, _ := serve(t, p, "GET", http.Header{originKey: {tt.sent}})
		if got := w.Header().Get(acao); got != tt.sent {
			t.Errorf("%s, Origin %s: got Access-Control-Allow-Origin %q, want %q", tt.configured, tt.sent, got, tt.sent)
		}
	}
}

// TestConcurrentUse serves one policy from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	p := mustNew(t, listed)
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				r := httptest.NewRequest("GET", "/", nil)
				if (i+j)%2 == 0 {
					r.Method = "OPTIONS"
					r.Header.Set(acrm, "PUT")
				}
				r.Header.Set("Origin", app)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Header().Get(acao) != app {
					t.Errorf("got %q, want %q", w.Header().Get(acao), app)
					return
				}
			}
		})
	}
	wg.Wait()
}
