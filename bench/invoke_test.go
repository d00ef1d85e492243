package bench

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/metrics"
)

// Every adapter serves GET /orders/{id} with the same answer for the same event.
const (
	fixtureV1 = "rest_v1.json" // API Gateway REST API (payload format 1.0)
	fixtureV2 = "http_v2.json" // API Gateway HTTP API (payload format 2.0)

	orderID  = "42"
	wantBody = `{"id":"42","item":"widget","quantity":2}`
)

// orderBody is the answer every adapter sends, built the same way everywhere.
func orderBody(id string) string {
	return `{"id":"` + id + `","item":"widget","quantity":2}`
}

// getOrder is the net/http handler shared by funcify, algnhsa and aws-lambda-go-api-proxy.
func getOrder(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(orderBody(r.PathValue("id"))))
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", getOrder)
	return mux
}

// bareV1 is what a hand-written aws-lambda-go function does for a REST API event.
func bareV1(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	id, ok := routeOrder(req.HTTPMethod, req.Path, req.PathParameters)
	if !ok {
		return events.APIGatewayProxyResponse{StatusCode: http.StatusNotFound}, nil
	}
	return events.APIGatewayProxyResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       orderBody(id),
	}, nil
}

// bareV2 is what a hand-written aws-lambda-go function does for an HTTP API event.
func bareV2(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	id, ok := routeOrder(req.RequestContext.HTTP.Method, req.RawPath, req.PathParameters)
	if !ok {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotFound}, nil
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       orderBody(id),
	}, nil
}

// routeOrder routes GET /orders/{id} by hand. It prefers the path parameter
// API Gateway extracted and falls back to cutting the path.
func routeOrder(method, path string, params map[string]string) (id string, ok bool) {
	if method != http.MethodGet {
		return "", false
	}
	rest, ok := strings.CutPrefix(path, "/orders/")
	if !ok {
		return "", false
	}
	if id := params["id"]; id != "" {
		return id, true
	}
	if rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	return rest, true
}

func newFuncify() lambda.Handler {
	// Logging stays on at Info, into io.Discard, so its cost is counted.
	a := app.New(app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	a.HandleFunc("GET /orders/{id}", getOrder)
	return a
}

// newFuncifyMetrics is newFuncify with CloudWatch metrics on: the handler
// adds one, and each invocation writes its EMF document, into io.Discard.
func newFuncifyMetrics() lambda.Handler {
	m, err := metrics.New(metrics.WithNamespace("Bench"), metrics.WithService("orders"), metrics.WithWriter(io.Discard))
	if err != nil {
		panic(err)
	}
	a := app.New(app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))), app.WithObserver(m))
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		metrics.Add(r.Context(), "OrdersRead", 1, metrics.Count)
		getOrder(w, r)
	})
	return a
}

// adapter is one way of turning a Lambda event into the order response.
type adapter struct {
	name    string // sub-benchmark name: library/payload format
	fixture string // event file in testdata
	new     func() lambda.Handler
	// pooled says Invoke returns a slice into a buffer that the next Invoke
	// overwrites (aws-lambda-go's lambda.NewHandler, its PR #639), so a real
	// caller must copy it.
	pooled bool
}

var adapters = []adapter{
	{
		name: "bare/v1", fixture: fixtureV1, pooled: true,
		new: func() lambda.Handler { return lambda.NewHandler(bareV1) },
	},
	{
		name: "funcify/v1", fixture: fixtureV1,
		new: newFuncify,
	},
	{
		name: "funcify+metrics/v1", fixture: fixtureV1,
		new: newFuncifyMetrics,
	},
	{
		// Auto-detect, the default: algnhsa tries the HTTP API type first,
		// then the REST API type, so a REST event is decoded twice.
		name: "algnhsa/v1", fixture: fixtureV1,
		new: func() lambda.Handler { return algnhsa.New(newMux(), nil) },
	},
	{
		name: "algnhsa-typed/v1", fixture: fixtureV1,
		new: func() lambda.Handler {
			return algnhsa.New(newMux(), &algnhsa.Options{RequestType: algnhsa.RequestTypeAPIGatewayV1})
		},
	},
	{
		name: "apiproxy/v1", fixture: fixtureV1, pooled: true,
		new: func() lambda.Handler { return lambda.NewHandler(httpadapter.New(newMux()).ProxyWithContext) },
	},
	{
		name: "bare/v2", fixture: fixtureV2, pooled: true,
		new: func() lambda.Handler { return lambda.NewHandler(bareV2) },
	},
	{
		name: "funcify/v2", fixture: fixtureV2,
		new: newFuncify,
	},
	{
		name: "funcify+metrics/v2", fixture: fixtureV2,
		new: newFuncifyMetrics,
	},
	{
		name: "apiproxy/v2", fixture: fixtureV2, pooled: true,
		new: func() lambda.Handler { return lambda.NewHandler(httpadapter.NewV2(newMux()).ProxyWithContext) },
	},
}

// sink keeps the copied responses alive so the copy is not optimised away.
var sink []byte

func BenchmarkInvoke(b *testing.B) {
	for _, ad := range adapters {
		b.Run(ad.name, func(b *testing.B) {
			payload := readFixture(b, ad.fixture)
			ctx := invokeContext(b)
			h := ad.new()

			// A broken adapter must not post a fast number.
			out, err := h.Invoke(ctx, payload)
			if err != nil {
				b.Fatalf("Invoke: %v", err)
			}
			checkResponse(b, out)

			b.ReportAllocs()
			for b.Loop() {
				out, err := h.Invoke(ctx, payload)
				if err != nil {
					b.Fatalf("Invoke: %v", err)
				}
				if ad.pooled {
					// The slice is only valid until the next Invoke: a caller
					// that keeps it must copy it. The bare cases pay for this
					// copy too, so every adapter hands back a response it owns.
					out = append([]byte(nil), out...)
				}
				sink = out
			}
		})
	}
}

func TestAdaptersAgree(t *testing.T) {
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			out, err := ad.new().Invoke(invokeContext(t), readFixture(t, ad.fixture))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			checkResponse(t, out)
		})
	}
}

// response holds the fields shared by the REST API and HTTP API response shapes.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// header returns the first value of the named header, in either map, ignoring case.
func (r response) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range r.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// checkResponse fails tb unless out is the order response: status 200,
// Content-Type application/json and the expected body, which carries the id.
func checkResponse(tb testing.TB, out []byte) {
	tb.Helper()
	var resp response
	if err := json.Unmarshal(out, &resp); err != nil {
		tb.Fatalf("decode response %q: %v", out, err)
	}
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		tb.Fatalf("statusCode = %d, want %d (response %s)", got, want, out)
	}
	if got, want := resp.header("Content-Type"), "application/json"; got != want {
		tb.Errorf("Content-Type = %q, want %q (response %s)", got, want, out)
	}
	if resp.IsBase64Encoded {
		tb.Errorf("isBase64Encoded = true, want false (response %s)", out)
	}
	if !strings.Contains(resp.Body, `"id":"`+orderID+`"`) {
		tb.Fatalf("body %q does not carry id %q", resp.Body, orderID)
	}
	if got := resp.Body; got != wantBody {
		tb.Errorf("body = %q, want %q", got, wantBody)
	}
}

// invokeContext returns the kind of ctx the runtime passes to Invoke:
// a LambdaContext and a deadline.
func invokeContext(tb testing.TB) context.Context {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       "8f5e2c4a-1b3d-4e6f-9a7b-0c1d2e3f4a5b",
		InvokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:orders",
	})
	ctx, cancel := context.WithDeadline(ctx, time.Now().Add(15*time.Minute))
	tb.Cleanup(cancel)
	return ctx
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
