package cors_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/funcify/funcify/cors"
)

// TestBrowserFlowOverHTTP does what a browser does for a cross-origin PUT
// with a JSON body and a bearer token, over a real connection: the
// preflight, then the request. Behind the policy sit an authentication
// step that answers 401 without a token and a ServeMux that answers 405
// to OPTIONS, neither of which may answer the preflight.
func TestBrowserFlowOverHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/orders/"+r.PathValue("id"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"`+r.PathValue("id")+`"}`)
	})
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer t" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	policy := mustNew(t, cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"PUT"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"Location"},
		AllowCredentials: true,
	})
	srv := httptest.NewServer(policy.Handler(auth(mux)))
	defer srv.Close()
	bare := httptest.NewServer(mux)
	defer bare.Close()

	do := func(base, method string, header map[string]string, body string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+"/orders/42", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(b)
	}
	preflight := map[string]string{
		"Origin":                         "https://app.example.com",
		"Access-Control-Request-Method":  "PUT",
		"Access-Control-Request-Headers": "authorization,content-type",
	}

	// Without the policy, the router refuses the preflight.
	if res, _ := do(bare.URL, "OPTIONS", preflight, ""); res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("bare mux: got %d, want 405 (the case this package exists for)", res.StatusCode)
	}

	res, body := do(srv.URL, "OPTIONS", preflight, "")
	if res.StatusCode != http.StatusNoContent || body != "" {
		t.Fatalf("preflight: got %d %q, want 204 and no body", res.StatusCode, body)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Methods":     "PUT",
		"Access-Control-Allow-Headers":     "authorization,content-type",
		"Access-Control-Allow-Credentials": "true",
		"Vary":                             "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
	}
	for k, v := range want {
		if got := res.Header.Values(k); !slices.Equal(got, []string{v}) {
			t.Errorf("preflight %s: got %q, want %q", k, got, v)
		}
	}

	res, body = do(srv.URL, "PUT", map[string]string{
		"Origin": "https://app.example.com", "Authorization": "Bearer t", "Content-Type": "application/json",
	}, `{}`)
	if res.StatusCode != http.StatusOK || body != `{"id":"42"}` {
		t.Fatalf("PUT: got %d %q, want 200 and the order", res.StatusCode, body)
	}
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "Location",
		"Vary":                             "Origin",
		"Location":                         "/orders/42",
	} {
		if got := res.Header.Values(k); !slices.Equal(got, []string{v}) {
			t.Errorf("PUT %s: got %q, want %q", k, got, v)
		}
	}

	// The 401 of the auth step carries the CORS headers too, so the page
	// can read why it failed.
	res, _ = do(srv.URL, "PUT", map[string]string{"Origin": "https://app.example.com"}, `{}`)
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("PUT without token: got %d with Access-Control-Allow-Origin %q, want 401 with the origin",
			res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}

	// A preflight from another site: 204, no CORS headers, and the auth
	// step is not asked.
	preflight["Origin"] = "https://app.example.com.evil.io"
	res, _ = do(srv.URL, "OPTIONS", preflight, "")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign preflight: got %d with Access-Control-Allow-Origin %q, want 204 and none",
			res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
}
