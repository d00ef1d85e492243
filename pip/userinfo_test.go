package pip_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/pip"
	"github.com/golang-jwt/jwt/v5"
)

// OpenID Connect Core §5.3.2: the userinfo answer must carry "sub", a
// string equal to the token's "sub"; otherwise it is not used: the request
// is answered 503, and nothing is cached, so the next request asks again.
func TestUserInfoSubjectMustMatch(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		without string // a claim the token lacks
	}{
		{"no sub", `{"email":"alice@example.com"}`, ""},
		{"sub a number", `{"sub":42,"email":"alice@example.com"}`, ""},
		{"sub null", `{"sub":null}`, ""},
		{"sub an array", `{"sub":["alice"]}`, ""},
		{"sub empty", `{"sub":""}`, ""},
		{"sub of another subject", `{"sub":"mallory"}`, ""},
		{"sub differs in case", `{"sub":"Alice"}`, ""},
		{"token without sub", `{"sub":"alice"}`, "sub"},
		// Neither names a subject: "" equals "", yet there is no
		// subject to match.
		{"neither has sub", `{"email":"alice@example.com"}`, "sub"},
		{"token without sub, sub empty", `{"sub":""}`, "sub"},
		{"token without sub, sub a number", `{"sub":42}`, "sub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			p := mustNew(t, pip.Config{Validator: f.v, UserInfoURL: srv.URL}, nil)
			raw := f.tokenWithout(t, tt.without)
			tok, err := f.v.Validate(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if s, err := p.Subject(context.Background(), tok); !errors.Is(err, pip.ErrUserInfo) || errors.Is(err, pip.ErrUserInfoRefused) {
					t.Fatalf("call %d: got %+v, %v; want ErrUserInfo", i+1, s, err)
				}
			}
			if got := hits.Load(); got != 2 {
				t.Errorf("got %d userinfo requests for 2 calls, want 2: a refused answer was cached", got)
			}

			a := app.New(app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), app.WithPolicyInformation(p.Hook()))
			a.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) })
			ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/me", Headers: map[string]string{"authorization": "Bearer " + raw},
				RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
			payload, _ := json.Marshal(ev)
			out, err := a.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayV2HTTPResponse
			json.Unmarshal(out, &resp)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("hook: got %d %s, want 503", resp.StatusCode, resp.Body)
			}
		})
	}
}

// tokenWithout returns a valid token without the named claim.
func (f *fixture) tokenWithout(t *testing.T, claim string) string {
	t.Helper()
	base := jwt.MapClaims{"iss": issuer, "aud": "orders", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	delete(base, claim)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, base)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The error of an unreachable userinfo endpoint, which the app logs, names
// the endpoint without its query.
func TestUserInfoErrorHidesQuery(t *testing.T) {
	f := newFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // connections are refused
	p := mustNew(t, pip.Config{Validator: f.v, UserInfoURL: "http://" + addr + "/userinfo?api_key=s3cret"}, nil)
	tok, err := f.v.Validate(context.Background(), f.token(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Subject(context.Background(), tok)
	if !errors.Is(err, pip.ErrUserInfo) {
		t.Fatalf("got %v, want ErrUserInfo", err)
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "api_key") || !strings.Contains(msg, addr+"/userinfo") {
		t.Errorf("got %q, want the endpoint without its query", msg)
	}
}

// A UserInfoURL that does not parse (a typo in the port) fails every
// request that needs userinfo with ErrUserInfo (503), and an error that
// names neither the query nor the user information: the app logs it.
func TestUnparsableUserInfoURLHidesSecrets(t *testing.T) {
	f := newFixture(t)
	tok, err := f.v.Validate(context.Background(), f.token(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"https://user:pw@idp.example.com:44x/userinfo?api_key=s3cret",
		"/userinfo?api_key=s3cret&user=pw@", // not absolute
	} {
		p := mustNew(t, pip.Config{Validator: f.v, UserInfoURL: bad}, nil)
		_, err = p.Subject(context.Background(), tok)
		if !errors.Is(err, pip.ErrUserInfo) {
			t.Fatalf("%s: got %v, want ErrUserInfo", bad, err)
		}
		for _, secret := range []string{"s3cret", "api_key", "pw@"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows %q: %v", secret, err)
			}
		}
	}
}
