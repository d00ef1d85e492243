package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/internal/testenv"
)

// TestEmulatorAuth runs the example under the Lambda Runtime Interface
// Emulator with a real OpenID provider's issuer: no token 401, a read-only
// token 200 on GET and 403 on POST, a write token 201.
func TestEmulatorAuth(t *testing.T) {
	const readerID, readerSecret = "reader", "reader-secret-1"
	idp := testenv.StartOIDC(t, testenv.WithOIDCClient(readerID, readerSecret, "orders:order:read"))
	bin := testenv.BuildFunction(t, ".")
	url := testenv.RIE(t, bin,
		"ORDERS_JWT_ISSUER="+idp.Issuer,
		"ORDERS_JWT_AUDIENCE="+idp.Audience,
		"ORDERS_JWKS_URL="+idp.JWKSURL,
	)
	read := idp.ClientToken(t, readerID, readerSecret, "orders:order:read")
	write := idp.Token(t, "orders:order:read", "orders:order:write")

	call := func(shape, method, path, body, token string) response {
		t.Helper()
		ev := shapes[shape](method, path, body)
		if token != "" {
			switch e := ev.(type) {
			case events.APIGatewayProxyRequest:
				e.Headers["Authorization"] = "Bearer " + token
				e.MultiValueHeaders["Authorization"] = []string{"Bearer " + token}
				ev = e
			case events.APIGatewayV2HTTPRequest:
				e.Headers["authorization"] = "Bearer " + token
				ev = e
			}
		}
		payload, _ := json.Marshal(ev)
		var r response
		if err := json.Unmarshal(rieInvoke(t, url, payload), &r); err != nil || r.StatusCode == 0 {
			t.Fatalf("%s %s %s: %v", shape, method, path, err)
		}
		return r
	}
	for _, shape := range []string{"v1", "v2"} {
		tests := []struct {
			method, path, body, token string
			status                    int
			challenge                 string
		}{
			{"GET", "/health", "", "", http.StatusOK, ""},
			{"GET", "/orders", "", "", http.StatusUnauthorized, "Bearer"},
			{"POST", "/orders", `{"item":"book","quantity":1}`, "", http.StatusUnauthorized, "Bearer"},
			{"GET", "/orders", "", "not-a-token", http.StatusUnauthorized, `Bearer error="invalid_token"`},
			{"GET", "/orders", "", read, http.StatusOK, ""},
			{"POST", "/orders", `{"item":"book","quantity":1}`, read, http.StatusForbidden, `Bearer error="insufficient_scope"`},
			{"POST", "/orders", `{"item":"book","quantity":1}`, write, http.StatusCreated, ""},
			{"GET", "/orders/1", "", write, http.StatusOK, ""},
		}
		for _, tt := range tests {
			r := call(shape, tt.method, tt.path, tt.body, tt.token)
			if r.StatusCode != tt.status {
				t.Errorf("%s %s %s: got %d %s, want %d", shape, tt.method, tt.path, r.StatusCode, r.Body, tt.status)
			}
			if got := r.header("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("%s %s %s: got WWW-Authenticate %q, want %q", shape, tt.method, tt.path, got, tt.challenge)
			}
		}
	}
}
