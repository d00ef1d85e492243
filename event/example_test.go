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

func ExampleDecode_sqs() {
	payload := []byte(`{"Records": [
		{"messageId": "m1", "body": "{\"id\":\"42\",\"status\":\"paid\"}", "eventSource": "aws:sqs",
		 "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:order-events"},
		{"messageId": "m2", "body": "{\"id\":\"43\",\"status\":\"shipped\"}", "eventSource": "aws:sqs",
		 "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:order-events"}
	]}`)
	ev, err := event.Decode(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	batch, _ := event.As[events.SQSEvent](ev)
	for _, m := range batch.Records {
		fmt.Println(ev.Kind, m.MessageId, m.Body)
	}
	// Output:
	// sqs m1 {"id":"42","status":"paid"}
	// sqs m2 {"id":"43","status":"shipped"}
}

func ExampleSniff_eventBridge() {
	for _, payload := range []string{
		`{"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name": "invoices"}}}`,
		`{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}, "resources": ["arn:aws:events:eu-west-1:123456789012:rule/nightly"]}`,
	} {
		kind, err := event.Sniff([]byte(payload))
		fmt.Println(kind, err)
	}
	// Output:
	// eventbridge <nil>
	// schedule <nil>
}
