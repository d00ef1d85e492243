package main

import (
	"strings"
	"time"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/cors"
	"github.com/funcify/funcify/idempotency"
)

// envCORSOrigins lists the origins whose pages may call the API from a
// browser, comma-separated: exact origins ("https://shop.example.com") or
// patterns ("https://*.example.com": every subdomain of example.com, at
// any depth, never example.com itself; refused on a public suffix such as
// *.co.uk or *.github.io). Unset or empty, the
// function answers no CORS headers and browsers keep other origins' pages
// from reading its answers.
const envCORSOrigins = "ORDERS_CORS_ORIGINS"

// corsFromEnv returns the CORS option of the origins in ORDERS_CORS_ORIGINS,
// or nil when it is unset or empty. Pages of those origins may send GET,
// HEAD and POST with the Authorization, Content-Type and Idempotency-Key
// headers, and read the Location and Idempotent-Replayed headers; a
// preflight is cached for ten minutes. Cookies are
// not sent cross-origin (no credentials): the API takes bearer tokens.
// Origins that do not parse stop the function at start, with a message that
// names the variable.
func corsFromEnv(getenv func(string) string) app.Option {
	var origins []string
	for o := range strings.SplitSeq(getenv(envCORSOrigins), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	if len(origins) == 0 {
		return nil
	}
	p, err := cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{"GET", "HEAD", "POST"},
		AllowedHeaders: []string{"Authorization", "Content-Type", idempotency.HeaderName},
		ExposedHeaders: []string{"Location", idempotency.ReplayedHeader},
		MaxAge:         10 * time.Minute,
	})
	if err != nil {
		panic("orders: " + envCORSOrigins + ": " + err.Error())
	}
	return app.WithCORS(p)
}
