package session_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/session"
)

var shapes = []string{"v1", "v2", "url", "alb", "alb-multi"}

// event returns the payload that shape's source sends for GET path with
// the Cookie pairs cookies.
func event(t *testing.T, shape, path string, cookies []string) []byte {
	t.Helper()
	var v any
	switch shape {
	case "v1":
		e := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: path, Resource: "/{proxy+}",
			Headers: map[string]string{}, MultiValueHeaders: map[string][]string{}}
		if len(cookies) > 0 {
			e.Headers["Cookie"] = strings.Join(cookies, "; ")
			e.MultiValueHeaders["Cookie"] = []string{e.Headers["Cookie"]}
		}
		v = e
	case "v2":
		v = events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path, Cookies: cookies,
			Headers: map[string]string{"host": "api.example.com"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "api.example.com",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}}}
	case "url":
		v = events.LambdaFunctionURLRequest{Version: "2.0", RawPath: path, Cookies: cookies,
			Headers: map[string]string{"host": "abcdefgh.lambda-url.eu-west-1.on.aws"},
			RequestContext: events.LambdaFunctionURLRequestContext{DomainName: "abcdefgh.lambda-url.eu-west-1.on.aws",
				HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "GET", Path: path}}}
	case "alb", "alb-multi":
		e := events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: path,
			RequestContext: events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/s/1"}}}
		h := map[string]string{"host": "lb.example.com"}
		if len(cookies) > 0 {
			h["cookie"] = strings.Join(cookies, "; ")
		}
		if shape == "alb" {
			e.Headers = h
		} else {
			e.MultiValueHeaders = map[string][]string{}
			for k, v := range h {
				e.MultiValueHeaders[k] = []string{v}
			}
		}
		v = e
	default:
		t.Fatalf("unknown shape %q", shape)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// response is the union of the HTTP response shapes.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// setCookies returns the response's Set-Cookie values from where shape's
// source reads them, and fails if any is elsewhere.
func (r response) setCookies(t *testing.T, shape string) []string {
	t.Helper()
	for k := range r.Headers {
		if strings.EqualFold(k, "set-cookie") && shape != "alb" && shape != "v1" {
			t.Errorf("%s: Set-Cookie in headers: %v", shape, r.Headers)
		}
	}
	switch shape {
	case "v1", "alb-multi":
		if r.Cookies != nil {
			t.Errorf("%s: cookies array in a payload 1.0 response: %v", shape, r.Cookies)
		}
		return r.MultiValueHeaders["Set-Cookie"]
	case "v2", "url":
		if _, ok := r.MultiValueHeaders["Set-Cookie"]; ok {
			t.Errorf("%s: Set-Cookie in multiValueHeaders", shape)
		}
		return r.Cookies
	case "alb":
		if r.MultiValueHeaders != nil || r.Cookies != nil {
			t.Errorf("alb: multi-value headers or cookies in a single-value response: %+v", r)
		}
		if v, ok := r.Headers["Set-Cookie"]; ok {
			return []string{v}
		}
	}
	return nil
}

func invoke(t *testing.T, a *app.App, payload []byte) response {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	out, err := a.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var r response
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return r
}

// pairOf returns the name=value pair of a Set-Cookie value, as a browser
// would send it back.
func pairOf(t *testing.T, setCookie string) string {
	t.Helper()
	c, err := http.ParseSetCookie(setCookie)
	if err != nil {
		t.Fatalf("Set-Cookie %q does not parse: %v", setCookie, err)
	}
	return c.Name + "=" + c.Value
}

func newSealer(t testing.TB, keys ...[]byte) *session.Sealer {
	t.Helper()
	s, err := session.NewSealer(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, session.KeySize) }

// visitsApp counts visits in the sealed cookie "visits" and keeps the
// caller's plain cookie "theme" as it was, echoing both.
func visitsApp(sealer *session.Sealer) *app.App {
	a := app.New(app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	a.Use(session.Middleware(session.Options{Sealer: sealer}))
	a.HandleFunc("GET /visit", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		n := "1"
		if v, ok := s.GetSealed("visits"); ok {
			n = v + "1"
		}
		if err := s.SetSealed("visits", n, time.Hour); err != nil {
			app.WriteError(w, r, err)
			return
		}
		theme, _ := s.Get("theme")
		app.JSON(w, r, http.StatusOK, map[string]any{"visits": len(n), "theme": theme})
	})
	a.HandleFunc("GET /two", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		for _, err := range []error{s.Set("a", "1"), s.Set("b", "2", session.Path("/two")), s.Delete("old")} {
			if err != nil {
				app.WriteError(w, r, err)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return a
}

func TestRoundTripEveryShape(t *testing.T) {
	sealer := newSealer(t, key(1))
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			a := visitsApp(sealer)
			var body struct {
				Visits int    `json:"visits"`
				Theme  string `json:"theme"`
			}
			cookies := []string{"theme=dark"}
			for want := 1; want <= 3; want++ {
				r := invoke(t, a, event(t, shape, "/visit", cookies))
				if err := json.Unmarshal([]byte(r.Body), &body); err != nil || r.StatusCode != 200 {
					t.Fatalf("call %d: got %d %s (%v)", want, r.StatusCode, r.Body, err)
				}
				if body.Visits != want || body.Theme != "dark" {
					t.Errorf("call %d: got %+v, want %d visits and theme dark", want, body, want)
				}
				sc := r.setCookies(t, shape)
				if len(sc) != 1 {
					t.Fatalf("call %d: got Set-Cookie %q, want one", want, sc)
				}
				if !strings.HasPrefix(sc[0], "visits=") || !strings.HasSuffix(sc[0], "; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax") {
					t.Errorf("call %d: got Set-Cookie %q", want, sc[0])
				}
				cookies = []string{"theme=dark", pairOf(t, sc[0])}
			}
		})
	}
}

func TestSeveralCookiesEveryShape(t *testing.T) {
	a := visitsApp(nil)
	want := []string{
		"a=1; Path=/; Secure; HttpOnly; SameSite=Lax",
		"b=2; Path=/two; Secure; HttpOnly; SameSite=Lax",
		"old=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; SameSite=Lax",
	}
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			r := invoke(t, a, event(t, shape, "/two", nil))
			if r.StatusCode != http.StatusNoContent {
				t.Fatalf("got status %d %s", r.StatusCode, r.Body)
			}
			got := r.setCookies(t, shape)
			if shape == "alb" {
				// Without multi-value headers an ALB response holds one
				// Set-Cookie: the first.
				if !slices.Equal(got, want[:1]) {
					t.Errorf("got %q, want %q", got, want[:1])
				}
				return
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestForeignCookieIsAbsent sends a sealed value under another name and a
// garbage value: both read as absent, the request still succeeds, and the
// reason is logged at debug level without the value.
func TestForeignCookieIsAbsent(t *testing.T) {
	sealer := newSealer(t, key(1))
	moved := sealer.Seal("other", "11111", time.Now().Add(time.Hour))
	var logs bytes.Buffer
	a := app.New(app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	a.Use(session.Middleware(session.Options{Sealer: sealer,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	a.HandleFunc("GET /visit", func(w http.ResponseWriter, r *http.Request) {
		_, ok := session.FromRequest(r).GetSealed("visits")
		app.JSON(w, r, http.StatusOK, map[string]bool{"found": ok})
	})
	for _, v := range []string{moved, "garbage", ""} {
		r := invoke(t, a, event(t, "v2", "/visit", []string{"visits=" + v}))
		if r.StatusCode != 200 || r.Body != `{"found":false}` {
			t.Errorf("value %q: got %d %s, want 200 not found", v, r.StatusCode, r.Body)
		}
	}
	if n := strings.Count(logs.String(), `"msg":"session: sealed cookie ignored"`); n != 3 {
		t.Errorf("got %d debug lines, want 3:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), moved) || strings.Contains(logs.String(), "garbage") {
		t.Errorf("a cookie value reached the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"cookie":"visits","reason":"invalid"`) {
		t.Errorf("log lines do not name the cookie and reason:\n%s", logs.String())
	}
}

// TestInformationalStatusLeavesHeaderOpen: a 1xx answer does not send the
// cookies, so the handler can still set them.
func TestInformationalStatusLeavesHeaderOpen(t *testing.T) {
	a := app.New(app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	a.Use(session.Middleware(session.Options{}))
	a.HandleFunc("GET /hints", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		if err := session.FromRequest(r).Set("a", "1"); err != nil {
			t.Errorf("Set after 103: %v", err)
		}
		app.JSON(w, r, http.StatusOK, map[string]int{})
	})
	r := invoke(t, a, event(t, "v2", "/hints", nil))
	if want := []string{"a=1; Path=/; Secure; HttpOnly; SameSite=Lax"}; !slices.Equal(r.Cookies, want) {
		t.Errorf("got %q, want %q", r.Cookies, want)
	}
}
