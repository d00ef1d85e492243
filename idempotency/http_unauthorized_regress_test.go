package idempotency_test

// Found in review (issue 15): Middleware stores and replays 401 and 403.
// Under App.Use the middleware runs before routing and route-level auth, so a
// POST refused for an expired token is stored under its Idempotency-Key; the
// client refreshes its token and retries with the same key and body, as the
// draft tells it to, and gets the stored 401 for Config.TTL (1 hour), its
// request never run. Without CallerIdentity, anyone who learns a key can also
// plant a 401 (or 403) ahead of its owner the same way.

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

func TestUnauthorizedNotReplayed(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			g, err := idempotency.New(idempotency.Config{Store: memstore.New()})
			if err != nil {
				t.Fatal(err)
			}
			// auth stands for an authentication middleware inside the
			// idempotency one (App.Use order).
			auth := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("Authorization") != "Bearer fresh" {
						w.WriteHeader(status)
						return
					}
					next.ServeHTTP(w, r)
				})
			}
			runs := 0
			h := idempotency.Middleware(g)(auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				runs++
				w.WriteHeader(http.StatusCreated)
			})))
			send := func(token string) int {
				r := httptest.NewRequest("POST", "/orders", strings.NewReader(`{"sku":"a"}`))
				r.Header.Set("Idempotency-Key", `"k-1"`)
				r.Header.Set("Authorization", "Bearer "+token)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w.Code
			}
			if got := send("expired"); got != status {
				t.Fatalf("first request: got %d, want %d", got, status)
			}
			if got := send("fresh"); got != http.StatusCreated || runs != 1 {
				t.Fatalf("retry with a valid token: got %d, handler ran %d times; want 201 and one run", got, runs)
			}
		})
	}
}
