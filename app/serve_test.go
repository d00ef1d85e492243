package app

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// answer is an HTTP answer reduced to what a client sees: the status, the
// headers (values of a name joined with ", ", Set-Cookie apart) and the body.
type answer struct {
	status  int
	header  map[string]string
	cookies []string
	body    string
}

func answerOfRecorder(w *httptest.ResponseRecorder) answer {
	a := answer{status: w.Code, header: map[string]string{}, body: w.Body.String()}
	for k, vs := range w.Header() {
		switch k {
		case "Set-Cookie":
			a.cookies = append(a.cookies, vs...)
		case "Content-Length":
			// net/http computes it; a Lambda response has none.
		default:
			a.header[k] = strings.Join(vs, ", ")
		}
	}
	return a
}

func answerOfV2(t *testing.T, r response) answer {
	t.Helper()
	a := answer{status: r.StatusCode, header: map[string]string{}, cookies: r.Cookies, body: r.Body}
	for k, v := range r.Headers {
		a.header[http.CanonicalHeaderKey(k)] = v
	}
	if r.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		a.body = string(b)
	}
	return a
}

// viaEvent answers req through an HTTP API 2.0 event and Invoke.
func viaEvent(t *testing.T, a *App, req *http.Request) answer {
	t.Helper()
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	payload, err := json.Marshal(eventFromRequest(req, body))
	if err != nil {
		t.Fatal(err)
	}
	return answerOfV2(t, invoke(t, a, payload))
}

// viaServeHTTP answers req through App.ServeHTTP.
func viaServeHTTP(a *App, req *http.Request) answer {
	w := httptest.NewRecorder()
	a.ServeHTTP(w, req)
	return answerOfRecorder(w)
}

func sameAnswer(t *testing.T, got, want answer) {
	t.Helper()
	slices.Sort(got.cookies)
	slices.Sort(want.cookies)
	if got.status != want.status || got.body != want.body || !slices.Equal(got.cookies, want.cookies) {
		t.Errorf("ServeHTTP: %d %q cookies %q; event: %d %q cookies %q", got.status, got.body, got.cookies, want.status, want.body, want.cookies)
	}
	for k, v := range want.header {
		if got.header[k] != v {
			t.Errorf("header %s: ServeHTTP %q, event %q", k, got.header[k], v)
		}
	}
	for k, v := range got.header {
		if _, ok := want.header[k]; !ok {
			t.Errorf("header %s: ServeHTTP %q, event none", k, v)
		}
	}
}

// opaqueWriter wraps a ResponseWriter without Unwrap, as some middleware
// does.
type opaqueWriter struct{ http.ResponseWriter }

func serveApp(buf *bytes.Buffer, opts ...Option) *App {
	a := quietApp(buf, opts...)
	a.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(opaqueWriter{w}, r)
		})
	})
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id"), "q": r.URL.Query().Get("q")})
	})
	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		v, err := DecodeJSON[map[string]any](r)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		w.Header().Set("Location", "/orders/1")
		JSON(w, r, http.StatusCreated, v)
	})
	a.HandleFunc("GET /unavailable", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, &Error{Status: http.StatusServiceUnavailable, Message: "try later", Err: errors.New("db down"),
			Header: http.Header{"Retry-After": {"5"}}})
	})
	a.HandleFunc("GET /cookies", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.Write([]byte("plain"))
	})
	a.HandleFunc("GET /binary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte{0, 1, 0xff})
	})
	a.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Half", "written")
		w.Write([]byte("half"))
		panic("boom")
	})
	a.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return a
}

// TestServeHTTPMatchesInvoke: the same request answers the same through a
// Lambda event and through ServeHTTP, errors and route misses included, in
// both error formats.
func TestServeHTTPMatchesInvoke(t *testing.T) {
	requests := []struct {
		method, target, body string
	}{
		{"GET", "/orders/7?q=a+b", ""},
		{"HEAD", "/orders/7", ""},
		{"POST", "/orders", `{"item":"book"}`},
		{"POST", "/orders", `{"item":`},
		{"GET", "/unavailable", ""},
		{"GET", "/cookies", ""},
		{"GET", "/binary", ""},
		{"GET", "/panic", ""},
		{"GET", "/empty", ""},
		{"GET", "/nowhere", ""},
		{"DELETE", "/orders", ""},
		{"GET", "/orders/caf%C3%A9", ""},
		// Not "/orders/a%2Fb": an HTTP API hands the function the path
		// decoded ("/orders/a/b", no route), where net/http keeps the
		// encoded slash in one segment, as REST APIs and function URLs do.
	}
	for _, problem := range []bool{false, true} {
		var opts []Option
		if problem {
			opts = append(opts, WithProblemDetails())
		}
		a := serveApp(nil, opts...)
		for _, rq := range requests {
			name := rq.method + " " + rq.target
			if problem {
				name += " problem"
			}
			t.Run(name, func(t *testing.T) {
				want := viaEvent(t, a, httptest.NewRequest(rq.method, rq.target, strings.NewReader(rq.body)))
				got := viaServeHTTP(a, httptest.NewRequest(rq.method, rq.target, strings.NewReader(rq.body)))
				sameAnswer(t, got, want)
			})
		}
	}
}

// TestWriteErrorBehindOpaqueWriter: WriteError finds the app's settings in
// the request's context, not by unwrapping the writer: behind a middleware
// writer without Unwrap, it still answers as problem details and logs the
// 5xx on the app's logger.
func TestWriteErrorBehindOpaqueWriter(t *testing.T) {
	var logs bytes.Buffer
	a := serveApp(&logs, WithProblemDetails())
	for _, via := range []string{"event", "ServeHTTP"} {
		t.Run(via, func(t *testing.T) {
			logs.Reset()
			var got answer
			if via == "event" {
				got = viaEvent(t, a, httptest.NewRequest("GET", "/unavailable", nil))
			} else {
				got = viaServeHTTP(a, httptest.NewRequest("GET", "/unavailable", nil))
			}
			if got.status != 503 || got.header["Content-Type"] != "application/problem+json" || got.header["Retry-After"] != "5" {
				t.Errorf("got %d %v", got.status, got.header)
			}
			if strings.Contains(got.body, "db down") {
				t.Errorf("body %s shows the cause", got.body)
			}
			if !strings.Contains(logs.String(), `"msg":"request failed"`) || !strings.Contains(logs.String(), "db down") {
				t.Errorf("logs %s: want the 503 logged with its cause on the app's logger", logs.String())
			}
		})
	}
}

// TestAppInHTTPTestServer: an App is an http.Handler: it serves from
// httptest.NewServer and mounted under a prefix in another router.
func TestAppInHTTPTestServer(t *testing.T) {
	a := serveApp(nil)
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", a))
	for _, tt := range []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{"alone", a, "/orders/7"},
		{"mounted", mux, "/api/orders/7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != `{"id":"7","q":""}` || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("got %d %s %s", resp.StatusCode, resp.Header, body)
			}
		})
	}
}
