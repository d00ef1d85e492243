package jwtauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/jwtauth"
)

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers []string // Authorization values
		want    string
		err     error
	}{
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", nil},
		{"lower case scheme", []string{"bearer abc"}, "abc", nil},
		{"upper case scheme", []string{"BEARER abc"}, "abc", nil},
		{"several spaces", []string{"Bearer   abc"}, "abc", nil},
		{"b64token characters", []string{"Bearer aZ09-._~+/=="}, "aZ09-._~+/==", nil},
		{"surrounding whitespace", []string{" Bearer abc\t"}, "abc", nil},
		{"no header", nil, "", jwtauth.ErrNoToken},
		{"empty header", []string{""}, "", jwtauth.ErrNoToken},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, "", jwtauth.ErrNoToken},
		{"two headers", []string{"Bearer abc", "Bearer def"}, "", jwtauth.ErrMalformed},
		{"scheme only", []string{"Bearer"}, "", jwtauth.ErrMalformed},
		{"scheme and space", []string{"Bearer "}, "", jwtauth.ErrMalformed},
		{"no space", []string{"Bearerabc"}, "", jwtauth.ErrMalformed},
		{"two tokens", []string{"Bearer abc def"}, "", jwtauth.ErrMalformed},
		{"comma separated", []string{"Bearer abc, Bearer def"}, "", jwtauth.ErrMalformed},
		{"tab separator", []string{"Bearer\tabc"}, "", jwtauth.ErrMalformed},
		{"quoted token", []string{`Bearer "abc"`}, "", jwtauth.ErrMalformed},
		{"padding inside", []string{"Bearer ab=c"}, "", jwtauth.ErrMalformed},
		{"only padding", []string{"Bearer ==="}, "", jwtauth.ErrMalformed},
		{"non-ASCII", []string{"Bearer abcé"}, "", jwtauth.ErrMalformed},
		{"control character", []string{"Bearer abc\x00"}, "", jwtauth.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := jwtauth.BearerToken(r)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
	// A header sent in lower case is canonicalised by net/http's server.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header["authorization"] = []string{"Bearer abc"}
	if got, err := jwtauth.BearerToken(r); err == nil {
		t.Errorf("non-canonical map key: got %q, want an error (net/http canonicalises keys)", got)
	}
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	if got, want := jwtauth.Challenge(jwtauth.ErrNoToken), "Bearer"; got != want {
		t.Errorf("no token: got %q, want %q", got, want)
	}
	for _, err := range []error{jwtauth.ErrExpired, jwtauth.ErrSignature, jwtauth.ErrMalformed, jwtauth.ErrUnknownKey,
		fmt.Errorf("%w: wrapped", jwtauth.ErrIssuer)} {
		if got, want := jwtauth.Challenge(err), `Bearer error="invalid_token"`; got != want {
			t.Errorf("%v: got %q, want %q", err, got, want)
		}
	}
	// No challenge where the token may be fine (the keys could not be
	// had: 503) or the error is not jwtauth's.
	for _, err := range []error{jwtauth.ErrKeysUnavailable, errors.New("x")} {
		if got := jwtauth.Challenge(err); got != "" {
			t.Errorf("%v: got %q, want none", err, got)
		}
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	v := newValidator(t, nil)
	h := jwtauth.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := jwtauth.TokenFromContext(r.Context())
		if !ok {
			t.Error("no token in context")
			return
		}
		w.Write([]byte(tok.Subject))
	}))
	expired := sign(t, hdr("RS256", "rsa"), claims(map[string]any{"exp": now.Add(-2 * time.Hour).Unix()}), "RS256", testKeys(t).rsa)
	tests := []struct {
		name      string
		auth      string
		status    int
		challenge string
	}{
		{"valid", "Bearer " + validRS256(t), 200, ""},
		{"valid lower-case scheme", "bearer " + validRS256(t), 200, ""},
		{"no token", "", 401, "Bearer"},
		{"other scheme", "Basic dXNlcjpwYXNz", 401, "Bearer"},
		{"expired", "Bearer " + expired, 401, `Bearer error="invalid_token"`},
		{"garbage", "Bearer abc", 401, `Bearer error="invalid_token"`},
		{"two tokens", "Bearer a b", 401, `Bearer error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/orders", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("got status %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("got WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if tt.status == 200 {
				if w.Body.String() != "user-1" {
					t.Errorf("got body %q, want user-1", w.Body.String())
				}
				return
			}
			var env map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			msg := "invalid token"
			if tt.challenge == "Bearer" {
				msg = "authentication required" // no token was sent
			}
			if env["error"] != msg || env["step"] != "authenticate" || env["code"] != float64(401) {
				t.Errorf("got envelope %v", env)
			}
			if strings.Contains(w.Body.String(), "expired") || strings.Contains(w.Body.String(), "jwtauth") {
				t.Errorf("body tells why: %q", w.Body.String())
			}
		})
	}
}
