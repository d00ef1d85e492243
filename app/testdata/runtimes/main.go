// Command runtimes is the function of the differential test of the two
// runtime loops (TestRuntimeLoopsAgree): the same app, run on funcify's
// loop or, with FUNCIFY_RUNTIME=aws-lambda-go, on lambda.Start.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/logging"
)

func main() {
	if os.Getenv("FAIL_INIT") != "" {
		app.FailInit(errors.New("asked to fail at init"))
	}
	opts := []app.Option{app.WithLogger(logging.New(os.Stderr))}
	if os.Getenv("WITH_AWS_LAMBDA_GO") != "" {
		opts = append(opts, app.WithAWSLambdaGo())
	}
	a := app.New(opts...)
	if os.Getenv("SHUTDOWN_HOOK") != "" {
		a.OnShutdown(func(ctx context.Context) {
			_, ok := ctx.Deadline()
			fmt.Printf("shutdown hook ran, deadline set: %v\n", ok)
		})
	}
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		app.JSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id"), "item": "widget"})
	})
	// What the loop put in the context, for both loops to agree on.
	a.HandleFunc("GET /context", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		trace, _ := ctx.Value("x-amzn-trace-id").(string)
		app.JSON(w, r, http.StatusOK, map[string]any{
			"lambdaContext": lc,
			"deadline":      deadline.UTC().Format(time.RFC3339Nano),
			"traceContext":  trace,
			"traceEnv":      os.Getenv("_X_AMZN_TRACE_ID"),
		})
	})
	// GET /barrier answers once BARRIER invocations are in it at once, so
	// that a test sees that many loops at work; 504 if its deadline comes
	// first.
	want, _ := strconv.Atoi(os.Getenv("BARRIER"))
	var in atomic.Int32
	release := make(chan struct{})
	a.HandleFunc("GET /barrier", func(w http.ResponseWriter, r *http.Request) {
		if int(in.Add(1)) == want {
			close(release)
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		select {
		case <-release:
			app.JSON(w, r, http.StatusOK, map[string]int{"together": want})
		case <-ctx.Done():
			app.JSON(w, r, http.StatusGatewayTimeout, map[string]int32{"together": in.Load()})
		}
	})
	a.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		panic("asked to panic")
	})
	app.HandleS3(a, "invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		keys := []string{}
		for _, r := range e.Records {
			keys = append(keys, r.S3.Object.Key)
		}
		return map[string]any{"processed": keys}, nil
	})
	app.HandleEventBridge(a, "diff", "fail", func(ctx context.Context, e events.EventBridgeEvent, detail map[string]any) error {
		return errors.New("asked to fail")
	})
	app.HandleEventBridge(a, "diff", "panic", func(ctx context.Context, e events.EventBridgeEvent, detail map[string]any) error {
		panic("asked to panic")
	})
	a.Start()
}
