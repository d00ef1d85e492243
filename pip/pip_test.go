package pip_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/pdp"
	"github.com/funcify/funcify/pip"
	"github.com/golang-jwt/jwt/v5"
)

const issuer = "https://id.example"

type fixture struct {
	key *ecdsa.PrivateKey
	v   *jwtauth.Validator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := jwtauth.StaticKeys(map[string]crypto.PublicKey{"k1": key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwtauth.New(jwtauth.Config{Keys: keys, Issuer: issuer, Audience: []string{"orders"}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{key: key, v: v}
}

func (f *fixture) token(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	base := jwt.MapClaims{"iss": issuer, "aud": "orders", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for k, v := range claims {
		base[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, base)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestActivities(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]any
		claim  string
		want   []string
	}{
		{"scope string", map[string]any{"scope": "orders:order:read  orders:order:write"}, "", []string{"orders:order:read", "orders:order:write"}},
		{"activities array", map[string]any{"activities": []any{"a:b:c", 5, "", "d:e:f"}}, "", []string{"a:b:c", "d:e:f"}},
		{"permissions array", map[string]any{"permissions": []any{"p:q:r"}}, "", []string{"p:q:r"}},
		{"activities wins", map[string]any{"activities": []any{"x:y:z"}, "scope": "a:b:c"}, "", []string{"x:y:z"}},
		{"configured claim", map[string]any{"activities": []any{"x:y:z"}, "roles": "r:s:t"}, "roles", []string{"r:s:t"}},
		{"wrong type", map[string]any{"scope": 7.0}, "", nil},
		{"none", map[string]any{"sub": "x"}, "", nil},
	}
	for _, tt := range tests {
		if got := pip.Activities(tt.claims, tt.claim); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUserInfo(t *testing.T) {
	f := newFixture(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.Header.Get("Authorization") {
		case "Bearer " + r.URL.Query().Get("refuse"):
			w.WriteHeader(http.StatusUnauthorized)
		default:
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"sub": "alice", "email": "alice@example.com"})
		}
	}))
	defer srv.Close()
	now := time.Now()
	p := mustNew(t, pip.Config{Validator: f.v, UserInfoURL: srv.URL}, func() time.Time { return now })
	raw := f.token(t, jwt.MapClaims{"scope": "orders:order:read"})
	tok, err := f.v.Validate(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s, err := p.Subject(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if s.ID != "alice" || s.UserInfo["email"] != "alice@example.com" || !reflect.DeepEqual(s.Activities, []string{"orders:order:read"}) {
			t.Fatalf("got %+v", s)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("userinfo fetched %d times for one token, want once", hits.Load())
	}
	now = tok.ExpiresAt // the cache keeps an answer only while the token is valid
	if _, err := p.Subject(context.Background(), tok); err != nil || hits.Load() != 2 {
		t.Fatalf("after the token's expiry: %v, %d fetches", err, hits.Load())
	}

	// Another subject's answer is refused.
	other := f.token(t, jwt.MapClaims{"sub": "mallory"})
	otok, _ := f.v.Validate(context.Background(), other)
	if _, err := p.Subject(context.Background(), otok); !errors.Is(err, pip.ErrUserInfo) {
		t.Fatalf("answer for another subject: got %v", err)
	}

	srv.Close()
	fresh := f.token(t, jwt.MapClaims{"jti": "new"})
	ftok, _ := f.v.Validate(context.Background(), fresh)
	if _, err := p.Subject(context.Background(), ftok); !errors.Is(err, pip.ErrUserInfo) {
		t.Fatalf("endpoint down: got %v", err)
	}
}

// TestHookWithPolicies runs the hook and pdp policies in an app, invoked in
// process with HTTP API events.
func TestHookWithPolicies(t *testing.T) {
	f := newFixture(t)
	p := mustNew(t, pip.Config{Validator: f.v}, nil)
	a := app.New(app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), app.WithPolicyInformation(p.Hook()))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := pip.FromContext(r.Context())
		app.JSON(w, r, http.StatusOK, map[string]string{"sub": s.ID})
	})
	a.Handle("GET /orders", pdp.Require(pdp.MustActivity("orders:order:read"))(ok))
	a.Handle("POST /orders", pdp.Require(pdp.MustActivity("orders:order:write"))(ok))
	a.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) })

	read := f.token(t, jwt.MapClaims{"scope": "orders:order:read"})
	expired := f.token(t, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})
	tests := []struct {
		name, method, path, auth string
		status                   int
		challenge                string
	}{
		{"open route", "GET", "/health", "", 200, ""},
		{"open route with a bad token", "GET", "/health", "Bearer nonsense", 401, `Bearer error="invalid_token"`},
		{"no token", "GET", "/orders", "", 401, "Bearer"},
		{"read", "GET", "/orders", "Bearer " + read, 200, ""},
		{"lower-case scheme", "GET", "/orders", "bearer " + read, 200, ""},
		{"read-only token writes", "POST", "/orders", "Bearer " + read, 403, `Bearer error="insufficient_scope"`},
		{"expired", "GET", "/orders", "Bearer " + expired, 401, `Bearer error="invalid_token"`},
		{"basic auth", "GET", "/orders", "Basic YWxpY2U6cHc=", 401, "Bearer"},
		{"basic auth on an open route", "GET", "/health", "Basic YWxpY2U6cHc=", 200, ""},
		{"two tokens", "GET", "/orders", "Bearer " + read + " " + read, 401, `Bearer error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: tt.path, Headers: map[string]string{},
				RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: tt.method}}}
			if tt.auth != "" {
				ev.Headers["authorization"] = tt.auth
			}
			payload, _ := json.Marshal(ev)
			out, err := a.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayV2HTTPResponse
			json.Unmarshal(out, &resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tt.status)
			}
			if got := resp.Headers["www-authenticate"]; got != tt.challenge {
				t.Errorf("got WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if tt.status == 200 && tt.path == "/orders" && !strings.Contains(resp.Body, `"sub":"alice"`) {
				t.Errorf("got body %s", resp.Body)
			}
		})
	}
}

func TestNewWithoutValidator(t *testing.T) {
	p, err := pip.New(pip.Config{})
	if p != nil || err == nil || !strings.Contains(err.Error(), "Config.Validator is required") {
		t.Errorf("New without a Validator: got %v, %v; want an error naming Config.Validator", p, err)
	}
}

// mustNew returns a PIP for cfg, reading the time from now if not nil.
func mustNew(t *testing.T, cfg pip.Config, now func() time.Time) *pip.PIP {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	p, err := pip.NewWithClock(cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
