package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/event"
)

// quiet keeps the examples' log lines out of their output.
var quiet = app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))

func Example() {
	a := app.New(quiet)
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		app.JSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})

	// In main, a.Start() runs the function. Here it is invoked directly
	// with an HTTP API event, as the Lambda runtime would.
	out, err := a.Invoke(context.Background(), []byte(`{
		"version": "2.0", "rawPath": "/orders/42",
		"requestContext": {"http": {"method": "GET", "path": "/orders/42"}}
	}`))
	fmt.Println(string(out), err)
	// Output: {"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"id\":\"42\"}","isBase64Encoded":false} <nil>
}

func ExampleNew() {
	a := app.New(
		quiet,
		app.WithGuard(func(ctx context.Context) error {
			if os.Getenv("ORDERS_TABLE") == "" {
				return app.NewError(http.StatusServiceUnavailable, "not configured")
			}
			return nil
		}),
		app.WithProblemDetails(),
	)
	a.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})

	out, _ := a.Invoke(context.Background(), []byte(`{"httpMethod": "GET", "path": "/health", "requestContext": {}}`))
	fmt.Println(string(out))
	// Output: {"statusCode":503,"headers":{"Content-Type":"application/problem+json"},"multiValueHeaders":{"Content-Type":["application/problem+json"]},"body":"{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"not configured\",\"step\":\"guard\",\"ctx\":{}}","isBase64Encoded":false}
}

func ExampleApp_Handle() {
	a := app.New(quiet)
	a.Handle("GET /static/", http.StripPrefix("/static", http.FileServerFS(os.DirFS("."))))
	a.Handle("GET /hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	out, _ := a.Invoke(context.Background(), []byte(`{"httpMethod": "GET", "path": "/hello", "requestContext": {"elb": {"targetGroupArn": "arn"}}}`))
	fmt.Println(string(out))
	// Output: {"statusCode":200,"statusDescription":"200 OK","headers":{"Content-Type":"application/json"},"body":"hello","isBase64Encoded":false}
}

func ExampleApp_HandleFunc() {
	a := app.New(quiet)
	a.HandleFunc("GET /files/{path...}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "file %s", r.PathValue("path"))
	})
	out, _ := a.Invoke(context.Background(), []byte(`{"httpMethod": "GET", "path": "/files/a/b.txt", "requestContext": {}}`))
	fmt.Println(string(out))
	// Output: {"statusCode":200,"headers":{"Content-Type":"text/plain"},"multiValueHeaders":{"Content-Type":["text/plain"]},"body":"file a/b.txt","isBase64Encoded":false}
}

func ExampleApp_Use() {
	a := app.New(quiet)
	a.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r)
		})
	})
	a.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {})
	out, _ := a.Invoke(context.Background(), []byte(`{"version": "2.0", "rawPath": "/", "requestContext": {"http": {"method": "GET"}}}`))
	fmt.Println(string(out))
	// Output: {"statusCode":200,"headers":{"cache-control":"no-store"},"body":"","isBase64Encoded":false}
}

func ExampleApp_HandleS3() {
	a := app.New(quiet)
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		var keys []string
		for _, r := range e.Records {
			keys = append(keys, r.S3.Object.Key) // already URL-decoded
		}
		return map[string]any{"processed": keys}, nil
	})
	out, err := a.Invoke(context.Background(), []byte(`{"Records": [{"eventSource": "aws:s3",
		"s3": {"bucket": {"name": "invoices.uat.example.io"}, "object": {"key": "my+invoice%2C+v2.pdf"}}}]}`))
	fmt.Println(string(out), err)

	_, err = a.Invoke(context.Background(), []byte(`{"Records": [{"eventSource": "aws:s3",
		"s3": {"bucket": {"name": "receipts.uat.example.io"}, "object": {"key": "r.pdf"}}}]}`))
	fmt.Println(err, errors.Is(err, app.ErrNoRoute))
	// Output:
	// {"processed":["my invoice, v2.pdf"]} <nil>
	// app: no route: s3 route "receipts" is not registered true
}

func ExampleHandleS3() {
	a := app.New(quiet)
	app.HandleS3(a, "invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		return len(e.Records), nil
	})
	out, err := a.Invoke(context.Background(), []byte(`{"Records": [{"eventSource": "aws:s3",
		"s3": {"bucket": {"name": "invoices.prod.example.io"}, "object": {"key": "a.pdf"}}}]}`))
	fmt.Println(string(out), err)

	// A bucket with no route fails the invocation with a *RouteError.
	_, err = a.Invoke(context.Background(), []byte(`{"Records": [{"eventSource": "aws:s3",
		"s3": {"bucket": {"name": "receipts.prod.example.io"}, "object": {"key": "r.pdf"}}}]}`))
	var re *app.RouteError
	fmt.Println(errors.As(err, &re), re.Kind, re.Key)
	// Output:
	// 1 <nil>
	// true s3 receipts
}

func ExampleWithRouteKey() {
	// Buckets are named "<env>-<name>": route on the name alone.
	a := app.New(quiet, app.WithRouteKey(event.S3, func(bucket string) string {
		_, name, _ := strings.Cut(bucket, "-")
		return name
	}))
	app.HandleS3(a, "reports", func(ctx context.Context, e events.S3Event) (any, error) {
		return e.Records[0].S3.Bucket.Name, nil
	})
	out, err := a.Invoke(context.Background(), []byte(`{"Records": [{"eventSource": "aws:s3",
		"s3": {"bucket": {"name": "staging-reports"}, "object": {"key": "a"}}}]}`))
	fmt.Println(string(out), err)
	// Output: "staging-reports" <nil>
}

type newOrder struct {
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
}

func (o newOrder) Validate() error {
	if o.Quantity <= 0 {
		return errors.New(`"quantity" must be greater than 0`)
	}
	return nil
}

func ExampleDecodeJSON() {
	a := app.New(quiet)
	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		o, err := app.DecodeJSON[newOrder](r)
		if err != nil {
			app.WriteError(w, r, err) // 400 envelope
			return
		}
		app.JSON(w, r, http.StatusCreated, o)
	})
	for _, body := range []string{`{"item":"book","quantity":2}`, `{"item":"book","quantity":0}`} {
		out, _ := a.Invoke(context.Background(), []byte(`{"version": "2.0", "rawPath": "/orders",
			"requestContext": {"http": {"method": "POST"}}, "body": `+fmt.Sprintf("%q", body)+`}`))
		fmt.Println(string(out))
	}
	// Output:
	// {"statusCode":201,"headers":{"content-type":"application/json"},"body":"{\"item\":\"book\",\"quantity\":2}","isBase64Encoded":false}
	// {"statusCode":400,"headers":{"content-type":"application/json"},"body":"{\"error\":\"invalid request: \\\"quantity\\\" must be greater than 0\",\"code\":400,\"step\":\"parse\",\"ctx\":{}}","isBase64Encoded":false}
}

func ExampleWriteError() {
	a := app.New(quiet)
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "1" {
			app.WriteError(w, r, &app.Error{Status: http.StatusNotFound, Message: "order not found",
				Ctx: map[string]any{"id": r.PathValue("id")}})
			return
		}
		// Any other error is a 500 whose cause stays in the log.
		app.WriteError(w, r, errors.New("db: connection refused"))
	})
	for _, path := range []string{"/orders/7", "/orders/1"} {
		out, _ := a.Invoke(context.Background(), []byte(`{"version": "2.0", "rawPath": "`+path+`", "requestContext": {"http": {"method": "GET"}}}`))
		fmt.Println(string(out))
	}
	// Output:
	// {"statusCode":404,"headers":{"content-type":"application/json"},"body":"{\"error\":\"order not found\",\"code\":404,\"step\":\"handler\",\"ctx\":{\"id\":\"7\"}}","isBase64Encoded":false}
	// {"statusCode":500,"headers":{"content-type":"application/json"},"body":"{\"error\":\"internal error\",\"code\":500,\"step\":\"handler\",\"ctx\":{}}","isBase64Encoded":false}
}

func ExampleStatusOf() {
	err := fmt.Errorf("checking token: %w", app.NewError(http.StatusUnauthorized, "invalid token"))
	fmt.Println(app.StatusOf(err), app.StatusOf(errors.New("boom")))
	// Output: 401 500
}

func ExampleWithPolicyInformation() {
	type subjectKey struct{}
	a := app.New(quiet, app.WithPolicyInformation(func(r *http.Request) (context.Context, error) {
		user := r.Header.Get("X-User")
		if user == "" {
			return nil, app.NewError(http.StatusUnauthorized, "who are you?")
		}
		return context.WithValue(r.Context(), subjectKey{}, user), nil
	}))
	a.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"user":%q}`, r.Context().Value(subjectKey{}))
	})
	for _, h := range []string{`{"x-user": "alice"}`, `{}`} {
		out, _ := a.Invoke(context.Background(), []byte(`{"version": "2.0", "rawPath": "/me", "headers": `+h+`, "requestContext": {"http": {"method": "GET"}}}`))
		fmt.Println(string(out))
	}
	// Output:
	// {"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"user\":\"alice\"}","isBase64Encoded":false}
	// {"statusCode":401,"headers":{"content-type":"application/json"},"body":"{\"error\":\"who are you?\",\"code\":401,\"step\":\"policy-information\",\"ctx\":{}}","isBase64Encoded":false}
}

func ExampleWithParser() {
	a := app.New(quiet, app.WithParser(func(r *http.Request) (*http.Request, error) {
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
			return nil, app.NewError(http.StatusUnsupportedMediaType, "send JSON")
		}
		return r, nil
	}))
	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {})
	out, _ := a.Invoke(context.Background(), []byte(`{"version": "2.0", "rawPath": "/orders", "requestContext": {"http": {"method": "POST"}}}`))
	fmt.Println(string(out))
	// Output: {"statusCode":415,"headers":{"content-type":"application/json"},"body":"{\"error\":\"send JSON\",\"code\":415,\"step\":\"parse\",\"ctx\":{}}","isBase64Encoded":false}
}

func ExampleWithS3RouteKey() {
	a := app.New(quiet, app.WithS3RouteKey(func(bucket string) string { return bucket }))
	a.HandleS3("acme-reports", func(ctx context.Context, e events.S3Event) (any, error) { return len(e.Records), nil })
	out, _ := a.Invoke(context.Background(), []byte(`{"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "acme-reports"}, "object": {"key": "a"}}}]}`))
	fmt.Println(string(out))
	// Output: 1
}

func ExampleBucketPrefix() {
	fmt.Println(app.BucketPrefix("invoices.uat.example.io"))
	// Output: invoices
}
