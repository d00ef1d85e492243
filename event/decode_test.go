package event

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file  string
		kind  Kind
		check func(t *testing.T, v any)
	}{
		{"apigateway-v1-proxy.json", APIGatewayV1, func(t *testing.T, v any) {
			r := v.(*events.APIGatewayProxyRequest)
			if r.Resource != "/{proxy+}" || r.Path != "/orders/42/items" || r.HTTPMethod != "POST" {
				t.Errorf("got resource %q path %q method %q", r.Resource, r.Path, r.HTTPMethod)
			}
			if got := r.MultiValueHeaders["X-Tag"]; !reflect.DeepEqual(got, []string{"a", "b"}) {
				t.Errorf("got X-Tag %q, want [a b]", got)
			}
			if got := r.RequestContext.Identity.SourceIP; got != "203.0.113.9" {
				t.Errorf("got source IP %q", got)
			}
		}},
		{"apigateway-v2-base64.json", APIGatewayV2, func(t *testing.T, v any) {
			r := v.(*events.APIGatewayV2HTTPRequest)
			if !r.IsBase64Encoded || r.Body != "AAECA/7/" {
				t.Errorf("got body %q base64 %v", r.Body, r.IsBase64Encoded)
			}
			if !reflect.DeepEqual(r.Cookies, []string{"sid=abc", "theme=dark"}) {
				t.Errorf("got cookies %q", r.Cookies)
			}
			if r.RequestContext.HTTP.Method != "POST" {
				t.Errorf("got method %q", r.RequestContext.HTTP.Method)
			}
		}},
		{"function-url.json", FunctionURL, func(t *testing.T, v any) {
			r := v.(*events.LambdaFunctionURLRequest)
			if r.RawPath != "/orders" || r.RequestContext.HTTP.Method != "GET" {
				t.Errorf("got path %q method %q", r.RawPath, r.RequestContext.HTTP.Method)
			}
		}},
		{"alb-single.json", ALB, func(t *testing.T, v any) {
			r := v.(*events.ALBTargetGroupRequest)
			if r.QueryStringParameters["q"] != "red%20shoes" || r.MultiValueHeaders != nil {
				t.Errorf("got query %q multi %v", r.QueryStringParameters, r.MultiValueHeaders)
			}
		}},
		{"alb-multi.json", ALB, func(t *testing.T, v any) {
			r := v.(*events.ALBTargetGroupRequest)
			if got := r.MultiValueHeaders["cookie"]; len(got) != 2 || r.Headers != nil {
				t.Errorf("got cookie %q headers %v", got, r.Headers)
			}
		}},
		{"apigateway-http-v1.json", APIGatewayV1, func(t *testing.T, v any) {
			r := v.(*events.APIGatewayProxyRequest)
			if r.Path != "/files/report 100%.pdf" || r.HTTPMethod != "GET" || r.RequestContext.Stage != "$default" {
				t.Errorf("got path %q method %q stage %q", r.Path, r.HTTPMethod, r.RequestContext.Stage)
			}
		}},
		{"bench-http-v2.json", APIGatewayV2, func(t *testing.T, v any) {
			if r := v.(*events.APIGatewayV2HTTPRequest); r.RequestContext.HTTP.Method != "GET" {
				t.Errorf("got method %q", r.RequestContext.HTTP.Method)
			}
		}},
		{"s3-one-record.json", S3, func(t *testing.T, v any) {
			if r := v.(*events.S3Event); len(r.Records) != 1 {
				t.Errorf("got %d records, want 1", len(r.Records))
			}
		}},
		{"s3-encoded-keys.json", S3, func(t *testing.T, v any) {
			r := v.(*events.S3Event)
			if len(r.Records) != 2 || r.Records[0].S3.Object.Key != "2026/11/my+invoice%2C+final%3F.pdf" {
				t.Errorf("got %d records, first key %q", len(r.Records), r.Records[0].S3.Object.Key)
			}
		}},
		{"sqs.json", SQS, func(t *testing.T, v any) {
			r := v.(*events.SQSEvent)
			if len(r.Records) == 0 || r.Records[0].MessageId == "" || r.Records[0].EventSourceARN == "" {
				t.Errorf("got %+v", r.Records)
			}
		}},
		{"sqs-fifo.json", SQS, func(t *testing.T, v any) {
			r := v.(*events.SQSEvent)
			if a := r.Records[0].Attributes; a["MessageGroupId"] != "tenant-acme" || a["SequenceNumber"] == "" {
				t.Errorf("got attributes %v", a)
			}
		}},
		{"sqs-batch-10.json", SQS, func(t *testing.T, v any) {
			if r := v.(*events.SQSEvent); len(r.Records) != 10 || len(r.Records[9].Body) < 1000 {
				t.Errorf("got %d records", len(r.Records))
			}
		}},
		{"sns-via-sqs.json", SQS, func(t *testing.T, v any) {
			if r := v.(*events.SQSEvent); !strings.Contains(r.Records[0].Body, "Notification") {
				t.Errorf("got body %q", r.Records[0].Body)
			}
		}},
		{"s3-via-sqs.json", SQS, func(t *testing.T, v any) {
			if r := v.(*events.SQSEvent); !strings.Contains(r.Records[0].Body, "aws:s3") {
				t.Errorf("got body %q", r.Records[0].Body)
			}
		}},
		{"sns.json", SNS, func(t *testing.T, v any) {
			r := v.(*events.SNSEvent)
			if m := r.Records[0].SNS; m.Message != "order 4711 shipped" || m.TopicArn != "arn:aws:sns:eu-west-1:210987654321:order-events" || m.Timestamp.IsZero() {
				t.Errorf("got %+v", m)
			}
		}},
		{"eventbridge.json", EventBridge, func(t *testing.T, v any) {
			r := v.(*events.EventBridgeEvent)
			if r.Source != "com.example.orders" || r.DetailType != "Order Shipped" || len(r.Detail) == 0 {
				t.Errorf("got source %q detail-type %q detail %s", r.Source, r.DetailType, r.Detail)
			}
		}},
		{"s3-eventbridge-object-created.json", EventBridge, func(t *testing.T, v any) {
			if r := v.(*events.EventBridgeEvent); r.Source != "aws.s3" || r.DetailType != "Object Created" {
				t.Errorf("got source %q detail-type %q", r.Source, r.DetailType)
			}
		}},
		{"eventbridge-scheduled.json", Schedule, func(t *testing.T, v any) {
			r := v.(*events.EventBridgeEvent)
			if len(r.Resources) != 1 || r.Resources[0] != "arn:aws:events:eu-west-1:210987654321:rule/nightly-invoices" || r.Time.IsZero() {
				t.Errorf("got resources %q time %v", r.Resources, r.Time)
			}
		}},
		{"dynamodb-stream.json", DynamoDBStream, func(t *testing.T, v any) {
			r := v.(*events.DynamoDBEvent).Records[0]
			if r.EventName != "MODIFY" || r.Change.Keys["pk"].String() != "ORDER#4711" ||
				r.Change.NewImage["status"].String() != "shipped" || r.Change.OldImage["status"].String() != "paid" ||
				r.Change.SequenceNumber != "720000000000012345678" || r.Change.ApproximateCreationDateTime.IsZero() {
				t.Errorf("got %+v", r)
			}
		}},
		{"kinesis-stream.json", Kinesis, func(t *testing.T, v any) {
			r := v.(*events.KinesisEvent).Records[0]
			if string(r.Kinesis.Data) != `{"orderId":"4711","status":"shipped"}` || r.Kinesis.PartitionKey != "order-4711" {
				t.Errorf("got data %q partition key %q", r.Kinesis.Data, r.Kinesis.PartitionKey)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			payload := readFixture(t, tt.file)
			k, err := Sniff(payload)
			if err != nil || k != tt.kind {
				t.Fatalf("Sniff: got %v, %v; want %v", k, err, tt.kind)
			}
			ev, err := Decode(payload)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ev.Kind != tt.kind {
				t.Fatalf("got kind %v, want %v", ev.Kind, tt.kind)
			}
			tt.check(t, ev.Value)
			checkAgainstEncodingJSON(t, ev)
		})
	}
}

// checkAgainstEncodingJSON decodes the event's payload again with
// encoding/json, as aws-lambda-go itself would, and wants the same value.
func checkAgainstEncodingJSON(t *testing.T, ev *Event) {
	t.Helper()
	want := reflect.New(reflect.TypeOf(ev.Value).Elem())
	if err := json.Unmarshal(ev.Payload, want.Interface()); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if !reflect.DeepEqual(ev.Value, want.Interface()) {
		t.Errorf("go-json-experiment and encoding/json disagree:\n got %+v\nwant %+v", ev.Value, want.Interface())
	}
}

// awsSamples returns the event samples shipped with the aws-lambda-go module
// in use, read from the module cache.
func awsSamples(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("go list gave no directory for github.com/aws/aws-lambda-go: run go mod download")
	}
	files, err := filepath.Glob(filepath.Join(dir, "events", "testdata", "*.json"))
	if err != nil || len(files) < 50 {
		t.Fatalf("found %d samples in %s (%v)", len(files), dir, err)
	}
	return files
}

func TestAWSSamples(t *testing.T) {
	// The kind of every sample that is an event funcify knows; every other
	// sample (responses, other sources, authorizer and WebSocket requests,
	// the tumbling-window stream batches, CodeCommit's and SES's own
	// records) is of no known kind, save the one sample that is truncated
	// JSON.
	known := map[string]Kind{
		"alb-lambda-target-request-headers-only.json":       ALB,
		"alb-lambda-target-request-multivalue-headers.json": ALB,
		"apigw-request.json":                                APIGatewayV1,
		"apigw-restapi-openapi-request.json":                APIGatewayV1,
		"apigw-v2-request-iam.json":                         APIGatewayV2,
		"apigw-v2-request-jwt-authorizer.json":              APIGatewayV2,
		"apigw-v2-request-lambda-authorizer.json":           APIGatewayV2,
		"apigw-v2-request-no-authorizer.json":               APIGatewayV2,
		"lambda-urls-request.json":                          FunctionURL,
		"s3-event.json":                                     S3,
		"s3-event-with-decoded.json":                        S3,
		"s3-glacier-event.json":                             S3,
		"s3-intelligenttier-event.json":                     S3,
		"s3-lifecycle-event.json":                           S3,
		"s3-replication-event.json":                         S3,
		"s3-restore-event.json":                             S3,
		"sqs-event.json":                                    SQS,
		"sns-event.json":                                    SNS,
		// CloudWatch alarm notifications sent to a topic.
		"cloudwatch-alarm-sns-payload-multiple-metrics.json": SNS,
		"cloudwatch-alarm-sns-payload-single-metric.json":    SNS,
		"dynamodb-event.json":                                DynamoDBStream,
		"kinesis-event.json":                                 Kinesis,
		// Events of AWS services, as EventBridge delivers them.
		"autoscaling-event-launch-successful.json":              EventBridge,
		"autoscaling-event-launch-unsuccessful.json":            EventBridge,
		"autoscaling-event-lifecycle-action.json":               EventBridge,
		"autoscaling-event-terminate-action.json":               EventBridge,
		"autoscaling-event-terminate-successful.json":           EventBridge,
		"autoscaling-event-terminate-unsuccessful.json":         EventBridge,
		"codebuild-phase-change.json":                           EventBridge,
		"codebuild-state-change.json":                           EventBridge,
		"codedeploy-deployment-event.json":                      EventBridge,
		"codedeploy-instance-event.json":                        EventBridge,
		"codepipeline-action-execution-stage-change-event.json": EventBridge,
		"codepipeline-execution-stage-change-event.json":        EventBridge,
		"codepipeline-execution-state-change-event.json":        EventBridge,
		"ecr-image-push-event.json":                             EventBridge,
		"ecr-image-scan-event.json":                             EventBridge,
		"ecs-container-instance-state-change.json":              EventBridge,
	}
	malformed := map[string]bool{"dynamodb-event-malformed.2.json": true}
	seen := 0
	for _, f := range awsSamples(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := Decode(payload)
			switch want, ok := known[name]; {
			case ok:
				seen++
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if ev.Kind != want {
					t.Fatalf("got kind %v, want %v", ev.Kind, want)
				}
				checkAgainstEncodingJSON(t, ev)
			case malformed[name]:
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("got %v, want ErrMalformed", err)
				}
			default:
				if !errors.Is(err, ErrUnknownKind) {
					t.Fatalf("got %v, %v; want ErrUnknownKind", ev, err)
				}
			}
		})
	}
	if seen != len(known) {
		t.Errorf("found %d of the %d known samples", seen, len(known))
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name       string
		payload    string
		want       error
		kind       Kind
		wantOffset bool
		detail     string
	}{
		{"nil", "", ErrEmpty, Unknown, false, ""},
		{"blank", " \n\t ", ErrEmpty, Unknown, false, ""},
		{"garbage", "not json", ErrMalformed, Unknown, true, ""},
		{"truncated", `{"httpMethod": "GET", "path": "/", "requestContext": {`, ErrMalformed, APIGatewayV1, true, ""},
		{"trailing", `{"a": 1} x`, ErrMalformed, Unknown, true, ""},
		{"unclosed string", `{"a": "b`, ErrMalformed, Unknown, true, ""},
		{"bad nesting", `{"a": [1}`, ErrMalformed, Unknown, true, ""},
		{"wrong type", `{"httpMethod": 5, "path": "/"}`, ErrMalformed, APIGatewayV1, true, "httpMethod"},
		{"wrong type v2", `{"version": "2.0", "requestContext": {"http": {"method": ["GET"]}}}`, ErrMalformed, APIGatewayV2, true, "method"},
		{"duplicate name", `{"httpMethod": "GET", "httpMethod": "POST", "path": "/", "requestContext": {}}`, ErrMalformed, APIGatewayV1, true, "duplicate"},
		{"unknown object", `{"hello": "world", "n": 1}`, ErrUnknownKind, Unknown, false, "hello"},
		{"array", `[1, 2]`, ErrUnknownKind, Unknown, false, "array"},
		{"string", `"hi"`, ErrUnknownKind, Unknown, false, "string"},
		{"null", `null`, ErrUnknownKind, Unknown, false, "null"},
		{"empty object", `{}`, ErrUnknownKind, Unknown, false, ""},
		{"records of another source", `{"Records": [{"eventSource": "aws:codecommit"}]}`, ErrUnknownKind, Unknown, false, "Records"},
		{"records empty", `{"Records": []}`, ErrUnknownKind, Unknown, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode([]byte(tt.payload))
			if ev != nil {
				t.Fatalf("got event %+v, want nil", ev)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T, want *Error", err)
			}
			if e.Kind != tt.kind {
				t.Errorf("got kind %v, want %v", e.Kind, tt.kind)
			}
			if got := e.Offset >= 0; got != tt.wantOffset {
				t.Errorf("got offset %d, want one: %v", e.Offset, tt.wantOffset)
			}
			if !strings.Contains(err.Error(), tt.detail) || !strings.HasPrefix(err.Error(), "event: ") {
				t.Errorf("got message %q, want it to name %q", err, tt.detail)
			}
		})
	}
}

func TestMinimalEvents(t *testing.T) {
	for payload, want := range map[string]Kind{
		`{"httpMethod": "GET", "path": "/health"}`:                                                APIGatewayV1,
		`{"version": "2.0", "rawPath": "/health", "requestContext": {"http": {"method": "GET"}}}`: APIGatewayV2,
		`{"httpMethod": "GET", "path": "/", "requestContext": {"elb": {}}}`:                       ALB,
		`{"Records": [{"eventSource": "aws:s3"}]}`:                                                S3,
		`{"Records": [{"eventSource": "aws:sqs"}]}`:                                               SQS,
		`{"Records": [{"EventSource": "aws:sns"}]}`:                                               SNS,
		`{"Records": [{"eventSource": "aws:dynamodb"}]}`:                                          DynamoDBStream,
		`{"Records": [{"eventSource": "aws:kinesis"}]}`:                                           Kinesis,
		`{"source": "com.example", "detail-type": "Thing Done", "detail": {}}`:                    EventBridge,
		`{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}`:                Schedule,
	} {
		if ev, err := Decode([]byte(payload)); err != nil || ev.Kind != want {
			t.Errorf("%s: got %v, %v; want %v", payload, ev, err, want)
		}
	}
}

func TestAs(t *testing.T) {
	ev, err := Decode(readFixture(t, "alb-single.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := As[events.ALBTargetGroupRequest](ev); !ok || r.HTTPMethod != "GET" {
		t.Errorf("As ALB: got %v, %v", r, ok)
	}
	if _, ok := As[events.S3Event](ev); ok {
		t.Error("As S3 on an ALB event: got ok")
	}
	if _, ok := As[events.S3Event](nil); ok {
		t.Error("As on nil: got ok")
	}
}

func TestKindString(t *testing.T) {
	for k := Unknown; k < numKinds; k++ {
		if s := k.String(); s == "" || strings.HasPrefix(s, "kind(") {
			t.Errorf("kind %d has no name", k)
		}
	}
	if got := Kind(200).String(); got != "kind(200)" {
		t.Errorf("got %q", got)
	}
	for k, want := range map[Kind]bool{APIGatewayV1: true, APIGatewayV2: true, FunctionURL: true, ALB: true, S3: false, Unknown: false,
		SQS: false, SNS: false, EventBridge: false, Schedule: false, DynamoDBStream: false, Kinesis: false} {
		if got := k.IsHTTP(); got != want {
			t.Errorf("%v.IsHTTP() = %v, want %v", k, got, want)
		}
	}
}

func TestSniffAllocs(t *testing.T) {
	for _, file := range []string{"apigateway-v1-proxy.json", "apigateway-v2-base64.json", "function-url.json", "alb-multi.json", "s3-encoded-keys.json",
		"sqs-batch-10.json", "sns.json", "eventbridge.json", "eventbridge-scheduled.json", "dynamodb-stream.json", "kinesis-stream.json"} {
		payload := readFixture(t, file)
		if n := testing.AllocsPerRun(100, func() { _, _ = Sniff(payload) }); n != 0 {
			t.Errorf("%s: Sniff allocates %v times, want 0", file, n)
		}
	}
}

// TestBase64AsEncodingJSON: binary fields (Kinesis data, SQS binary message
// attributes) decode as encoding/json decodes them, line breaks in the base64
// text and empty strings included, so a record aws-lambda-go accepts is not
// refused here.
func TestBase64AsEncodingJSON(t *testing.T) {
	for _, data := range []string{`"aGVsbG8="`, `"aGVs\nbG8="`, `"aGVs\r\nbG8="`, `""`, `null`} {
		payload := `{"Records": [{"eventSource": "aws:kinesis", "eventID": "shardId-000000000000:1", "kinesis": {"data": ` + data + `, "sequenceNumber": "1"}}]}`
		t.Run(data, func(t *testing.T) {
			ev, err := Decode([]byte(payload))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkAgainstEncodingJSON(t, ev)
		})
		payload = `{"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "messageAttributes": {"a": {"dataType": "Binary", "binaryValue": ` + data + `}}}]}`
		t.Run("sqs "+data, func(t *testing.T) {
			ev, err := Decode([]byte(payload))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkAgainstEncodingJSON(t, ev)
		})
	}
}
