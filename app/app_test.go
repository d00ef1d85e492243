package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/event"
)

func routedApp(buf *bytes.Buffer, opts ...Option) *App {
	a := quietApp(buf, opts...)
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"`+r.PathValue("id")+`"}`)
	})
	a.HandleFunc("GET /orders/special", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"special":true}`)
	})
	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		w.Write(b)
	})
	a.HandleFunc("GET /files/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{"rest": r.PathValue("rest")})
	})
	return a
}

func TestRoutingEveryShape(t *testing.T) {
	tests := []struct {
		name   string
		r      req
		status int
		body   string // a substring of the body
		allow  string
	}{
		{"wildcard", req{path: "/orders/42"}, 200, `{"id":"42"}`, ""},
		{"most specific wins", req{path: "/orders/special"}, 200, `{"special":true}`, ""},
		{"post with body", req{method: "POST", path: "/orders", body: `{"item":"x"}`}, 201, `{"item":"x"}`, ""},
		{"head answers without a body", req{method: "HEAD", path: "/orders/42"}, 200, "", ""},
		{"rest wildcard", req{path: "/files/a/b/c.txt"}, 200, `{"rest":"a/b/c.txt"}`, ""},
		{"encoded path value", req{path: "/orders/a%20b"}, 200, `{"id":"a b"}`, ""},
		{"no route", req{path: "/nowhere"}, 404, `"code":404,"step":"route"`, ""},
		{"wrong method", req{method: "DELETE", path: "/orders"}, 405, `"code":405,"step":"route"`, "POST"},
		{"wrong method with wildcard", req{method: "PUT", path: "/orders/7"}, 405, `"code":405`, "GET, HEAD"},
	}
	a := routedApp(nil)
	for _, shape := range shapes {
		for _, tt := range tests {
			t.Run(shape+"/"+tt.name, func(t *testing.T) {
				got := invoke(t, a, makeEvent(t, shape, tt.r))
				if got.StatusCode != tt.status {
					t.Fatalf("got status %d, want %d; body %s", got.StatusCode, tt.status, got.Body)
				}
				if !strings.Contains(got.Body, tt.body) {
					t.Errorf("got body %s, want it to contain %s", got.Body, tt.body)
				}
				if tt.r.method == "HEAD" && got.Body != "" {
					t.Errorf("HEAD: got body %q, want none", got.Body)
				}
				if tt.status >= 400 {
					var env map[string]any
					if err := json.Unmarshal([]byte(got.Body), &env); err != nil {
						t.Fatalf("envelope %s: %v", got.Body, err)
					}
					for _, k := range []string{"error", "code", "step", "ctx"} {
						if _, ok := env[k]; !ok {
							t.Errorf("envelope %s lacks %q", got.Body, k)
						}
					}
					if ct := got.header("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
						t.Errorf("got Content-Type %q, want application/json", ct)
					}
				}
				if tt.allow != "" {
					if allow := got.header("Allow"); len(allow) != 1 || !strings.Contains(allow[0], tt.allow) {
						t.Errorf("got Allow %q, want it to contain %q", allow, tt.allow)
					}
				}
			})
		}
	}
}

func TestRequestConversion(t *testing.T) {
	type seen struct {
		Method, Path, RawPath, Host, RemoteAddr, Body, Tag, Accept string
		Q, Name                                                    string
		Tags                                                       []string
		Cookies                                                    []string
		ContentLength                                              int64
	}
	a := quietApp(nil)
	a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var cookies []string
		for _, c := range r.Cookies() {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		JSON(w, r, 200, seen{
			Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Host: r.Host, RemoteAddr: r.RemoteAddr,
			Body: string(b), Tag: r.Header.Get("x-tag"), Accept: r.Header.Get("Accept"),
			Q: r.URL.Query().Get("q"), Name: r.URL.Query().Get("name"), Tags: r.URL.Query()["tag"],
			Cookies: cookies, ContentLength: r.ContentLength,
		})
	})
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			in := req{
				method:  "PUT",
				path:    "/caf%C3%A9/a%2Fb",
				query:   "q=red%20shoes&name=caf%C3%A9+au+lait&tag=a&tag=b%26c",
				header:  map[string][]string{"Accept": {"application/json"}, "X-Tag": {"one"}, "Host": {"shop.example.com"}},
				cookies: []string{"sid=abc", "theme=dark"},
				body:    base64.StdEncoding.EncodeToString([]byte("héllo")),
				base64:  true,
			}
			got := invoke(t, a, makeEvent(t, shape, in))
			if got.StatusCode != 200 {
				t.Fatalf("got status %d: %s", got.StatusCode, got.Body)
			}
			var s seen
			if err := json.Unmarshal([]byte(got.Body), &s); err != nil {
				t.Fatal(err)
			}
			want := seen{
				Method: "PUT", Path: "/café/a/b", RawPath: "/caf%C3%A9/a%2Fb", Host: "shop.example.com",
				RemoteAddr: "203.0.113.9:0", Body: "héllo", Tag: "one", Accept: "application/json",
				Q: "red shoes", Name: "café au lait", Tags: []string{"a", "b&c"},
				Cookies: []string{"sid=abc", "theme=dark"}, ContentLength: int64(len("héllo")),
			}
			if shape == "alb" {
				want.Tags = []string{"b&c"} // single-value ALB keeps the last value
			}
			if decodesPath(shape) {
				// An HTTP API decodes the path before the function sees
				// it: "a%2Fb" arrives as "a/b", and the escaped form is
				// the default one.
				want.RawPath = "/caf%C3%A9/a/b"
			}
			if !reflect.DeepEqual(s, want) {
				t.Errorf("got  %+v\nwant %+v", s, want)
			}
		})
	}
}

func TestResponseShapes(t *testing.T) {
	a := quietApp(nil)
	a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2", HttpOnly: true})
		w.Header().Add("X-Multi", "x")
		w.Header().Add("X-Multi", "y")
		w.Header()["x-raw"] = []string{"lower"}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "héllo \"world\"\n")
	})
	cookies := []string{"a=1; Path=/", "b=2; HttpOnly"}
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			got := invoke(t, a, makeEvent(t, shape, req{path: "/"}))
			if got.StatusCode != 201 || got.Body != "héllo \"world\"\n" || got.IsBase64Encoded {
				t.Fatalf("got %d %q base64 %v", got.StatusCode, got.Body, got.IsBase64Encoded)
			}
			switch shape {
			case "v1", "http-v1":
				if got.Headers["Content-Type"] != "text/plain; charset=utf-8" {
					t.Errorf("got headers %v", got.Headers)
				}
				if _, ok := got.Headers["Set-Cookie"]; ok {
					t.Errorf("headers carry Set-Cookie: %v", got.Headers)
				}
				if !reflect.DeepEqual(got.MultiValueHeaders["Set-Cookie"], cookies) {
					t.Errorf("got Set-Cookie %q, want %q", got.MultiValueHeaders["Set-Cookie"], cookies)
				}
				if !reflect.DeepEqual(got.MultiValueHeaders["X-Multi"], []string{"x", "y"}) {
					t.Errorf("got X-Multi %q", got.MultiValueHeaders["X-Multi"])
				}
				if got.StatusDescription != nil || got.Cookies != nil {
					t.Errorf("v1 answer has statusDescription or cookies")
				}
			case "v2", "url":
				if !reflect.DeepEqual(got.Cookies, cookies) {
					t.Errorf("got cookies %q, want %q", got.Cookies, cookies)
				}
				want := map[string]string{"content-type": "text/plain; charset=utf-8", "x-multi": "x, y", "x-raw": "lower"}
				if !reflect.DeepEqual(got.Headers, want) {
					t.Errorf("got headers %v, want %v", got.Headers, want)
				}
				if got.MultiValueHeaders != nil || got.StatusDescription != nil {
					t.Errorf("2.0 answer has multiValueHeaders or statusDescription")
				}
			case "alb":
				if got.StatusDescription == nil || *got.StatusDescription != "201 Created" {
					t.Errorf("got statusDescription %v", got.StatusDescription)
				}
				if got.MultiValueHeaders != nil {
					t.Errorf("single-value ALB answer has multiValueHeaders")
				}
				if got.Headers["X-Multi"] != "x, y" || got.Headers["Set-Cookie"] != cookies[0] {
					t.Errorf("got headers %v", got.Headers)
				}
			case "alb-multi":
				if got.StatusDescription == nil || *got.StatusDescription != "201 Created" {
					t.Errorf("got statusDescription %v", got.StatusDescription)
				}
				if got.Headers != nil {
					t.Errorf("multi-value ALB answer has headers: %v", got.Headers)
				}
				if !reflect.DeepEqual(got.MultiValueHeaders["Set-Cookie"], cookies) {
					t.Errorf("got Set-Cookie %q", got.MultiValueHeaders["Set-Cookie"])
				}
			}
		})
	}
}

func TestStatusDescriptions(t *testing.T) {
	for _, status := range []int{200, 204, 302, 404, 418, 503, 599} {
		a := quietApp(nil)
		a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
		got := invoke(t, a, makeEvent(t, "alb", req{path: "/"}))
		want := fmt.Sprint(status)
		if text := http.StatusText(status); text != "" {
			want += " " + text
		}
		if got.StatusCode != status || got.StatusDescription == nil || *got.StatusDescription != want {
			t.Errorf("status %d: got %d %v, want %q", status, got.StatusCode, got.StatusDescription, want)
		}
	}
}

func TestBodies(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}
	tests := []struct {
		name        string
		contentType string
		encoding    string
		body        []byte
		wantBase64  bool
		wantType    string
	}{
		{"json default", "", "", []byte(`{"a":1}`), false, "application/json"},
		{"text", "text/html; charset=utf-8", "", []byte("<p>hé</p>"), false, "text/html; charset=utf-8"},
		{"problem json", "application/problem+json", "", []byte(`{}`), false, "application/problem+json"},
		{"svg", "image/svg+xml", "", []byte("<svg/>"), false, "image/svg+xml"},
		{"binary", "image/png", "", png, true, "image/png"},
		{"octet stream", "application/octet-stream", "", []byte("abc"), true, "application/octet-stream"},
		{"invalid utf-8 text", "text/plain", "", []byte{'a', 0xff, 'b'}, true, "text/plain"},
		{"gzip", "application/json", "gzip", []byte(`{"a":1}`), true, "application/json"},
		{"empty", "", "", nil, false, ""},
	}
	for _, shape := range shapes {
		for _, tt := range tests {
			t.Run(shape+"/"+tt.name, func(t *testing.T) {
				a := quietApp(nil)
				a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
					if tt.contentType != "" {
						w.Header().Set("Content-Type", tt.contentType)
					}
					if tt.encoding != "" {
						w.Header().Set("Content-Encoding", tt.encoding)
					}
					w.Write(tt.body)
				})
				got := invoke(t, a, makeEvent(t, shape, req{path: "/"}))
				if got.IsBase64Encoded != tt.wantBase64 {
					t.Fatalf("got isBase64Encoded %v, want %v", got.IsBase64Encoded, tt.wantBase64)
				}
				body := []byte(got.Body)
				if got.IsBase64Encoded {
					var err error
					if body, err = base64.StdEncoding.DecodeString(got.Body); err != nil {
						t.Fatal(err)
					}
				}
				if !bytes.Equal(body, tt.body) {
					t.Errorf("got body %q, want %q", body, tt.body)
				}
				ct := got.header("Content-Type")
				if tt.wantType == "" && ct != nil || tt.wantType != "" && (len(ct) != 1 || ct[0] != tt.wantType) {
					t.Errorf("got Content-Type %q, want %q", ct, tt.wantType)
				}
			})
		}
	}
}

func TestBadBase64RequestBody(t *testing.T) {
	a := routedApp(nil)
	for _, shape := range shapes {
		got := invoke(t, a, makeEvent(t, shape, req{method: "POST", path: "/orders", body: "not base64!", base64: true}))
		if got.StatusCode != 400 || !strings.Contains(got.Body, `"code":400`) {
			t.Errorf("%s: got %d %s, want a 400 envelope", shape, got.StatusCode, got.Body)
		}
	}
}

func TestErrorEnvelope(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.1:5432: connection refused")
	tests := []struct {
		name     string
		err      error
		problem  bool
		status   int
		wantBody map[string]any
		wantType string
	}{
		{"internal", fmt.Errorf("loading order: %w", cause), false, 500,
			map[string]any{"error": "internal error", "code": 500.0, "step": "handler", "ctx": map[string]any{}}, "application/json"},
		{"app error", &Error{Status: 422, Message: "quantity too large", Step: "validate", Ctx: map[string]any{"max": 10.0}, Err: cause}, false, 422,
			map[string]any{"error": "quantity too large", "code": 422.0, "step": "validate", "ctx": map[string]any{"max": 10.0}}, "application/json"},
		{"wrapped app error", fmt.Errorf("outer: %w", NewError(409, "conflict")), false, 409,
			map[string]any{"error": "conflict", "code": 409.0, "step": "handler", "ctx": map[string]any{}}, "application/json"},
		{"status text default", &Error{Status: 403}, false, 403,
			map[string]any{"error": "Forbidden", "code": 403.0, "step": "handler", "ctx": map[string]any{}}, "application/json"},
		{"problem details", &Error{Status: 404, Message: "order not found"}, true, 404,
			map[string]any{"type": "about:blank", "title": "Not Found", "status": 404.0, "detail": "order not found", "step": "handler", "ctx": map[string]any{}}, "application/problem+json"},
		{"challenge header", &Error{Status: 401, Message: "invalid token", Step: "authenticate", Header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}}, false, 401,
			map[string]any{"error": "invalid token", "code": 401.0, "step": "authenticate", "ctx": map[string]any{}}, "application/json"},
		{"problem internal", cause, true, 500,
			map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0, "detail": "internal error", "step": "handler", "ctx": map[string]any{}}, "application/problem+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			var opts []Option
			if tt.problem {
				opts = append(opts, WithProblemDetails())
			}
			a := quietApp(&logs, opts...)
			a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Kept", "yes")
				WriteError(w, r, tt.err)
			})
			got := invoke(t, a, makeEvent(t, "v1", req{path: "/"}))
			if got.StatusCode != tt.status {
				t.Errorf("got status %d, want %d", got.StatusCode, tt.status)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(body, tt.wantBody) {
				t.Errorf("got body %v, want %v", body, tt.wantBody)
			}
			if ct := got.Headers["Content-Type"]; ct != tt.wantType {
				t.Errorf("got Content-Type %q, want %q", ct, tt.wantType)
			}
			var ae *Error
			if errors.As(tt.err, &ae) && ae.Header != nil && got.Headers["Www-Authenticate"] != ae.Header.Get("WWW-Authenticate") {
				t.Errorf("got WWW-Authenticate %q, want %q", got.Headers["Www-Authenticate"], ae.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(got.Body, "10.0.0.1") {
				t.Errorf("the cause reached the caller: %s", got.Body)
			}
			if tt.status >= 500 && !strings.Contains(logs.String(), "connection refused") {
				t.Errorf("the cause of a 500 was not logged: %s", logs.String())
			}
		})
	}
}

// TestWriteErrorDropsContentHeaders: a handler that set Content-Encoding and
// Content-Length for the body it meant to send, then failed, answers with a
// plain JSON envelope: neither header survives (they would describe another
// body), and the envelope is text, not base64.
func TestWriteErrorDropsContentHeaders(t *testing.T) {
	for _, problem := range []bool{false, true} {
		var opts []Option
		if problem {
			opts = append(opts, WithProblemDetails())
		}
		a := quietApp(nil, opts...)
		a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", "1234")
			w.Header().Set("X-Kept", "yes")
			WriteError(w, r, NewError(http.StatusConflict, "order changed"))
		})
		for _, shape := range shapes {
			t.Run(fmt.Sprintf("%s/problem=%v", shape, problem), func(t *testing.T) {
				got := invoke(t, a, makeEvent(t, shape, req{path: "/"}))
				if got.StatusCode != http.StatusConflict || got.IsBase64Encoded {
					t.Fatalf("got %d base64 %v, want 409 as text", got.StatusCode, got.IsBase64Encoded)
				}
				for _, h := range []string{"Content-Encoding", "Content-Length"} {
					if v := got.header(h); v != nil {
						t.Errorf("the envelope carries %s %q", h, v)
					}
				}
				if v := got.header("X-Kept"); len(v) != 1 || v[0] != "yes" {
					t.Errorf("got X-Kept %q, want yes", v)
				}
				var body map[string]any
				if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
					t.Fatalf("body %q: %v", got.Body, err)
				}
				if !strings.Contains(got.Body, "order changed") {
					t.Errorf("got body %s", got.Body)
				}
			})
		}
	}
}

func TestStatusOf(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{errors.New("x"), 500},
		{NewError(401, "who?"), 401},
		{fmt.Errorf("wrapped: %w", NewError(403, "no")), 403},
		{&Error{Status: 7}, 500},
	} {
		if got := StatusOf(tt.err); got != tt.want {
			t.Errorf("StatusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	e := &Error{Status: 400, Message: "bad", Step: "parse", Err: io.EOF}
	if !errors.Is(e, io.EOF) || !strings.Contains(e.Error(), "parse") || !strings.Contains(e.Error(), "EOF") {
		t.Errorf("Error() = %q, Is(EOF) = %v", e.Error(), errors.Is(e, io.EOF))
	}
}

func TestPanicRecovered(t *testing.T) {
	var logs bytes.Buffer
	a := routedApp(&logs)
	a.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Partial", "1")
		io.WriteString(w, "partial")
		panic("boom: secret detail")
	})
	for _, shape := range shapes {
		got := invoke(t, a, makeEvent(t, shape, req{path: "/panic"}))
		if got.StatusCode != 500 || !strings.Contains(got.Body, `"error":"internal error"`) || strings.Contains(got.Body, "partial") || strings.Contains(got.Body, "secret") {
			t.Errorf("%s: got %d %s", shape, got.StatusCode, got.Body)
		}
		if got.header("X-Partial") != nil {
			t.Errorf("%s: headers of the panicking handler survived", shape)
		}
		if got := invoke(t, a, makeEvent(t, shape, req{path: "/orders/1"})); got.StatusCode != 200 {
			t.Errorf("%s: next invocation got %d", shape, got.StatusCode)
		}
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("panic and stack not logged: %s", logs.String())
	}
}

func TestPipelineOrder(t *testing.T) {
	type ctxKey struct{}
	var order []string
	record := func(s string) { order = append(order, s) }
	fail := ""
	a := quietApp(nil,
		WithGuard(func(ctx context.Context) error {
			record("guard")
			if fail == "guard" {
				return NewError(http.StatusServiceUnavailable, "not ready")
			}
			return nil
		}),
		WithPolicyInformation(func(r *http.Request) (context.Context, error) {
			record("pip")
			if fail == "pip" {
				return nil, NewError(http.StatusUnauthorized, "who are you?")
			}
			return context.WithValue(r.Context(), ctxKey{}, "alice"), nil
		}),
		WithParser(func(r *http.Request) (*http.Request, error) {
			record("parser:" + r.Context().Value(ctxKey{}).(string))
			if fail == "parser" {
				return nil, errors.New("bad input detail")
			}
			return r, nil
		}),
	)
	a.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			record("mw1")
			next.ServeHTTP(w, r)
		})
	}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			record("mw2")
			next.ServeHTTP(w, r)
		})
	})
	a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { record("route") })

	tests := []struct {
		fail      string
		status    int
		step      string
		wantOrder []string
	}{
		{"", 200, "", []string{"guard", "pip", "parser:alice", "mw1", "mw2", "route"}},
		{"guard", 503, "guard", []string{"guard"}},
		{"pip", 401, "policy-information", []string{"guard", "pip"}},
		{"parser", 400, "parse", []string{"guard", "pip", "parser:alice"}},
	}
	for _, tt := range tests {
		t.Run("fail="+tt.fail, func(t *testing.T) {
			order, fail = nil, tt.fail
			got := invoke(t, a, makeEvent(t, "v2", req{path: "/"}))
			if got.StatusCode != tt.status {
				t.Errorf("got status %d, want %d", got.StatusCode, tt.status)
			}
			if tt.step != "" && !strings.Contains(got.Body, `"step":"`+tt.step+`"`) {
				t.Errorf("got body %s, want step %s", got.Body, tt.step)
			}
			if strings.Contains(got.Body, "detail") {
				t.Errorf("error detail reached the caller: %s", got.Body)
			}
			if !slices.Equal(order, tt.wantOrder) {
				t.Errorf("got order %v, want %v", order, tt.wantOrder)
			}
		})
	}
}

func TestMiddlewareWrappingWriterKeepsEnvelopes(t *testing.T) {
	a := routedApp(nil)
	a.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(&wrapped{ResponseWriter: w}, r)
		})
	})
	got := invoke(t, a, makeEvent(t, "v2", req{path: "/nowhere"}))
	if got.StatusCode != 404 || !strings.Contains(got.Body, `"step":"route"`) {
		t.Errorf("got %d %s, want a 404 envelope", got.StatusCode, got.Body)
	}
}

// lazyGzip compresses an answer the way chi's Compress, klauspost/compress
// gzhttp and NYTimes gziphandler do: it decides when the answer starts (on
// WriteHeader or the first Write), and only then sets Content-Encoding and
// drops Content-Length; an answer that already has a Content-Encoding (a
// pre-compressed asset) passes as it is.
type lazyGzip struct {
	http.ResponseWriter
	started bool
	gz      *gzip.Writer // nil: passing through
}

func (g *lazyGzip) WriteHeader(code int) {
	if !g.started {
		g.started = true
		if h := g.Header(); h.Get("Content-Encoding") == "" {
			h.Set("Content-Encoding", "gzip")
			h.Del("Content-Length")
			g.gz = gzip.NewWriter(g.ResponseWriter)
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *lazyGzip) Write(p []byte) (int, error) {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	if g.gz == nil {
		return g.ResponseWriter.Write(p)
	}
	return g.gz.Write(p)
}

func (g *lazyGzip) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// gzipLazy is a compression middleware of the usual kind (see lazyGzip).
func gzipLazy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := &lazyGzip{ResponseWriter: w}
		next.ServeHTTP(g, r)
		if g.gz != nil {
			g.gz.Close()
		}
	})
}

// clientBody returns the body of got as a client reads it: base64-decoded
// by the service when so marked, gunzipped when Content-Encoding says gzip.
func clientBody(t *testing.T, got response) []byte {
	t.Helper()
	body := []byte(got.Body)
	if got.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(got.Body); err != nil {
			t.Fatal(err)
		}
	}
	if enc := got.header("Content-Encoding"); len(enc) == 1 && enc[0] == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("Content-Encoding gzip, but: %v", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return body
}

// TestWriteErrorUnderCompressionMiddleware: behind a compression middleware
// added with App.Use that sets Content-Encoding when the answer starts, as
// the usual ones do, the envelope of WriteError is compressed and labelled
// so: the client gunzips it and reads the envelope, also when the handler
// had set Content-Encoding and Content-Length for the pre-compressed body it
// meant to send.
func TestWriteErrorUnderCompressionMiddleware(t *testing.T) {
	for _, precompressed := range []bool{false, true} {
		a := quietApp(nil)
		a.Use(gzipLazy)
		a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if precompressed {
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Length", "1234")
			}
			WriteError(w, r, NewError(http.StatusConflict, "order changed"))
		})
		for _, shape := range shapes {
			t.Run(fmt.Sprintf("%s/precompressed=%v", shape, precompressed), func(t *testing.T) {
				got := invoke(t, a, makeEvent(t, shape, req{path: "/"}))
				enc := got.header("Content-Encoding")
				body := clientBody(t, got)
				if len(enc) != 1 || enc[0] != "gzip" {
					t.Errorf("got Content-Encoding %q, want gzip: the middleware compresses the envelope", enc)
				}
				var env map[string]any
				if got.StatusCode != http.StatusConflict || json.Unmarshal(body, &env) != nil || env["error"] != "order changed" {
					t.Errorf("the client reads status %d, Content-Encoding %q, body %q; want the 409 envelope",
						got.StatusCode, enc, body)
				}
			})
		}
	}
}

// statusRecorder is the most common middleware writer there is: it records
// the status for a log line or a metric and passes everything through.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int)        { s.status = code; s.ResponseWriter.WriteHeader(code) }
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// TestWriteErrorUnderPassThroughMiddleware: a handler that set
// Content-Encoding: gzip for the body it meant to send, then failed,
// answers with a plain envelope without Content-Encoding also when the app
// has a middleware that wraps the writer, such as a status recorder: the
// client could not read the envelope labelled gzip.
func TestWriteErrorUnderPassThroughMiddleware(t *testing.T) {
	a := quietApp(nil)
	a.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(&statusRecorder{ResponseWriter: w}, r)
		})
	})
	a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip") // a pre-compressed asset
		w.Header().Set("Content-Length", "1234")
		WriteError(w, r, NewError(http.StatusConflict, "order changed"))
	})
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			got := invoke(t, a, makeEvent(t, shape, req{path: "/"}))
			body := []byte(got.Body)
			if got.IsBase64Encoded { // the service decodes it before the client sees it
				body, _ = base64.StdEncoding.DecodeString(got.Body)
			}
			var env map[string]any
			if json.Unmarshal(body, &env) != nil {
				t.Fatalf("body %q is not the JSON envelope", body)
			}
			if v := got.header("Content-Encoding"); v != nil {
				t.Errorf("the plain JSON envelope %s reaches the client labelled Content-Encoding %q: the client cannot read it", body, v)
			}
			if v := got.header("Content-Length"); v != nil {
				t.Errorf("the envelope carries Content-Length %q", v)
			}
		})
	}
}

// TestRouteEnvelopeUnderCompressionMiddleware: behind a compression
// middleware added with App.Use, a request that no route takes gets the 404
// (or 405) envelope, compressed and labelled by the middleware like any
// answer: ServeMux's own text never reaches the middleware's writer, and
// nothing is written past it.
func TestRouteEnvelopeUnderCompressionMiddleware(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		status int
	}{
		{"no route", "GET", 404},
		{"method not allowed", "DELETE", 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := routedApp(nil)
			a.Use(gzipLazy)
			path := "/nowhere"
			if tc.status == 405 {
				path = "/orders"
			}
			got := invoke(t, a, makeEvent(t, "v2", req{method: tc.method, path: path}))
			enc := got.header("Content-Encoding")
			body := clientBody(t, got)
			var env map[string]any
			if got.StatusCode != tc.status || json.Unmarshal(body, &env) != nil {
				t.Errorf("the client reads status %d, Content-Encoding %q, body %q; want a %d JSON envelope",
					got.StatusCode, enc, body, tc.status)
			}
			if tc.status == 405 {
				if allow := got.header("Allow"); len(allow) != 1 || allow[0] != "POST" {
					t.Errorf("got Allow %q, want POST", allow)
				}
			}
		})
	}
}

type wrapped struct{ http.ResponseWriter }

func (w *wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func TestContextCarriesEventAndLambdaContext(t *testing.T) {
	a := quietApp(nil)
	a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ev, ok := event.FromContext(r.Context())
		lc, lok := lambdacontext.FromContext(r.Context())
		if !ok || !lok {
			t.Errorf("event in ctx %v, lambda context in ctx %v", ok, lok)
			return
		}
		req, _ := event.As[events.APIGatewayV2HTTPRequest](ev)
		JSON(w, r, 200, map[string]string{"kind": ev.Kind.String(), "request": lc.AwsRequestID, "path": req.RawPath})
	})
	got := invoke(t, a, makeEvent(t, "v2", req{path: "/x"}))
	if got.Body != `{"kind":"apigateway-v2","path":"/x","request":"req-1"}` {
		t.Errorf("got %s", got.Body)
	}
}

func TestInvokeRejectsAndRecovers(t *testing.T) {
	a := routedApp(nil)
	tests := []struct {
		name    string
		payload string
		want    error
	}{
		{"empty", "", event.ErrEmpty},
		{"malformed", `{"httpMethod": "GET",`, event.ErrMalformed},
		{"unknown", `{"hello": "world"}`, event.ErrUnknownKind},
		{"no s3 route", `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"other.bucket"},"object":{"key":"k"}}}]}`, ErrNoRoute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := a.Invoke(invokeCtx(), []byte(tt.payload))
			if out != nil || !errors.Is(err, tt.want) {
				t.Fatalf("got %s, %v; want %v", out, err, tt.want)
			}
			if got := invoke(t, a, makeEvent(t, "v1", req{path: "/orders/1"})); got.StatusCode != 200 {
				t.Errorf("the next invocation got %d", got.StatusCode)
			}
		})
	}
}

func TestLogLines(t *testing.T) {
	var logs bytes.Buffer
	a := routedApp(&logs)
	in := req{
		method: "POST", path: "/orders", query: "token=querysecret",
		header:  map[string][]string{"Authorization": {"Bearer tokensecret"}},
		cookies: []string{"sid=cookiesecret"}, body: `{"card":"bodysecret"}`,
	}
	for _, shape := range shapes {
		logs.Reset()
		invoke(t, a, makeEvent(t, shape, in))
		var lines []map[string]any
		for _, l := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(l, &m); err != nil {
				t.Fatalf("%s: log line %s: %v", shape, l, err)
			}
			lines = append(lines, m)
		}
		if len(lines) != 2 || lines[0]["msg"] != "invocation start" || lines[1]["msg"] != "invocation end" {
			t.Fatalf("%s: got log lines %v", shape, lines)
		}
		if lines[1]["status"] != 201.0 || lines[0]["path"] != "/orders" || lines[0]["method"] != "POST" {
			t.Errorf("%s: got %v", shape, lines)
		}
		if lines[0]["aws_request_id"] != "req-1" || lines[0]["trace_id"] == nil || lines[0]["span_id"] == nil {
			t.Errorf("%s: start line lacks invocation fields: %v", shape, lines[0])
		}
		for _, secret := range []string{"querysecret", "tokensecret", "cookiesecret", "bodysecret"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("%s: %s reached the log: %s", shape, secret, logs.String())
			}
		}
	}
}

func TestTraceHeaderFromRequest(t *testing.T) {
	var logs bytes.Buffer
	a := routedApp(&logs)
	h := map[string][]string{"X-Amzn-Trace-Id": {"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}}
	invoke(t, a, makeEvent(t, "v1", req{path: "/orders/1", header: h}))
	if !strings.Contains(logs.String(), `"trace_id":"1-5759e988-bd862e3fe1be46a994272793"`) {
		t.Errorf("trace id of the request not logged: %s", logs.String())
	}
}

// TestUnroutedAnswerUnderMiddleware: under a middleware's writer, what
// ServeMux answers for a request no route takes, other than 404 and 405 (a
// redirect to the cleaned path), reaches the client as it does without
// middleware.
func TestUnroutedAnswerUnderMiddleware(t *testing.T) {
	for _, mw := range []bool{false, true} {
		t.Run(fmt.Sprintf("middleware=%v", mw), func(t *testing.T) {
			a := routedApp(nil)
			if mw {
				a.Use(func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						next.ServeHTTP(&statusRecorder{ResponseWriter: w}, r)
					})
				})
			}
			got := invoke(t, a, makeEvent(t, "v2", req{path: "/orders//7"}))
			if loc := got.header("Location"); got.StatusCode != http.StatusTemporaryRedirect || len(loc) != 1 || loc[0] != "/orders/7" {
				t.Errorf("got %d Location %q, want 307 to /orders/7", got.StatusCode, loc)
			}
		})
	}
}
