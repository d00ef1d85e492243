// Command bareorders answers API Gateway's GET /orders/{id} the way a user of
// aws-lambda-go alone would write it, with the same status, Content-Type and
// body as examples/orders: the order, or 404 with funcify's JSON error
// envelope. Its store starts empty, as examples/orders' does, so every order
// is missing. It logs one JSON line per invocation at Info to stdout with
// log/slog, as examples/orders does.
//
// A user deploys one function per API, each with a typed handler that
// aws-lambda-go decodes the event into once. So does bareorders: the
// environment variable BAREORDERS_API picks the handler, and with it the
// event type:
//
//	rest  a REST API (payload format 1.0): events.APIGatewayProxyRequest
//	http  an HTTP API (payload format 2.0): events.APIGatewayV2HTTPRequest
//
// Any other value, or none, stops the process before it starts its loop.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type order struct {
	ID       string `json:"id"`
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
}

// store keeps orders in memory. It is safe for concurrent use.
type store struct {
	mu     sync.Mutex // guards orders
	orders map[string]order
}

func (s *store) get(id string) (order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	return o, ok
}

// errorBody is the body of an error answer.
type errorBody struct {
	Error string   `json:"error"`
	Code  int      `json:"code"`
	Step  string   `json:"step"`
	Ctx   struct{} `json:"ctx"`
}

// answer is what the function answers, before it takes an API's shape.
type answer struct {
	status int
	body   string
}

type function struct {
	store *store
	log   *slog.Logger
}

// getOrder answers GET /orders/{id}, and 404 for any other route.
func (f *function) getOrder(method, path string) answer {
	id, ok := strings.CutPrefix(path, "/orders/")
	if method != http.MethodGet || !ok || id == "" || strings.Contains(id, "/") {
		return errorAnswer(http.StatusNotFound, "not found")
	}
	o, ok := f.store.get(id)
	if !ok {
		return errorAnswer(http.StatusNotFound, "order not found")
	}
	b, err := json.Marshal(o)
	if err != nil {
		return errorAnswer(http.StatusInternalServerError, "internal error")
	}
	return answer{status: http.StatusOK, body: string(b)}
}

func errorAnswer(status int, msg string) answer {
	b, _ := json.Marshal(errorBody{Error: msg, Code: status, Step: "handler"})
	return answer{status: status, body: string(b)}
}

var jsonHeaders = map[string]string{"Content-Type": "application/json"}

// handleREST is the handler of a REST API's function.
func (f *function) handleREST(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	start := time.Now()
	a := f.getOrder(req.HTTPMethod, req.Path)
	f.logRequest(ctx, start, req.HTTPMethod, req.Path, a.status)
	return events.APIGatewayProxyResponse{StatusCode: a.status, Headers: jsonHeaders, Body: a.body}, nil
}

// handleHTTP is the handler of an HTTP API's function.
func (f *function) handleHTTP(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	method := req.RequestContext.HTTP.Method
	a := f.getOrder(method, req.RawPath)
	f.logRequest(ctx, start, method, req.RawPath, a.status)
	return events.APIGatewayV2HTTPResponse{StatusCode: a.status, Headers: jsonHeaders, Body: a.body}, nil
}

// logRequest logs the invocation's line.
func (f *function) logRequest(ctx context.Context, start time.Time, method, path string, status int) {
	var requestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	f.log.InfoContext(ctx, "request",
		"aws_request_id", requestID, "method", method, "path", path, "status", status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000)
}

// handler returns the typed handler of the API that api names, as
// BAREORDERS_API names it, for lambda.Start.
func (f *function) handler(api string) (any, error) {
	switch api {
	case "rest":
		return f.handleREST, nil
	case "http":
		return f.handleHTTP, nil
	}
	return nil, fmt.Errorf("BAREORDERS_API is %q, want rest (a REST API) or http (an HTTP API)", api)
}

func main() {
	f := &function{
		store: &store{orders: make(map[string]order)},
		log:   slog.New(slog.NewJSONHandler(os.Stdout, nil)),
	}
	h, err := f.handler(os.Getenv("BAREORDERS_API"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareorders:", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
