package main

import (
	"net/http"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/pip"
	"github.com/funcify/funcify/store/memstore"
)

// newGuard returns the Guard that makes POST /orders and the order-events
// consumers run once per Idempotency-Key or message id.
//
// Its records live in memory (store/memstore), as the orders do: they are
// shared by the invocations of one instance, not across instances. A POST
// retried on another instance, or a message redelivered to another one, runs
// again there. A function whose orders live in a shared database would keep
// these records in a shared store as well (store/dynamostore or
// store/redisstore), so that every instance sees them.
//
// A duplicate that comes while the first call runs is refused at once (409
// for a POST, a failed item for a message, which SQS delivers again later)
// rather than waiting for it.
func newGuard() *idempotency.Guard {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New(), CheckPayload: true})
	if err != nil {
		panic("orders: " + err.Error())
	}
	return g
}

// idempotent makes POST /orders honour the Idempotency-Key header: a
// retried POST with the same key and body creates one order, and gets the
// first answer again (201, the same order, the same Location), marked
// Idempotent-Replayed: true; the same key with another body gets 422, and a
// repeat while the first one runs 409. The header is optional: a POST
// without it creates an order each time, as it did before the header, so
// that clients adopt it when they are ready. With tokens on, keys are the
// caller's own (the token's subject): another caller's equal key is another
// key, and never replays this caller's order.
func idempotent(g *idempotency.Guard) func(http.Handler) http.Handler {
	return idempotency.Middleware(g, idempotency.KeyOptional(), idempotency.CallerIdentity(caller))
}

// caller is the subject of the request's validated token, or "" when the
// routes are open: the anonymous callers share one key space.
func caller(r *http.Request) string {
	if s, ok := pip.FromContext(r.Context()); ok {
		return s.ID
	}
	return ""
}
