package main

import (
	"net/http"
	"time"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/pdp"
	"github.com/funcify/funcify/pip"
)

// The settings that put the orders routes behind bearer tokens. All three
// set: GET /orders and GET /orders/{id} need the activity orders:order:read
// and POST /orders needs orders:order:write; /health and /session stay
// open. None set: every route is open. Some but not all: the function
// refuses to start, rather than run open by mistake.
const (
	envIssuer   = "ORDERS_JWT_ISSUER"
	envAudience = "ORDERS_JWT_AUDIENCE"
	envJWKS     = "ORDERS_JWKS_URL"
)

// guards protect routes; without the JWT settings they let everything
// through.
type guards struct {
	option      app.Option // the policy-information hook, or nil
	read, write func(http.Handler) http.Handler
}

func open(h http.Handler) http.Handler { return h }

// authFromEnv reads the JWT settings through getenv.
func authFromEnv(getenv func(string) string) guards {
	issuer, audience, jwks := getenv(envIssuer), getenv(envAudience), getenv(envJWKS)
	switch {
	case issuer == "" && audience == "" && jwks == "":
		return guards{read: open, write: open}
	case issuer == "" || audience == "" || jwks == "":
		panic("orders: set all of " + envIssuer + ", " + envAudience + " and " + envJWKS + ", or none of them")
	}
	v, err := jwtauth.New(jwtauth.Config{
		Keys:     jwtauth.NewJWKS(jwks, jwtauth.WithHTTPClient(&http.Client{Timeout: 5 * time.Second})),
		Issuer:   issuer,
		Audience: []string{audience},
	})
	if err != nil {
		panic("orders: " + err.Error())
	}
	p, err := pip.New(pip.Config{Validator: v})
	if err != nil {
		panic("orders: " + err.Error())
	}
	return guards{
		option: app.WithPolicyInformation(p.Hook()),
		read:   pdp.Require(pdp.MustActivity("orders:order:read")),
		write:  pdp.Require(pdp.MustActivity("orders:order:write")),
	}
}
