package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/cors"
)

const allowedOrigin = "https://app.example.com"

// corsApp has routes behind a policy-information hook that refuses every
// request without a bearer token and a parser that takes JSON only, as an
// authenticated API does: neither may answer a preflight.
func corsApp() *App {
	a := quietApp(nil,
		WithCORS(cors.MustNew(cors.Options{
			AllowedOrigins:   []string{allowedOrigin, "https://*.example.org"},
			AllowedMethods:   []string{"GET", "POST", "DELETE"},
			AllowedHeaders:   []string{"Authorization", "Content-Type"},
			ExposedHeaders:   []string{"Location"},
			AllowCredentials: true,
			MaxAge:           10 * time.Minute,
		})),
		WithPolicyInformation(func(r *http.Request) (context.Context, error) {
			if r.Header.Get("Authorization") == "" {
				return nil, &Error{Status: http.StatusUnauthorized, Message: "authentication required",
					Header: http.Header{"Www-Authenticate": {"Bearer"}}}
			}
			return r.Context(), nil
		}),
		WithParser(func(r *http.Request) (*http.Request, error) {
			if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
				return nil, NewError(http.StatusUnsupportedMediaType, "JSON only")
			}
			return r, nil
		}))
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/orders/1")
		JSON(w, r, http.StatusCreated, map[string]string{"id": "1"})
	})
	a.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://evil.example")
		panic("boom")
	})
	return a
}

func corsRequest(method, target string, header map[string]string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func TestCORS(t *testing.T) {
	a := corsApp()
	preflight := func(origin, method, headers string) map[string]string {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return h
	}
	for _, tt := range []struct {
		name       string
		method     string
		target     string
		header     map[string]string
		wantStatus int
		wantHeader map[string]string // "" means absent
		wantVary   bool              // Vary names Origin
	}{
		{"preflight on a known path", "OPTIONS", "/orders/7", preflight(allowedOrigin, "GET", "authorization"), 204,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Headers": "authorization", "Access-Control-Max-Age": "600", "Www-Authenticate": ""}, true},
		{"preflight from a pattern's origin", "OPTIONS", "/orders", preflight("https://shop.example.org", "POST", "content-type,authorization"), 204,
			map[string]string{"Access-Control-Allow-Origin": "https://shop.example.org"}, true},
		{"preflight for a method the path has no route for", "OPTIONS", "/orders/7", preflight(allowedOrigin, "DELETE", ""), 204,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin, "Allow": ""}, true},
		{"preflight for a method not allowed", "OPTIONS", "/orders/7", preflight(allowedOrigin, "PATCH", ""), 204,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}, true},
		{"preflight from a disallowed origin", "OPTIONS", "/orders/7", preflight("https://evil.example", "GET", ""), 204,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": ""}, true},
		{"preflight from the apex of a pattern", "OPTIONS", "/orders/7", preflight("https://example.org", "GET", ""), 204,
			map[string]string{"Access-Control-Allow-Origin": ""}, true},
		{"preflight on an unknown path", "OPTIONS", "/nowhere", preflight(allowedOrigin, "GET", ""), 204,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin}, true},
		{"refused request", "GET", "/orders/7", map[string]string{"Origin": allowedOrigin}, 401,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "Location", "Www-Authenticate": "Bearer"}, true},
		{"allowed request", "GET", "/orders/7", map[string]string{"Origin": allowedOrigin, "Authorization": "Bearer x"}, 200,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin}, true},
		{"request from a disallowed origin goes on", "GET", "/orders/7", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer x"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": ""}, true},
		{"request without Origin", "GET", "/orders/7", map[string]string{"Authorization": "Bearer x"}, 200,
			map[string]string{"Access-Control-Allow-Origin": ""}, true},
		{"route miss", "GET", "/nowhere", map[string]string{"Origin": allowedOrigin, "Authorization": "Bearer x"}, 404,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin}, true},
		{"parser refusal", "POST", "/orders", map[string]string{"Origin": allowedOrigin, "Authorization": "Bearer x"}, 415,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin}, true},
		{"panic", "GET", "/panic", map[string]string{"Origin": allowedOrigin, "Authorization": "Bearer x"}, 500,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin}, true},
		{"OPTIONS that is not a preflight", "OPTIONS", "/orders/7", map[string]string{"Origin": allowedOrigin, "Authorization": "Bearer x"}, 405,
			map[string]string{"Access-Control-Allow-Origin": allowedOrigin}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			viaEv := viaEvent(t, a, corsRequest(tt.method, tt.target, tt.header))
			got := viaServeHTTP(a, corsRequest(tt.method, tt.target, tt.header))
			sameAnswer(t, got, viaEv)
			if got.status != tt.wantStatus {
				t.Errorf("got status %d, want %d (%s)", got.status, tt.wantStatus, got.body)
			}
			if tt.wantStatus == 204 && got.body != "" {
				t.Errorf("preflight answered with a body %q", got.body)
			}
			for k, want := range tt.wantHeader {
				if g := got.header[k]; g != want {
					t.Errorf("%s: got %q, want %q", k, g, want)
				}
			}
			if vary := got.header["Vary"]; strings.Contains(vary, "Origin") != tt.wantVary {
				t.Errorf("Vary: got %q", vary)
			}
		})
	}
}

// TestCORSPreflightThroughLocalServer: a browser-style preflight, then the
// actual request, over real HTTP through the local server.
func TestCORSPreflightThroughLocalServer(t *testing.T) {
	a := corsApp()
	ln := serveLocal(t, a)
	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + ln.String()

	// What a browser sends before a fetch with credentials and a JSON body.
	req, _ := http.NewRequest("OPTIONS", base+"/orders", nil)
	req.Header.Set("Origin", allowedOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != allowedOrigin ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		resp.Header.Get("Access-Control-Allow-Headers") != "authorization,content-type" {
		t.Fatalf("preflight: got %d %v", resp.StatusCode, resp.Header)
	}

	req, _ = http.NewRequest("POST", base+"/orders", strings.NewReader(`{}`))
	req.Header.Set("Origin", allowedOrigin)
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Content-Type", "application/json")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("Access-Control-Allow-Origin") != allowedOrigin ||
		resp.Header.Get("Access-Control-Expose-Headers") != "Location" || resp.Header.Get("Location") != "/orders/1" {
		t.Errorf("actual request: got %d %v", resp.StatusCode, resp.Header)
	}
}
