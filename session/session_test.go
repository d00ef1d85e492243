package session_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/session"
)

// serve runs h behind the middleware for a request with the Cookie header
// cookie and returns the recorded response.
func serve(t *testing.T, opts session.Options, cookie string, h http.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	session.Middleware(opts)(h).ServeHTTP(w, r)
	return w
}

func TestSetAttributes(t *testing.T) {
	exp := time.Date(2030, 5, 6, 7, 8, 9, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name  string
		value string
		attrs []session.Attr
		want  string
	}{
		{"defaults", "v", nil, "id=v; Path=/; Secure; HttpOnly; SameSite=Lax"},
		{"empty value", "", nil, "id=; Path=/; Secure; HttpOnly; SameSite=Lax"},
		{"every octet", "!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~", nil,
			"id=!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~; Path=/; Secure; HttpOnly; SameSite=Lax"},
		{"path and domain", "v", []session.Attr{session.Path("/api"), session.Domain("example.com")},
			"id=v; Path=/api; Domain=example.com; Secure; HttpOnly; SameSite=Lax"},
		{"leading dot dropped", "v", []session.Attr{session.Domain(".example.com")},
			"id=v; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax"},
		{"max-age", "v", []session.Attr{session.MaxAge(90*time.Minute + 500*time.Millisecond)},
			"id=v; Path=/; Max-Age=5400; Secure; HttpOnly; SameSite=Lax"},
		{"expires in GMT", "v", []session.Attr{session.Expires(exp)},
			"id=v; Path=/; Expires=Mon, 06 May 2030 06:08:09 GMT; Secure; HttpOnly; SameSite=Lax"},
		{"insecure, script visible, strict", "v", []session.Attr{session.Secure(false), session.HTTPOnly(false), session.SameSite(http.SameSiteStrictMode)},
			"id=v; Path=/; SameSite=Strict"},
		{"no SameSite", "v", []session.Attr{session.SameSite(http.SameSiteDefaultMode)}, "id=v; Path=/; Secure; HttpOnly"},
		{"none partitioned", "v", []session.Attr{session.SameSite(http.SameSiteNoneMode), session.Partitioned()},
			"id=v; Path=/; Secure; HttpOnly; SameSite=None; Partitioned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(t, session.Options{}, "", func(w http.ResponseWriter, r *http.Request) {
				if err := session.FromRequest(r).Set("id", tt.value, tt.attrs...); err != nil {
					t.Fatalf("Set: %v", err)
				}
			})
			got := w.Result().Header.Values("Set-Cookie")
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			c, err := http.ParseSetCookie(got[0])
			if err != nil || c.Name != "id" || c.Value != tt.value {
				t.Errorf("net/http reads it as %+v, %v", c, err)
			}
		})
	}
}

func TestSetRejects(t *testing.T) {
	tests := []struct {
		name, cookie, value string
		attrs               []session.Attr
		want                error
	}{
		{"empty name", "", "v", nil, session.ErrInvalidName},
		{"space in name", "a b", "v", nil, session.ErrInvalidName},
		{"separator in name", "a=b", "v", nil, session.ErrInvalidName},
		{"each separator", "a;", "v", nil, session.ErrInvalidName},
		{"slash in name", "a/b", "v", nil, session.ErrInvalidName},
		{"non-ASCII name", "é", "v", nil, session.ErrInvalidName},
		{"control in name", "a\x01", "v", nil, session.ErrInvalidName},
		{"DEL in name", "a\x7f", "v", nil, session.ErrInvalidName},
		{"space in value", "n", "a b", nil, session.ErrInvalidValue},
		{"semicolon in value", "n", "a;Domain=evil.com", nil, session.ErrInvalidValue},
		{"comma in value", "n", "a,b", nil, session.ErrInvalidValue},
		{"quote in value", "n", `"a"`, nil, session.ErrInvalidValue},
		{"backslash in value", "n", `a\b`, nil, session.ErrInvalidValue},
		{"newline in value", "n", "a\r\nSet-Cookie: x=y", nil, session.ErrInvalidValue},
		{"non-ASCII value", "n", "café", nil, session.ErrInvalidValue},
		{"relative path", "n", "v", []session.Attr{session.Path("api")}, session.ErrInvalidAttr},
		{"path with semicolon", "n", "v", []session.Attr{session.Path("/a;Secure")}, session.ErrInvalidAttr},
		{"path with control", "n", "v", []session.Attr{session.Path("/a\n")}, session.ErrInvalidAttr},
		{"bad domain", "n", "v", []session.Attr{session.Domain("exa mple.com")}, session.ErrInvalidAttr},
		{"domain with semicolon", "n", "v", []session.Attr{session.Domain("a.com;Secure")}, session.ErrInvalidAttr},
		{"sub-second max-age", "n", "v", []session.Attr{session.MaxAge(time.Millisecond)}, session.ErrInvalidAttr},
		{"negative max-age", "n", "v", []session.Attr{session.MaxAge(-time.Hour)}, session.ErrInvalidAttr},
		{"ancient expires", "n", "v", []session.Attr{session.Expires(time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC))}, session.ErrInvalidAttr},
		{"SameSite=None insecure", "n", "v", []session.Attr{session.SameSite(http.SameSiteNoneMode), session.Secure(false)}, session.ErrInvalidAttr},
		{"unknown SameSite", "n", "v", []session.Attr{session.SameSite(9)}, session.ErrInvalidAttr},
		{"partitioned insecure", "n", "v", []session.Attr{session.Partitioned(), session.Secure(false)}, session.ErrInvalidAttr},
		{"__Secure- insecure", "__Secure-id", "v", []session.Attr{session.Secure(false)}, session.ErrInvalidAttr},
		{"__Host- with domain", "__Host-id", "v", []session.Attr{session.Domain("example.com")}, session.ErrInvalidAttr},
		{"__host- with path", "__host-id", "v", []session.Attr{session.Path("/a")}, session.ErrInvalidAttr},
		{"too large", "n", strings.Repeat("x", 4096), nil, session.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(t, session.Options{}, "", func(w http.ResponseWriter, r *http.Request) {
				err := session.FromRequest(r).Set(tt.cookie, tt.value, tt.attrs...)
				if !errors.Is(err, tt.want) {
					t.Errorf("Set: got %v, want %v", err, tt.want)
				}
				if tt.value != "v" && err != nil && strings.Contains(err.Error(), tt.value) {
					t.Errorf("the error %q shows the value", err)
				}
			})
			if got := w.Result().Header.Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("got Set-Cookie %q after an error", got)
			}
		})
	}
}

func TestSizeLimit(t *testing.T) {
	sealer := newSealer(t, key(1))
	// "n=" + value + "; Path=/; Secure; HttpOnly; SameSite=Lax" is 41 bytes
	// plus the value.
	const attrs = len("n=; Path=/; Secure; HttpOnly; SameSite=Lax")
	serve(t, session.Options{Sealer: sealer}, "", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		if err := s.Set("n", strings.Repeat("x", session.MaxCookieBytes-attrs)); err != nil {
			t.Errorf("exactly %d bytes: %v", session.MaxCookieBytes, err)
		}
		if err := s.Set("n", strings.Repeat("x", session.MaxCookieBytes-attrs+1)); !errors.Is(err, session.ErrTooLarge) {
			t.Errorf("one byte over: got %v, want ErrTooLarge", err)
		}
		// 3,000 bytes seal to 4,050, and with "n=" and the attributes
		// (Max-Age=3600) the cookie is 4,107 bytes.
		if err := s.SetSealed("n", strings.Repeat("x", 3000), time.Hour); !errors.Is(err, session.ErrTooLarge) {
			t.Errorf("sealed over the limit: got %v, want ErrTooLarge", err)
		}
		if err := s.SetSealed("n", strings.Repeat("x", 2900), time.Hour); err != nil {
			t.Errorf("sealed under the limit: %v", err)
		}
	})
}

func TestGetReadsRequestAndChanges(t *testing.T) {
	serve(t, session.Options{}, `a=1; b="two"; bad name=x; c=3 ; a=shadowed; d=sp ace; e`, func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		for name, want := range map[string]string{"a": "1", "b": "two", "c": "3"} {
			if got, ok := s.Get(name); !ok || got != want {
				t.Errorf("Get(%q): got %q %v, want %q", name, got, ok, want)
			}
		}
		for _, name := range []string{"d", "e", "bad name", "name", "zz"} {
			if got, ok := s.Get(name); ok {
				t.Errorf("Get(%q): got %q, want absent", name, got)
			}
		}
		s.Set("a", "new")
		s.Delete("b")
		if got, _ := s.Get("a"); got != "new" {
			t.Errorf("after Set: got %q", got)
		}
		if _, ok := s.Get("b"); ok {
			t.Error("after Delete: still present")
		}
	})
}

func TestOneSetCookiePerCookie(t *testing.T) {
	w := serve(t, session.Options{}, "", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		s.Set("a", "1")
		s.Set("b", "1")
		s.Set("a", "2")
		s.Delete("b")
		s.Set("a", "3", session.Path("/x"))
		w.Write([]byte("ok"))
	})
	want := []string{
		"a=2; Path=/; Secure; HttpOnly; SameSite=Lax",
		"b=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; SameSite=Lax",
		"a=3; Path=/x; Secure; HttpOnly; SameSite=Lax",
	}
	if got := w.Result().Header.Values("Set-Cookie"); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDeleteKeepsPathAndDomain(t *testing.T) {
	w := serve(t, session.Options{}, "sid=1", func(w http.ResponseWriter, r *http.Request) {
		err := session.FromRequest(r).Delete("sid", session.Path("/app"), session.Domain("example.com"), session.MaxAge(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
	})
	got := w.Result().Header.Get("Set-Cookie")
	want := "sid=; Path=/app; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c, err := http.ParseSetCookie(got)
	if err != nil || c.MaxAge >= 0 || !c.Expires.Before(time.Now()) {
		t.Errorf("net/http reads %+v, %v; want an expired cookie", c, err)
	}
}

func TestCookiesPrecedeTheBody(t *testing.T) {
	for name, write := range map[string]func(http.ResponseWriter){
		"WriteHeader": func(w http.ResponseWriter) { w.WriteHeader(201) },
		"Write":       func(w http.ResponseWriter) { w.Write([]byte("x")) },
		"Flush":       func(w http.ResponseWriter) { http.NewResponseController(w).Flush() },
		"nothing":     func(http.ResponseWriter) {},
	} {
		t.Run(name, func(t *testing.T) {
			w := serve(t, session.Options{}, "", func(w http.ResponseWriter, r *http.Request) {
				s := session.FromRequest(r)
				s.Set("a", "1")
				write(w)
				if err := s.Set("b", "2"); name != "nothing" && !errors.Is(err, session.ErrHeaderWritten) {
					t.Errorf("Set after %s: got %v, want ErrHeaderWritten", name, err)
				}
			})
			got := w.Result().Header.Values("Set-Cookie")
			if len(got) == 0 || got[0] != "a=1; Path=/; Secure; HttpOnly; SameSite=Lax" {
				t.Errorf("got %q", got)
			}
			if name == "Flush" && !w.Flushed {
				t.Error("the recorder was not flushed")
			}
		})
	}
}

func TestFromRequestWithoutMiddleware(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "a=1")
	s := session.FromRequest(r)
	if v, ok := s.Get("a"); !ok || v != "1" {
		t.Errorf("Get: got %q %v", v, ok)
	}
	if err := s.Set("a", "2"); !errors.Is(err, session.ErrNoMiddleware) {
		t.Errorf("Set: got %v, want ErrNoMiddleware", err)
	}
	if err := s.SetSealed("a", "2", time.Hour); !errors.Is(err, session.ErrNoMiddleware) {
		t.Errorf("SetSealed: got %v, want ErrNoMiddleware", err)
	}
	if _, ok := session.FromContext(r.Context()); ok {
		t.Error("FromContext found a session")
	}
}

func TestSetSealedNeedsKeys(t *testing.T) {
	serve(t, session.Options{}, "", func(w http.ResponseWriter, r *http.Request) {
		s, ok := session.FromContext(r.Context())
		if !ok {
			t.Fatal("FromContext: no session")
		}
		if err := s.SetSealed("a", "1", time.Hour); !errors.Is(err, session.ErrNoKeys) {
			t.Errorf("got %v, want ErrNoKeys", err)
		}
	})
}

func TestSetSealedAttributes(t *testing.T) {
	sealer := newSealer(t, key(1))
	w := serve(t, session.Options{Sealer: sealer}, "", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		if err := s.SetSealed("a", "x y;z\"é", 90*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSealed("b", "1", time.Hour, session.MaxAge(time.Minute), session.Path("/p")); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSealed("c", "1", time.Millisecond); !errors.Is(err, session.ErrInvalidAttr) {
			t.Errorf("sub-second ttl: got %v", err)
		}
		if err := s.SetSealed("c d", "1", time.Hour); !errors.Is(err, session.ErrInvalidName) {
			t.Errorf("bad name: got %v", err)
		}
		if v, ok := s.GetSealed("a"); !ok || v != "x y;z\"é" {
			t.Errorf("GetSealed after SetSealed: got %q %v", v, ok)
		}
	})
	got := w.Result().Header.Values("Set-Cookie")
	if len(got) != 2 || !strings.HasSuffix(got[0], "; Path=/; Max-Age=90; Secure; HttpOnly; SameSite=Lax") ||
		!strings.HasSuffix(got[1], "; Path=/p; Max-Age=60; Secure; HttpOnly; SameSite=Lax") {
		t.Errorf("got %q", got)
	}
	c, _ := http.ParseSetCookie(got[0])
	if v, err := sealer.Open("a", c.Value, time.Now()); err != nil || v != "x y;z\"é" {
		t.Errorf("Open: got %q, %v", v, err)
	}
}

// TestUnwrap checks that the writer handed to the handler leads to the
// middleware's own.
func TestUnwrap(t *testing.T) {
	rec := httptest.NewRecorder()
	h := session.Middleware(session.Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok || u.Unwrap() != rec {
			t.Errorf("Unwrap: got %v %v, want the recorder", u, ok)
		}
	}))
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
}

func TestConcurrentUse(t *testing.T) {
	sealer := newSealer(t, key(1))
	serve(t, session.Options{Sealer: sealer}, "a=1", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromRequest(r)
		done := make(chan struct{})
		for i := range 8 {
			go func() {
				defer func() { done <- struct{}{} }()
				s.Get("a")
				s.SetSealed("s", "v", time.Hour)
				s.GetSealed("s")
				s.Set("p", strings.Repeat("x", i))
			}()
		}
		for range 8 {
			<-done
		}
	})
}
