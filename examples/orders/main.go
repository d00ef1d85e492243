// Command orders is funcify's example function: a small orders API that
// answers API Gateway (REST and HTTP APIs), function URL and ALB events, and
// processes S3 notifications for the invoices bucket.
//
// Run it locally, with no AWS account and no network:
//
//	go run ./examples/orders                 # serves http://127.0.0.1:8080
//	go run ./examples/orders -event ev.json  # invokes it once with an event
//
// Routes:
//
//	GET  /health       {"status":"ok"}
//	POST /orders       {"item": "book", "quantity": 2} -> 201 with the order
//	                   and its Location; with an Idempotency-Key header, a
//	                   retry creates no second order (see idempotency.go)
//	GET  /orders       {"orders": [...]}
//	GET  /orders/{id}  the order, or 404
//	GET  /session      {"visits": N}: the caller's visits, counted in a sealed cookie
//	S3   invoices.*    {"processed": [<object keys>]}
//	SQS  order-events  {"id": "1", "status": "shipped"} per message sets an
//	                   order's status; failed messages in batchItemFailures;
//	                   a message redelivered after it succeeded is skipped
//	EventBridge schedule orders.nightly: logs a summary of the orders
//
// With ORDERS_JWT_ISSUER, ORDERS_JWT_AUDIENCE and ORDERS_JWKS_URL set, the
// orders routes need a bearer token: reading needs the activity
// orders:order:read, POST needs orders:order:write (401 without a valid
// token, 403 without the activity). Unset, every route is open.
//
// With ORDERS_CORS_ORIGINS set (comma-separated origins, such as
// "https://shop.example.com,https://*.example.com"), pages of those origins
// may call the API from a browser: preflights are answered with 204 before
// authentication, and every answer carries the CORS headers (see cors.go).
//
// The visits cookie is sealed with the keys in ORDERS_SESSION_KEYS
// (comma-separated base64 32-byte keys, the sealing key first; make one with
// `openssl rand -base64 32`). Without it the function seals with a random key
// made at start, so a restart, and every other Lambda instance, forgets all
// visits: fine for trying the example, not for a deployment. The cookie is
// Secure, as every session cookie is by default: browsers send it back over
// HTTPS and to localhost only.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/metrics"
	"github.com/funcify/funcify/session"
)

func main() {
	// In Lambda, logs and metrics go to standard output, which CloudWatch
	// Logs reads; run locally, to standard error, so that -event prints the
	// answer alone, as the app's default logger does.
	out := os.Stderr
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		out = os.Stdout
	}
	obs, err := newObservers(out)
	if err != nil {
		app.FailInit(err)
	}
	newApp(newStore(), obs...).Start()
}

// metricsNamespace is the CloudWatch namespace of the function's metrics
// when POWERTOOLS_METRICS_NAMESPACE does not name one.
const metricsNamespace = "FuncifyOrders"

// newObservers returns the app options that make the function observable,
// writing to w (standard output in Lambda, where CloudWatch Logs reads it):
//
//   - logs through a logging.Buffer: an invocation's Debug lines are held
//     and written only if it logs an error, fails or answers 5xx
//     (FUNCIFY_LOG_SAMPLE_RATE=0.1 writes them in full for a tenth of the
//     invocations);
//   - CloudWatch metrics in the Embedded Metric Format (package metrics):
//     OrdersCreated and OrderEventsFailed, and ColdStart, in the namespace
//     POWERTOOLS_METRICS_NAMESPACE names (FuncifyOrders without it), with
//     the dimension service (POWERTOOLS_SERVICE_NAME).
//
// Spans (OpenTelemetry) are added by otel.go, built with -tags funcify.otel.
func newObservers(w io.Writer) ([]app.Option, error) {
	var opts []metrics.Option
	if os.Getenv("POWERTOOLS_METRICS_NAMESPACE") == "" {
		opts = append(opts, metrics.WithNamespace(metricsNamespace))
	}
	if os.Getenv("POWERTOOLS_SERVICE_NAME") == "" {
		opts = append(opts, metrics.WithService("orders"))
	}
	m, err := metrics.New(append(opts, metrics.WithWriter(w), metrics.WithColdStart())...)
	if err != nil {
		return nil, err
	}
	logs := logging.NewBuffer(w, logging.BufferSettings{})
	// Spans first: their observer begins first and ends last, so its span
	// covers the others' work, and its Shutdown (a flush over the network,
	// which may hang) runs after the metrics' and the logs' local writes.
	obs := tracing(logs.Logger())
	return append(obs, app.WithLogger(logs.Logger()), app.WithObserver(logs, m)), nil
}

// count adds 1 to the invocation's metric name. Without a metrics observer
// (some tests build the app without one) it does nothing: a metric is
// never worth failing an order for, and a name the metrics package refuses
// is a bug, logged.
func count(ctx context.Context, name string) {
	if err := metrics.Add(ctx, name, 1, metrics.Count); err != nil && !errors.Is(err, metrics.ErrNoMetrics) {
		slog.Default().WarnContext(ctx, "metric not recorded", slog.String("metric", name), slog.String("error", err.Error()))
	}
}

// newApp builds the function's app around store, with the JWT settings of
// the environment (see auth.go).
func newApp(s *store, opts ...app.Option) *app.App {
	auth := authFromEnv(os.Getenv)
	if auth.option != nil {
		opts = append(opts, auth.option)
	}
	if c := corsFromEnv(os.Getenv); c != nil {
		opts = append(opts, c)
	}
	a := app.New(opts...)
	guard := newGuard()
	a.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		app.JSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
	// The token is checked before the idempotency key, so that a refused
	// request takes no key.
	a.Handle("POST /orders", auth.write(idempotent(guard)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := app.DecodeJSON[newOrder](r)
		if err != nil {
			app.WriteError(w, r, err)
			return
		}
		o := s.add(*in.Item, *in.Quantity)
		count(r.Context(), "OrdersCreated")
		w.Header().Set("Location", "/orders/"+o.ID)
		app.JSON(w, r, http.StatusCreated, o)
	}))))
	a.Handle("GET /orders", auth.read(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.JSON(w, r, http.StatusOK, map[string][]order{"orders": s.list()})
	})))
	a.Handle("GET /orders/{id}", auth.read(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, ok := s.get(r.PathValue("id"))
		if !ok {
			app.WriteError(w, r, app.NewError(http.StatusNotFound, "order not found"))
			return
		}
		app.JSON(w, r, http.StatusOK, o)
	})))
	a.Handle("GET /session", session.Middleware(session.Options{Sealer: sessionSealer()})(http.HandlerFunc(visits)))
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		keys := make([]string, 0, len(e.Records))
		for _, rec := range e.Records {
			keys = append(keys, rec.S3.Object.Key)
		}
		return map[string][]string{"processed": keys}, nil
	})
	handleEvents(a, s, guard, logging.New(os.Stderr))
	return a
}

// visitsTTL is how long a caller's visit count lasts without a visit.
const visitsTTL = 30 * 24 * time.Hour

// visits counts the caller's visits in the sealed cookie "visits". A
// missing, tampered or expired cookie starts the count again.
func visits(w http.ResponseWriter, r *http.Request) {
	s := session.FromRequest(r)
	n := 0
	if v, ok := s.GetSealed("visits"); ok {
		n, _ = strconv.Atoi(v)
	}
	n++
	if err := s.SetSealed("visits", strconv.Itoa(n), visitsTTL); err != nil {
		app.WriteError(w, r, err)
		return
	}
	app.JSON(w, r, http.StatusOK, map[string]int{"visits": n})
}

// randomKey is the sealing key when ORDERS_SESSION_KEYS is not set, made
// once per process.
var randomKey = sync.OnceValue(func() []byte {
	k := make([]byte, session.KeySize)
	rand.Read(k)
	return k
})

// sessionSealer seals with the keys in ORDERS_SESSION_KEYS, or with a key
// made at start. Keys that do not parse stop the function at start, with a
// message that names the variable.
func sessionSealer() *session.Sealer {
	keys := [][]byte{randomKey()}
	if _, set := os.LookupEnv("ORDERS_SESSION_KEYS"); set {
		var err error
		if keys, err = session.KeysFromEnv("ORDERS_SESSION_KEYS"); err != nil {
			panic("orders: " + err.Error())
		}
	}
	s, err := session.NewSealer(keys...)
	if err != nil {
		panic("orders: " + err.Error())
	}
	return s
}

// order is an order as the API shows it.
type order struct {
	ID       string `json:"id"`
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
	// Status is set by the order-events queue (see events.go); empty
	// until the first update.
	Status string `json:"status,omitempty"`
}

// newOrder is the body of POST /orders. Pointers tell a missing field from
// a zero one.
type newOrder struct {
	Item     *string `json:"item"`
	Quantity *int    `json:"quantity"`
}

// Validate checks the body; its errors are shown to the caller.
func (o newOrder) Validate() error {
	switch {
	case o.Item == nil || *o.Item == "":
		return errors.New(`"item" must be a non-empty string`)
	case o.Quantity == nil || *o.Quantity <= 0:
		return errors.New(`"quantity" must be an integer greater than 0`)
	}
	return nil
}

// store keeps orders in memory. It is safe for concurrent use.
type store struct {
	mu     sync.Mutex // guards orders and next
	orders []order
	byID   map[string]int
	next   int
}

func newStore() *store { return &store{byID: make(map[string]int)} }

func (s *store) add(item string, quantity int) order {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	o := order{ID: strconv.Itoa(s.next), Item: item, Quantity: quantity}
	s.byID[o.ID] = len(s.orders)
	s.orders = append(s.orders, o)
	return o
}

func (s *store) get(id string) (order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok {
		return order{}, false
	}
	return s.orders[i], true
}

// setStatus sets the status of the order id and reports whether there is
// such an order.
func (s *store) setStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if ok {
		s.orders[i].Status = status
	}
	return ok
}

func (s *store) list() []order {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(make([]order, 0, len(s.orders)), s.orders...)
}
