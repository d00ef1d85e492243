package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// TestReviewBaselineDecodesOnce: bareorders is the baseline that
// bench/invokecpu divides examples/orders' CPU and wall time by, and its doc
// says it is what "a user of aws-lambda-go alone would write". But its
// handler takes a json.RawMessage: aws-lambda-go's decoder scans the whole
// event and copies it into the RawMessage, then handle scans it again
// (json.Unmarshal validates before it decodes) and decodes it. A user writes
// a typed handler (func(ctx, events.APIGatewayProxyRequest)), which scans
// and decodes once; so does the in-process "bare" of BENCHMARKS.md's Invoke
// table. The extra pass and copy cost the baseline about a tenth of its CPU
// (cd bench && go run ./invokecpu -events v1 with a typed twin of
// bareorders beside it: 1.11x the typed baseline's CPU, 1.13x its wall), so
// the published ratios (0.45x CPU, 0.59x wall for v1) are flattered; against
// the typed baseline the same run gives 0.47-0.52x CPU.
//
// Right: the baseline decodes each event once, as a typed handler does: no
// more allocations per invocation than the typed handler below, which does
// the same work (route, answer, one slog line). A fix: pick the typed
// handler by an environment variable (invokecpu's PKG@KEY=VALUE rows), or
// implement lambda.Handler's Invoke on []byte and decode once.
func TestReviewBaselineDecodesOnce(t *testing.T) {
	f := &function{
		store: &store{orders: make(map[string]order)},
		log:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	typed := lambda.NewHandler(func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		start := time.Now()
		a := f.getOrder(req.HTTPMethod, req.Path)
		var requestID string
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			requestID = lc.AwsRequestID
		}
		f.log.InfoContext(ctx, "request",
			"aws_request_id", requestID, "method", req.HTTPMethod, "path", req.Path, "status", a.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
		return events.APIGatewayProxyResponse{StatusCode: a.status, Headers: jsonHeaders, Body: a.body}, nil
	})
	bare := lambda.NewHandler(f.handle)

	payload, err := os.ReadFile("../../testdata/rest_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "r"})
	want, err := typed.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	got, err := bare.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("the two handlers answer differently:\n got %s\nwant %s", got, want)
	}

	allocs := func(h lambda.Handler) float64 {
		return testing.AllocsPerRun(200, func() { h.Invoke(ctx, payload) })
	}
	if b, ty := allocs(bare), allocs(typed); b > ty {
		t.Errorf("bareorders' handler: %v allocations per invocation, want at most a typed aws-lambda-go handler's %v (the event is copied and scanned twice)", b, ty)
	}
}
