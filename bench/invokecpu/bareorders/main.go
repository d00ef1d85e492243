// Command bareorders answers API Gateway's GET /orders/{id} the way a user of
// aws-lambda-go alone would write it, with the same status, Content-Type and
// body as examples/orders: the order, or 404 with funcify's JSON error
// envelope. Its store starts empty, as examples/orders' does, so every order
// is missing. It logs one JSON line per invocation at Info to stdout with
// log/slog, as examples/orders does.
//
// It takes REST API (payload format 1.0) and HTTP API (2.0) events: a user
// would deploy one function per API, so it tells them apart by a cheap look
// at the top-level "version" member before it decodes the event once with
// encoding/json into aws-lambda-go's type for it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
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

func (f *function) handle(ctx context.Context, payload json.RawMessage) (any, error) {
	start := time.Now()
	var method, path string
	var out any
	var status int
	if isHTTPAPI(payload) {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, err
		}
		method, path = req.RequestContext.HTTP.Method, req.RawPath
		a := f.getOrder(method, path)
		status = a.status
		out = events.APIGatewayV2HTTPResponse{StatusCode: a.status, Headers: jsonHeaders, Body: a.body}
	} else {
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, err
		}
		method, path = req.HTTPMethod, req.Path
		a := f.getOrder(method, path)
		status = a.status
		out = events.APIGatewayProxyResponse{StatusCode: a.status, Headers: jsonHeaders, Body: a.body}
	}
	var requestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	f.log.InfoContext(ctx, "request",
		"aws_request_id", requestID, "method", method, "path", path, "status", status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000)
	return out, nil
}

// isHTTPAPI reports whether payload is an HTTP API event: its "version"
// member is "2.0". REST API events have no "version".
func isHTTPAPI(payload []byte) bool {
	i := bytes.Index(payload, []byte(`"version"`))
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(payload[i+len(`"version"`):], " \t\r\n")
	rest, ok := bytes.CutPrefix(rest, []byte(":"))
	return ok && bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte(`"2.0"`))
}

func main() {
	f := &function{
		store: &store{orders: make(map[string]order)},
		log:   slog.New(slog.NewJSONHandler(os.Stdout, nil)),
	}
	lambda.Start(f.handle)
}
