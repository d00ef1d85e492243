package pdp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/pdp"
	"github.com/funcify/funcify/pip"
)

// withSubject stands in for the policy-information step.
func withSubject(r *http.Request, s *pip.Subject) *http.Request {
	if s == nil {
		return r
	}
	return r.WithContext(pip.NewContext(r.Context(), s))
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, `{"ok":true}`)
})

type envelope struct {
	Error string         `json:"error"`
	Code  int            `json:"code"`
	Step  string         `json:"step"`
	Ctx   map[string]any `json:"ctx"`
}

func TestRequire(t *testing.T) {
	reader := &pip.Subject{ID: "u1", Activities: []string{"orders:order:read"}}
	read := pdp.MustActivity("orders:order:read")
	write := pdp.MustActivity("orders:order:write")
	tests := []struct {
		name      string
		policy    pdp.Policy
		subject   *pip.Subject
		status    int
		challenge string // WWW-Authenticate
		message   string
	}{
		{"allowed", read, reader, 200, "", ""},
		{"valid token", pdp.ValidToken(), reader, 200, "", ""},
		{"no subject", read, nil, 401, "Bearer", "authentication required"},
		{"no subject valid token", pdp.ValidToken(), nil, 401, "Bearer", "authentication required"},
		{"forbidden", write, reader, 403, `Bearer error="insufficient_scope"`, "insufficient permissions"},
		{"forbidden by all", pdp.All(read, write), reader, 403, `Bearer error="insufficient_scope"`, "insufficient permissions"},
		{"policy failed", pdp.PolicyFunc(func(context.Context, *pip.Subject) error { return errStore }), reader, 500, "", "internal error"},
		{"policy app error", pdp.PolicyFunc(func(context.Context, *pip.Subject) error {
			return &app.Error{Status: http.StatusServiceUnavailable, Message: "try later", Err: errStore}
		}), reader, 503, "", "try later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := pdp.Require(tt.policy)(ok)
			w := httptest.NewRecorder()
			r := withSubject(httptest.NewRequest("GET", "/orders", nil), tt.subject)
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("got status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("got WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if tt.status == 200 {
				if got := w.Body.String(); got != `{"ok":true}` {
					t.Errorf("got body %s, want the handler's", got)
				}
				return
			}
			var env envelope
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
				t.Fatalf("body %s: %v", w.Body, err)
			}
			if env.Code != tt.status || env.Error != tt.message || env.Step != "authorize" || len(env.Ctx) != 0 {
				t.Errorf("got envelope %+v, want code %d, error %q, step authorize, empty ctx", env, tt.status, tt.message)
			}
			if body := w.Body.String(); strings.Contains(body, "orders:") || strings.Contains(body, "store down") {
				t.Errorf("got body %s, which names the activity or the cause", body)
			}
		})
	}
}

// TestRequireInApp runs the middleware in an app invoked in-process with an
// HTTP API event, behind a stand-in policy-information step that reads the
// subject's activities from the Authorization header.
func TestRequireInApp(t *testing.T) {
	a := app.New(
		app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))),
		app.WithPolicyInformation(func(r *http.Request) (context.Context, error) {
			tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !found {
				return r.Context(), nil // no token: no subject
			}
			if tok == "bad" {
				return nil, &app.Error{Status: http.StatusUnauthorized, Message: "invalid token", Step: "policy-information"}
			}
			return pip.NewContext(r.Context(), &pip.Subject{ID: "u1", Activities: strings.Fields(tok)}), nil
		}),
	)
	read := pdp.Require(pdp.MustActivity("orders:order:read", pdp.Namespace("orders")))
	write := pdp.Require(pdp.MustActivity("orders:order:write", pdp.Namespace("orders")))
	a.Handle("GET /orders", read(ok))
	a.Handle("POST /orders", write(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"1"}`)
	})))
	a.Handle("GET /health", ok)

	tests := []struct {
		name, method, path, token string
		status                    int
		challenge                 string
	}{
		{"open route", "GET", "/health", "", 200, ""},
		{"no token", "GET", "/orders", "", 401, "Bearer"},
		{"bad token is the PIP's answer", "GET", "/orders", "bad", 401, ""},
		{"read", "GET", "/orders", "orders:order:read", 200, ""},
		{"read by wildcard", "GET", "/orders", "orders:*", 200, ""},
		{"read-only token on write", "POST", "/orders", "orders:order:read", 403, `Bearer error="insufficient_scope"`},
		{"namespace is a whole segment", "POST", "/orders", "order:order:write ordersx:* *:order:write", 403, `Bearer error="insufficient_scope"`},
		{"write", "POST", "/orders", "orders:order:read orders:order:write", 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := map[string]any{
				"version": "2.0", "rawPath": tt.path, "headers": map[string]string{},
				"requestContext": map[string]any{"http": map[string]string{"method": tt.method, "path": tt.path}},
			}
			if tt.token != "" {
				ev["headers"] = map[string]string{"authorization": "Bearer " + tt.token}
			}
			payload, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			out, err := a.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Body       string            `json:"body"`
			}
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("response %s: %v", out, err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d; response %s", resp.StatusCode, tt.status, out)
			}
			if got := resp.Headers["www-authenticate"]; got != tt.challenge {
				t.Errorf("got www-authenticate %q, want %q", got, tt.challenge)
			}
			if tt.status == 401 || tt.status == 403 {
				var env envelope
				if err := json.Unmarshal([]byte(resp.Body), &env); err != nil {
					t.Fatalf("body %s: %v", resp.Body, err)
				}
				if env.Code != tt.status {
					t.Errorf("got envelope code %d, want %d", env.Code, tt.status)
				}
				if want := "authorize"; tt.challenge != "" && env.Step != want {
					t.Errorf("got step %q, want %q", env.Step, want)
				}
			}
		})
	}
}

func TestRequireKeepsTheCause(t *testing.T) {
	// The cause of a denial is in the app.Error the middleware writes, for
	// logs; a handler further in never runs.
	called := false
	h := pdp.Require(pdp.MustActivity("orders:order:write"))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, withSubject(httptest.NewRequest("POST", "/orders", nil), &pip.Subject{}))
	if called {
		t.Error("the handler ran after a denial")
	}
	if w.Code != http.StatusForbidden {
		t.Errorf("got status %d, want 403", w.Code)
	}
	err := pdp.MustActivity("orders:order:write").Decide(context.Background(), &pip.Subject{})
	if !errors.Is(err, pdp.ErrForbidden) || !strings.Contains(err.Error(), "orders:order:write") {
		t.Errorf("got %v, want ErrForbidden naming the activity for the logs", err)
	}
}
