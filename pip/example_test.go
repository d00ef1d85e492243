package pip_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/pdp"
	"github.com/funcify/funcify/pip"
	"github.com/golang-jwt/jwt/v5"
)

func ExampleActivities() {
	claims := map[string]any{"scope": "orders:order:read orders:order:write"}
	fmt.Println(pip.Activities(claims, ""))
	// Output: [orders:order:read orders:order:write]
}

func ExamplePIP_Hook() {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keys, _ := jwtauth.StaticKeys(map[string]crypto.PublicKey{"k1": pub})
	v, _ := jwtauth.New(jwtauth.Config{Keys: keys, Issuer: "https://id.example", Audience: []string{"orders"}})
	p, _ := pip.New(pip.Config{Validator: v})

	a := app.New(app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), app.WithPolicyInformation(p.Hook()))
	a.Handle("GET /orders", pdp.Require(pdp.MustActivity("orders:order:read"))(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			s, _ := pip.FromContext(r.Context())
			fmt.Fprintf(w, `{"subject":%q}`, s.ID)
		})))

	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://id.example", "aud": "orders", "sub": "alice",
		"scope": "orders:order:read", "exp": time.Now().Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "k1"
	raw, _ := tok.SignedString(priv)

	for _, auth := range []string{"", "Bearer " + raw} {
		out, _ := a.Invoke(context.Background(), []byte(`{"version": "2.0", "rawPath": "/orders",
			"headers": {"authorization": "`+auth+`"}, "requestContext": {"http": {"method": "GET"}}}`))
		fmt.Println(string(out))
	}
	// Output:
	// {"statusCode":401,"headers":{"content-type":"application/json","www-authenticate":"Bearer"},"body":"{\"error\":\"authentication required\",\"code\":401,\"step\":\"authorize\",\"ctx\":{}}","isBase64Encoded":false}
	// {"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"subject\":\"alice\"}","isBase64Encoded":false}
}

func ExampleFromContext() {
	ctx := pip.NewContext(context.Background(), &pip.Subject{ID: "alice", Activities: []string{"orders:order:read"}})
	if s, ok := pip.FromContext(ctx); ok {
		fmt.Println(s.ID, s.Activities)
	}
	// Output: alice [orders:order:read]
}
