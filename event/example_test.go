package event_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

func ExampleDecode() {
	payload := []byte(`{
		"version": "2.0",
		"rawPath": "/orders/42",
		"requestContext": {"http": {"method": "GET", "path": "/orders/42"}, "domainName": "api.example.com"}
	}`)
	ev, err := event.Decode(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	req := ev.Value.(*events.APIGatewayV2HTTPRequest)
	fmt.Println(ev.Kind, req.RequestContext.HTTP.Method, req.RawPath)
	// Output: apigateway-v2 GET /orders/42
}

func ExampleDecode_errors() {
	for _, payload := range []string{``, `{"httpMethod": "GET", "path": "/",`, `{"hello": "world"}`} {
		_, err := event.Decode([]byte(payload))
		switch {
		case errors.Is(err, event.ErrEmpty):
			fmt.Println("empty:", err)
		case errors.Is(err, event.ErrMalformed):
			fmt.Println("malformed:", err)
		case errors.Is(err, event.ErrUnknownKind):
			fmt.Println("unknown:", err)
		}
	}
	// Output:
	// empty: event: empty payload
	// malformed: event: malformed payload (apigateway-v1) at byte 34: unexpected EOF
	// unknown: event: unknown event kind: top-level keys [hello]
}

func ExampleSniff() {
	kind, err := event.Sniff([]byte(`{"Records": [{"eventSource": "aws:s3", "s3": {}}]}`))
	fmt.Println(kind, err, kind.IsHTTP())
	// Output: s3 <nil> false
}

func ExampleAs() {
	ev, _ := event.Decode([]byte(`{"httpMethod": "GET", "path": "/health", "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1"}}}`))
	if req, ok := event.As[events.ALBTargetGroupRequest](ev); ok {
		fmt.Println(ev.Kind, req.HTTPMethod, req.Path)
	}
	// Output: alb GET /health
}

func ExampleFromContext() {
	ev, _ := event.Decode([]byte(`{"Records": [{"eventSource": "aws:s3"}]}`))
	ctx := event.NewContext(context.Background(), ev)

	if got, ok := event.FromContext(ctx); ok {
		fmt.Println(got.Kind, len(got.Payload) > 0)
	}
	// Output: s3 true
}
