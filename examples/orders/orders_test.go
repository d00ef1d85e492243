package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/app"
)

// shapes builds, for each HTTP source, the event it sends for a request.
var shapes = map[string]func(method, path, body string) any{
	"v1": func(method, path, body string) any {
		return events.APIGatewayProxyRequest{
			HTTPMethod: method, Path: path, Resource: "/{proxy+}", Body: body,
			Headers:           map[string]string{"Content-Type": "application/json"},
			MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
			RequestContext:    events.APIGatewayProxyRequestContext{Identity: events.APIGatewayRequestIdentity{SourceIP: "203.0.113.9"}},
		}
	},
	"v2": func(method, path, body string) any {
		return events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default", RawPath: path, Body: body,
			Headers: map[string]string{"content-type": "application/json"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				DomainName: "api.example.com",
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			},
		}
	},
	"url": func(method, path, body string) any {
		return events.LambdaFunctionURLRequest{
			Version: "2.0", RawPath: path, Body: body,
			Headers: map[string]string{"content-type": "application/json"},
			RequestContext: events.LambdaFunctionURLRequestContext{
				DomainName: "abcdefgh.lambda-url.eu-west-1.on.aws",
				HTTP:       events.LambdaFunctionURLRequestContextHTTPDescription{Method: method, Path: path},
			},
		}
	},
	"alb": func(method, path, body string) any {
		return events.ALBTargetGroupRequest{
			HTTPMethod: method, Path: path, Body: body,
			Headers:        map[string]string{"content-type": "application/json"},
			RequestContext: events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/orders/1"}},
		}
	},
	"alb-multi": func(method, path, body string) any {
		return events.ALBTargetGroupRequest{
			HTTPMethod: method, Path: path, Body: body,
			MultiValueHeaders: map[string][]string{"content-type": {"application/json"}},
			RequestContext:    events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/orders/1"}},
		}
	},
}

type response struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
}

func (r response) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range r.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return strings.Join(v, ", ")
		}
	}
	return ""
}

func testApp() *app.App {
	return newApp(newStore(), app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
}

func call(t *testing.T, a *app.App, shape, method, path, body string) (response, map[string]any) {
	t.Helper()
	payload, err := json.Marshal(shapes[shape](method, path, body))
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "test"})
	out, err := a.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("%s %s %s: %v", shape, method, path, err)
	}
	var r response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	var body_ map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body_); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return r, body_
}

func TestContractEveryShape(t *testing.T) {
	for shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			a := testApp()
			r, b := call(t, a, shape, "GET", "/health", "")
			if r.StatusCode != 200 || !reflect.DeepEqual(b, map[string]any{"status": "ok"}) {
				t.Errorf("health: got %d %v", r.StatusCode, b)
			}
			r, b = call(t, a, shape, "GET", "/orders", "")
			if r.StatusCode != 200 || !reflect.DeepEqual(b, map[string]any{"orders": []any{}}) {
				t.Errorf("empty list: got %d %v", r.StatusCode, b)
			}
			r, created := call(t, a, shape, "POST", "/orders", `{"item":"book","quantity":2}`)
			if r.StatusCode != 201 || created["item"] != "book" || created["quantity"] != 2.0 || created["id"] == "" {
				t.Fatalf("create: got %d %v", r.StatusCode, created)
			}
			if ct := r.header("Content-Type"); ct != "application/json" {
				t.Errorf("create: got Content-Type %q", ct)
			}
			id := created["id"].(string)
			r, b = call(t, a, shape, "GET", "/orders/"+id, "")
			if r.StatusCode != 200 || !reflect.DeepEqual(b, created) {
				t.Errorf("get: got %d %v, want %v", r.StatusCode, b, created)
			}
			r, b = call(t, a, shape, "GET", "/orders", "")
			if r.StatusCode != 200 || !reflect.DeepEqual(b, map[string]any{"orders": []any{created}}) {
				t.Errorf("list: got %d %v", r.StatusCode, b)
			}
			r, b = call(t, a, shape, "GET", "/orders/nope", "")
			if r.StatusCode != 404 || b["code"] != 404.0 || b["error"] == nil {
				t.Errorf("unknown order: got %d %v", r.StatusCode, b)
			}
			r, b = call(t, a, shape, "GET", "/no/such/path", "")
			if r.StatusCode != 404 || b["code"] != 404.0 {
				t.Errorf("unknown path: got %d %v", r.StatusCode, b)
			}
			r, b = call(t, a, shape, "DELETE", "/orders", "")
			if r.StatusCode != 405 || b["code"] != 405.0 || !strings.Contains(r.header("Allow"), "POST") {
				t.Errorf("wrong method: got %d %v Allow %q", r.StatusCode, b, r.header("Allow"))
			}
		})
	}
}

func TestCreateRejectsBadBodies(t *testing.T) {
	a := testApp()
	for _, body := range []string{
		``, `{`, `[]`, `"x"`, `{"item":"book"}`, `{"quantity":1}`, `{"item":"","quantity":1}`,
		`{"item":5,"quantity":1}`, `{"item":"book","quantity":0}`, `{"item":"book","quantity":-3}`,
		`{"item":"book","quantity":1.5}`, `{"item":"book","quantity":"2"}`, `{"item":null,"quantity":1}`,
		`{"item":"book","quantity":1} {"x":1}`, `{"item":"book","quantity":99999999999999999999}`,
	} {
		for shape := range shapes {
			r, b := call(t, a, shape, "POST", "/orders", body)
			if r.StatusCode != 400 || b["code"] != 400.0 || b["error"] == nil || b["step"] == nil {
				t.Errorf("%s body %s: got %d %v, want a 400 envelope", shape, body, r.StatusCode, b)
			}
		}
	}
	if _, b := call(t, a, "v2", "GET", "/orders", ""); len(b["orders"].([]any)) != 0 {
		t.Errorf("a rejected body created an order: %v", b)
	}
}

func TestS3Invoices(t *testing.T) {
	a := testApp()
	var e events.S3Event
	for _, key := range []string{"2026/my+invoice%2C+final.pdf", "caf%C3%A9.txt", "b"} {
		var rec events.S3EventRecord
		rec.EventSource = "aws:s3"
		rec.S3.Bucket.Name = "invoices.uat.example.io"
		rec.S3.Object.Key = key
		e.Records = append(e.Records, rec)
	}
	payload, _ := json.Marshal(e)
	out, err := a.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"processed":["2026/my invoice, final.pdf","café.txt","b"]}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	e.Records[0].S3.Bucket.Name = "receipts.uat.example.io"
	payload, _ = json.Marshal(e)
	if _, err := a.Invoke(context.Background(), payload); err == nil {
		t.Error("mixed buckets: got no error")
	}
}

func TestConcurrentOrders(t *testing.T) {
	a := testApp()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			payload, _ := json.Marshal(shapes["v2"]("POST", "/orders", fmt.Sprintf(`{"item":"i%d","quantity":%d}`, i, i+1)))
			if _, err := a.Invoke(context.Background(), payload); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	_, b := call(t, a, "v1", "GET", "/orders", "")
	orders := b["orders"].([]any)
	ids := map[any]bool{}
	for _, o := range orders {
		ids[o.(map[string]any)["id"]] = true
	}
	if len(orders) != 20 || len(ids) != 20 {
		t.Errorf("got %d orders with %d distinct ids, want 20", len(orders), len(ids))
	}
}
