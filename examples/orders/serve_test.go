package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/internal/testenv"
)

// exchange is one request to the API and what a client sees of its answer.
type exchange struct {
	method, path, body string
	header             map[string]string
}

// seen is an answer as a client sees it: the status, the headers (values
// joined with ", "), the Set-Cookie headers without their sealed values,
// which differ on every answer, and the body.
type seen struct {
	status  int
	header  map[string]string
	cookies []string
	body    string
}

// cookieShape drops a Set-Cookie header's value, keeping its name and
// attributes.
func cookieShape(c string) string {
	name, rest, _ := strings.Cut(c, "=")
	_, attrs, _ := strings.Cut(rest, ";")
	return name + "=<sealed>;" + attrs
}

// v2Event is the HTTP API 2.0 event API Gateway sends for x.
func v2Event(x exchange) []byte {
	path, query, _ := strings.Cut(x.path, "?")
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path, RawQueryString: query, Body: x.body,
		Headers: map[string]string{"host": "api.example.com"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "api.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: x.method, Path: path, SourceIP: "203.0.113.9"},
		},
	}
	for k, v := range x.header {
		if strings.EqualFold(k, "Cookie") {
			ev.Cookies = append(ev.Cookies, strings.Split(v, "; ")...)
			continue
		}
		ev.Headers[strings.ToLower(k)] = v
	}
	b, _ := json.Marshal(ev)
	return b
}

func viaLambda(t *testing.T, a *app.App, x exchange) seen {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "test"})
	out, err := a.Invoke(ctx, v2Event(x))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var r events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	s := seen{status: r.StatusCode, header: map[string]string{}, body: r.Body}
	for k, v := range r.Headers {
		s.header[http.CanonicalHeaderKey(k)] = v
	}
	for _, c := range r.Cookies {
		s.cookies = append(s.cookies, cookieShape(c))
	}
	if r.IsBase64Encoded {
		b, _ := base64.StdEncoding.DecodeString(r.Body)
		s.body = string(b)
	}
	return s
}

func viaServeHTTP(a *app.App, x exchange) seen {
	r := httptest.NewRequest(x.method, "https://api.example.com"+x.path, strings.NewReader(x.body))
	for k, v := range x.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	s := seen{status: w.Code, header: map[string]string{}, body: w.Body.String()}
	for k, vs := range w.Header() {
		switch k {
		case "Set-Cookie":
			for _, c := range vs {
				s.cookies = append(s.cookies, cookieShape(c))
			}
		case "Content-Length": // net/http's; a Lambda response has none
		default:
			s.header[k] = strings.Join(vs, ", ")
		}
	}
	return s
}

// TestInvokeMatchesServeHTTP: every route of the example answers the same
// through a Lambda event and through ServeHTTP: status, headers and body,
// with authentication and CORS on, errors and preflights included. Two
// apps with stores of their own see the same requests in the same order.
func TestInvokeMatchesServeHTTP(t *testing.T) {
	idp := testenv.StartOIDC(t)
	read := idp.Token(t, "orders:order:read")
	write := idp.Token(t, "orders:order:read", "orders:order:write")
	t.Setenv(envIssuer, idp.Issuer)
	t.Setenv(envAudience, idp.Audience)
	t.Setenv(envJWKS, idp.JWKSURL)
	t.Setenv(envCORSOrigins, "https://shop.example.com, https://*.example.net")

	quiet := app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	viaEvent, viaHTTP := newApp(newStore(), quiet), newApp(newStore(), quiet)
	const origin = "https://shop.example.com"
	bearer := func(tok string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "Origin": origin}
	}
	for _, x := range []exchange{
		{"GET", "/health", "", nil},
		{"HEAD", "/health", "", nil},
		{"GET", "/health", "", map[string]string{"Origin": "https://evil.example"}},
		{"OPTIONS", "/orders", "", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization, content-type"}},
		{"OPTIONS", "/orders/1", "", map[string]string{"Origin": "https://a.example.net", "Access-Control-Request-Method": "GET"}},
		{"OPTIONS", "/orders", "", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}},
		{"GET", "/orders", "", map[string]string{"Origin": origin}},
		{"GET", "/orders", "", bearer("not-a-token")},
		{"GET", "/orders", "", bearer(read)},
		{"POST", "/orders", `{"item":"book","quantity":2}`, bearer(read)},
		{"POST", "/orders", `{"item":"book","quantity":2}`, bearer(write)},
		{"POST", "/orders", `{"item":"","quantity":2}`, bearer(write)},
		{"POST", "/orders", `{"item":`, bearer(write)},
		{"GET", "/orders", "", bearer(read)},
		{"GET", "/orders/1", "", bearer(read)},
		{"GET", "/orders/99", "", bearer(read)},
		{"DELETE", "/orders", "", bearer(write)},
		{"GET", "/no/such/path", "", bearer(read)},
		{"GET", "/session", "", nil},
		{"GET", "/session", "", map[string]string{"Cookie": "visits=tampered"}},
	} {
		t.Run(x.method+" "+x.path, func(t *testing.T) {
			want := viaLambda(t, viaEvent, x)
			got := viaServeHTTP(viaHTTP, x)
			if got.status != want.status || got.body != want.body || !slices.Equal(got.cookies, want.cookies) {
				t.Errorf("ServeHTTP %d %q %q; event %d %q %q", got.status, got.body, got.cookies, want.status, want.body, want.cookies)
			}
			for k, v := range want.header {
				if got.header[k] != v {
					t.Errorf("%s: ServeHTTP %q, event %q", k, got.header[k], v)
				}
			}
			for k, v := range got.header {
				if _, ok := want.header[k]; !ok {
					t.Errorf("%s: ServeHTTP %q, event none", k, v)
				}
			}
		})
	}
}

// TestCORSPreflight: with ORDERS_CORS_ORIGINS set, a preflight from an
// allowed origin is answered 204 with the CORS headers, before
// authentication, on every route; another origin's gets none.
func TestCORSPreflight(t *testing.T) {
	t.Setenv(envCORSOrigins, "https://shop.example.com")
	a := testApp()
	for _, path := range []string{"/orders", "/orders/1", "/health", "/session"} {
		x := exchange{"OPTIONS", path, "", map[string]string{"Origin": "https://shop.example.com",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,authorization"}}
		got := viaServeHTTP(a, x)
		if got.status != 204 || got.header["Access-Control-Allow-Origin"] != "https://shop.example.com" ||
			!strings.Contains(got.header["Access-Control-Allow-Methods"], "POST") ||
			!strings.Contains(got.header["Vary"], "Origin") || got.body != "" {
			t.Errorf("preflight %s: got %d %v %q", path, got.status, got.header, got.body)
		}
		x.header["Origin"] = "https://evil.example"
		got = viaServeHTTP(a, x)
		if got.status != 204 || got.header["Access-Control-Allow-Origin"] != "" {
			t.Errorf("preflight %s from another origin: got %d %v", path, got.status, got.header)
		}
	}
	got := viaLambda(t, a, exchange{"GET", "/health", "", map[string]string{"Origin": "https://shop.example.com"}})
	if got.status != 200 || got.header["Access-Control-Allow-Origin"] != "https://shop.example.com" {
		t.Errorf("GET /health from the allowed origin: got %d %v", got.status, got.header)
	}
}

func TestCORSOriginsFromEnv(t *testing.T) {
	for _, tt := range []struct {
		value string
		set   bool
		panic bool
	}{
		{"", false, false},
		{" , ", false, false},
		{"https://shop.example.com", true, false},
		{"https://shop.example.com,https://*.example.net", true, false},
		{"shop.example.com", false, true},
		{"https://shop.example.com/path", false, true},
		{"*", true, false},
	} {
		t.Run(tt.value, func(t *testing.T) {
			defer func() {
				v := recover()
				if (v != nil) != tt.panic {
					t.Errorf("panic %v, want panic %v", v, tt.panic)
				}
				if v != nil && !strings.Contains(v.(string), envCORSOrigins) {
					t.Errorf("panic %q does not name %s", v, envCORSOrigins)
				}
			}()
			opt := corsFromEnv(func(k string) string {
				if k == envCORSOrigins {
					return tt.value
				}
				return ""
			})
			if (opt != nil) != tt.set {
				t.Errorf("got option %v, want one: %v", opt != nil, tt.set)
			}
		})
	}
}
