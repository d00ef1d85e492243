package logging_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/trace"
)

// withoutTime drops the time so that example output is stable.
func withoutTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// lambdaInvocation returns a context like the one aws-lambda-go passes to a
// handler.
func lambdaInvocation() context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
	})
}

func Example() {
	var warm atomic.Bool // package-level in a real function

	logger := slog.New(logging.NewHandler(slog.NewJSONHandler(os.Stdout,
		&slog.HandlerOptions{ReplaceAttr: withoutTime})))

	// At the start of each invocation:
	ctx := lambdaInvocation()
	ctx = logging.WithColdStart(ctx, !warm.Swap(true))
	ctx = trace.NewContext(ctx, trace.Span{
		TraceID: "1-5759e988-bd862e3fe1be46a994272793",
		SpanID:  "53995c3f42cd8ad8",
	})

	logger.InfoContext(ctx, "order received", "order_id", "o-17")
	// Output:
	// {"level":"INFO","msg":"order received","order_id":"o-17","aws_request_id":"8476a536-e9f4-11e8-9739-2dfe598c3fcd","cold_start":true,"trace_id":"1-5759e988-bd862e3fe1be46a994272793","span_id":"53995c3f42cd8ad8"}
}

func ExampleNew() {
	var buf bytes.Buffer
	logger := logging.New(&buf)

	logger.InfoContext(lambdaInvocation(), "order received", "order_id", "o-17")

	timestamp := regexp.MustCompile(`"timestamp":"[^"]+"`)
	fmt.Print(timestamp.ReplaceAllString(buf.String(), `"timestamp":"..."`))
	// Output:
	// {"timestamp":"...","level":"INFO","message":"order received","order_id":"o-17","aws_request_id":"8476a536-e9f4-11e8-9739-2dfe598c3fcd"}
}

func ExampleNewHandler() {
	h := logging.NewHandler(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: withoutTime}))
	logger := slog.New(h)

	logger.InfoContext(lambdaInvocation(), "with an invocation")
	logger.Info("without one")
	// Output:
	// level=INFO msg="with an invocation" aws_request_id=8476a536-e9f4-11e8-9739-2dfe598c3fcd
	// level=INFO msg="without one"
}

func ExampleHandler_WithGroup() {
	logger := slog.New(logging.NewHandler(slog.NewJSONHandler(os.Stdout,
		&slog.HandlerOptions{ReplaceAttr: withoutTime})))

	// The invocation attributes stay at the top level, outside the group.
	logger.WithGroup("order").InfoContext(lambdaInvocation(), "paid", "id", "o-17", "amount", 12.5)
	// Output:
	// {"level":"INFO","msg":"paid","order":{"id":"o-17","amount":12.5},"aws_request_id":"8476a536-e9f4-11e8-9739-2dfe598c3fcd"}
}

func ExampleWithColdStart() {
	logger := slog.New(logging.NewHandler(slog.NewTextHandler(os.Stdout,
		&slog.HandlerOptions{ReplaceAttr: withoutTime})))

	var started atomic.Bool // package-level in a real function
	for range 2 {
		ctx := logging.WithColdStart(context.Background(), !started.Swap(true))
		logger.InfoContext(ctx, "invoked")
	}
	// Output:
	// level=INFO msg=invoked cold_start=true
	// level=INFO msg=invoked cold_start=false
}

func ExampleLevelFromEnv() {
	// A logger like New's, with source locations, on stderr, made the
	// default. On Lambda, AWS_LAMBDA_LOG_LEVEL is set from the function's
	// logging configuration.
	logger := slog.New(logging.NewHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{
		AddSource:   true,
		Level:       logging.LevelFromEnv(),
		ReplaceAttr: logging.ReplaceAttr,
	})))
	slog.SetDefault(logger)
}

func ExampleReplaceAttr() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		Level: logging.LevelTrace,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			return logging.ReplaceAttr(groups, withoutTime(groups, a))
		},
	}))
	logger.Log(context.Background(), logging.LevelTrace, "cache lookup")
	logger.Log(context.Background(), slog.LevelError+2, "retry failed")
	// Output:
	// {"level":"TRACE","message":"cache lookup"}
	// {"level":"ERROR","message":"retry failed"}
}

func ExampleSecret() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: withoutTime}))

	token := logging.Secret("eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo")
	logger.Info("calling API", "token", token)
	fmt.Printf("%v %#v\n", token, token)
	// Output:
	// level=INFO msg="calling API" token=[REDACTED]
	// [REDACTED] [REDACTED]
}
