package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestBasePathRedirectKeepsPrefix: ServeMux's own redirects (a subtree
// pattern reached without its trailing slash, a path that is not clean)
// and a handler's http.Redirect compute Location from the stripped path;
// behind a base path the stripped prefix must be put back, or the client
// is sent to a URL the deployment does not expose (on a custom domain, no
// API mapping; on the execute-api domain, no stage), or, with
// WithBasePath, to a path the app itself answers 404. A Location that is
// not an absolute path is left alone.
func TestBasePathRedirectKeepsPrefix(t *testing.T) {
	for _, tc := range []struct{ name, target, want string }{
		{"subtree without slash", "/v1/files", "/v1/files/"},
		{"unclean path", "/v1/files//a", "/v1/files/a"},
		{"unclean path with a query", "/v1/files//a?x=1", "/v1/files/a?x=1"},
		{"prefix sent encoded", "/%761/files", "/%761/files/"},
		{"handler's absolute path", "/v1/files/login", "/v1/login"},
		{"handler's relative path", "/v1/files/rel", "/v1/files/next"},
		{"handler's other host", "/v1/files/elsewhere", "https://login.example.com/start"},
		{"handler's scheme-relative URL", "/v1/files/scheme-relative", "//login.example.com/start"},
		{"handler's backslash URL", "/v1/files/backslash", `/\login.example.com/start`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := quietApp(nil, WithBasePath("/v1"))
			a.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {
				JSON(w, r, http.StatusOK, map[string]string{"path": r.URL.Path})
			})
			redirect := func(to string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusSeeOther) }
			}
			a.HandleFunc("GET /files/login", redirect("/login"))
			a.HandleFunc("GET /files/rel", redirect("next"))
			a.HandleFunc("GET /files/elsewhere", redirect("https://login.example.com/start"))
			a.HandleFunc("GET /files/scheme-relative", redirect("//login.example.com/start"))
			a.HandleFunc("GET /files/backslash", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", `/\login.example.com/start`)
				w.WriteHeader(http.StatusFound)
			})
			a.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {})
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, httptest.NewRequest("GET", tc.target, nil))
			if rec.Code/100 != 3 {
				t.Fatalf("GET %s: status %d, want a redirect (body %s)", tc.target, rec.Code, rec.Body)
			}
			loc := rec.Header().Get("Location")
			if loc != tc.want {
				// Follow it, as a client would.
				rec2 := httptest.NewRecorder()
				a.ServeHTTP(rec2, httptest.NewRequest("GET", loc, nil))
				t.Errorf("GET %s behind WithBasePath(\"/v1\"): Location %q, want %q; following it answers %d %s",
					tc.target, loc, tc.want, rec2.Code, rec2.Body)
			}
		})
	}
}

// TestBasePathRedirectNotARedirect: a Location on an answer that is not a
// redirect (a 201's) is the handler's, and is left as it is.
func TestBasePathRedirectNotARedirect(t *testing.T) {
	a := quietApp(nil, WithBasePath("/v1"))
	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/orders/42")
		w.WriteHeader(http.StatusCreated)
	})
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/orders", nil))
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusCreated || loc != "/orders/42" {
		t.Errorf("got %d Location %q, want 201 %q", rec.Code, loc, "/orders/42")
	}
}

// TestBasePathFromEventRedirectKeepsStage: the same through an HTTP API
// 2.0 event on a named stage, stripped by WithBasePathFromEvent: the
// redirect keeps the stage.
func TestBasePathFromEventRedirectKeepsStage(t *testing.T) {
	a := quietApp(nil, WithBasePathFromEvent())
	a.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, nil)
	})
	ev := basePathEvent(t, "http-v2-named-stage-default-route.json", withPath("/prod/files"))
	got := invoke(t, a, ev)
	if got.StatusCode/100 != 3 {
		t.Fatalf("status %d, want a redirect: %s", got.StatusCode, got.Body)
	}
	if loc := got.Headers["location"]; loc != "/prod/files/" {
		t.Errorf("GET /prod/files on stage prod: Location %q, want %q (the client is sent outside the stage)", loc, "/prod/files/")
	}
}

// TestBasePathRedirectOtherWriter: given a writer other than the app's
// own, the base path step fixes Location when the status is written, and
// the writer beneath stays reachable for http.ResponseController.
func TestBasePathRedirectOtherWriter(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /flush", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the base path step: %v", err)
		}
	})
	opts := basePathOptions{prefix: "/v1", segments: []string{"v1"}}
	h := opts.handler(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/files", nil))
	if loc := rec.Header().Get("Location"); rec.Code/100 != 3 || loc != "/v1/files/" {
		t.Errorf("GET /v1/files: got %d Location %q, want a redirect to %q", rec.Code, loc, "/v1/files/")
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/flush", nil))
	if !rec.Flushed {
		t.Error("GET /v1/flush: the recorder was not flushed")
	}
}
