package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnhandledSamples sniffs and decodes one sample of every event kind
// funcify does not handle, written after the events of AWS's own services
// (the kinds Powertools for AWS Lambda tests its parsers against, and a few
// more): none may be taken for an event of a known kind, since it would be
// routed and answered as one (an HTTP request, a batch of queue or stream
// records), and every one is valid JSON of no known kind.
func TestUnhandledSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "unhandled", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The samples that look most like HTTP events must be there: a test
	// that lost them would pass without testing anything.
	mustHave := []string{
		"bedrock-agent-get.json", "bedrock-agent-path-params.json", "bedrock-agent-post.json",
		"vpc-lattice-v1.json", "vpc-lattice-v2.json",
		"apigateway-authorizer-token.json", "apigateway-authorizer-request-rest.json",
		"apigateway-authorizer-request-http-v1.json", "apigateway-authorizer-request-http-v2.json",
		"apigateway-websocket-connect.json",
		// The ones nearest the record and EventBridge kinds.
		"ses.json", "firehose-put.json", "firehose-kinesis-source.json", "kafka-msk.json", "activemq.json",
		"cloudwatch-alarm.json", "cloudwatch-logs.json", "cloudformation-custom-resource-create.json",
	}
	have := map[string]bool{}
	for _, f := range files {
		have[filepath.Base(f)] = true
	}
	for _, name := range mustHave {
		if !have[name] {
			t.Errorf("sample %s is missing", name)
		}
	}
	if len(files) < 48 {
		t.Errorf("found %d samples, want at least 48", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			k, err := Sniff(payload)
			if k != Unknown || !errors.Is(err, ErrUnknownKind) {
				t.Errorf("Sniff: got %v, %v; want unknown kind", k, err)
			}
			if ev, err := Decode(payload); ev != nil || !errors.Is(err, ErrUnknownKind) {
				got := Unknown
				if ev != nil {
					got = ev.Kind
				}
				t.Errorf("Decode: got kind %v, %v; want ErrUnknownKind", got, err)
			}
		})
	}
}

// TestRESTNeedsItsFields: a payload is a REST (or HTTP API 1.0) or ALB event
// only with the members such an event always has, httpMethod and path.
func TestRESTNeedsItsFields(t *testing.T) {
	for _, tt := range []struct {
		name    string
		payload string
		want    Kind
	}{
		{"rest", `{"httpMethod": "GET", "path": "/orders"}`, APIGatewayV1},
		{"rest without path", `{"httpMethod": "GET", "resource": "/orders"}`, Unknown},
		{"bedrock agent", `{"httpMethod": "GET", "apiPath": "/orders", "agent": {"name": "a"}, "actionGroup": "g"}`, Unknown},
		{"alb", `{"httpMethod": "GET", "path": "/", "requestContext": {"elb": {}}}`, ALB},
		{"alb without path", `{"httpMethod": "GET", "requestContext": {"elb": {}}}`, Unknown},
		{"request authorizer", `{"type": "REQUEST", "methodArn": "arn:x", "httpMethod": "GET", "path": "/"}`, Unknown},
		{"authorizer without an arn", `{"type": "REQUEST", "httpMethod": "GET", "path": "/", "identitySource": "x"}`, Unknown},
		{"websocket", `{"httpMethod": "GET", "path": "/", "requestContext": {"connectionId": "c"}}`, Unknown},
		{"vpc lattice v2", `{"version": "2.0", "method": "GET", "path": "/", "requestContext": {"serviceArn": "arn:x"}}`, Unknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Sniff([]byte(tt.payload))
			if k != tt.want {
				t.Errorf("got %v, %v; want %v", k, err, tt.want)
			}
		})
	}
}

// TestFunctionURLDomain: an HTTP API 2.0 payload is a function URL event only
// when its domain is a function URL's own, <url-id>.lambda-url.<region>.on.aws.
func TestFunctionURLDomain(t *testing.T) {
	for _, tt := range []struct {
		domain string
		want   Kind
	}{
		{"a1b2c3d4e5f6g7h8.lambda-url.eu-west-1.on.aws", FunctionURL},
		{"a1b2c3d4e5f6g7h8.lambda-url.us-gov-west-1.on.aws", FunctionURL},
		{"api.lambda-url.example.com", APIGatewayV2},
		{"a1b2c3.lambda-url.eu-west-1.on.aws.example.com", APIGatewayV2},
		{"lambda-url.eu-west-1.on.aws", APIGatewayV2},
		{".lambda-url.eu-west-1.on.aws", APIGatewayV2},
		{"a1b2c3.lambda-url..on.aws", APIGatewayV2},
		{"a1b2c3.lambda-url.eu.west-1.on.aws", APIGatewayV2},
		{"a1b2c3.lambda-url.eu-west-1.on.aws.", APIGatewayV2},
		{"api.a1b2c3.lambda-url.eu-west-1.on.aws", APIGatewayV2}, // a url-id has no dot
		{"a1b2c3.lambda-url.lambda-url.eu-west-1.on.aws", APIGatewayV2},
		{"orders.7d6c5b4a.vpc-lattice-svcs.eu-west-1.on.aws", APIGatewayV2},
		{"p8m2n4v6cd.execute-api.eu-west-1.amazonaws.com", APIGatewayV2},
		{"", APIGatewayV2},
	} {
		payload := `{"version": "2.0", "rawPath": "/", "requestContext": {"domainName": "` + tt.domain + `", "http": {"method": "GET"}}}`
		if k, err := Sniff([]byte(payload)); k != tt.want {
			t.Errorf("domain %q: got %v, %v; want %v", tt.domain, k, err, tt.want)
		}
	}
}

// TestEventVersion: the payload format version is kept, since it alone tells
// an HTTP API event in payload format 1.0 from a REST API event.
func TestEventVersion(t *testing.T) {
	for file, want := range map[string]string{
		"apigateway-v1-proxy.json":  "",
		"apigateway-http-v1.json":   "1.0",
		"apigateway-v2-base64.json": "2.0",
		"function-url.json":         "2.0",
		"alb-single.json":           "",
		"s3-one-record.json":        "",
	} {
		ev, err := Decode(readFixture(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if ev.Version != want {
			t.Errorf("%s: got version %q, want %q", file, ev.Version, want)
		}
	}
	ev, err := Decode([]byte(`{"version": "1.1", "httpMethod": "GET", "path": "/"}`))
	if err != nil || ev.Version != "1.1" {
		t.Errorf("got %+v, %v; want version 1.1", ev, err)
	}
}

// TestPowertoolsSamples sniffs and decodes every event sample of Powertools
// for AWS Lambda (Python) (testdata/powertools, see its README): each is of
// the kind listed, decoded as encoding/json decodes it, or else of no known
// kind; never of another kind.
func TestPowertoolsSamples(t *testing.T) {
	known := map[string]Kind{
		"albEvent.json":                                     ALB,
		"albEventPathTrailingSlash.json":                    ALB,
		"albMultiValueHeadersEvent.json":                    ALB,
		"albMultiValueQueryStringEvent.json":                ALB,
		"apiGatewayProxyEvent.json":                         APIGatewayV1,
		"apiGatewayProxyEventAnotherPath.json":              APIGatewayV1,
		"apiGatewayProxyEventNoOrigin.json":                 APIGatewayV1,
		"apiGatewayProxyEventPathTrailingSlash.json":        APIGatewayV1,
		"apiGatewayProxyEventPrincipalId.json":              APIGatewayV1,
		"apiGatewayProxyEvent_noVersionAuth.json":           APIGatewayV1,
		"apiGatewayProxyOtherEvent.json":                    APIGatewayV1,
		"apigatewayeSchemaMiddlwareInvalidEvent.json":       APIGatewayV1,
		"apigatewayeSchemaMiddlwareValidEvent.json":         APIGatewayV1,
		"apiGatewayProxyV2Event.json":                       APIGatewayV2,
		"apiGatewayProxyV2EventPathTrailingSlash.json":      APIGatewayV2,
		"apiGatewayProxyV2Event_GET.json":                   APIGatewayV2,
		"apiGatewayProxyV2IamEvent.json":                    APIGatewayV2,
		"apiGatewayProxyV2LambdaAuthorizerEvent.json":       APIGatewayV2,
		"apiGatewayProxyV2OtherGetEvent.json":               APIGatewayV2,
		"apiGatewayProxyV2SchemaMiddlwareInvalidEvent.json": APIGatewayV2,
		"apiGatewayProxyV2SchemaMiddlwareValidEvent.json":   APIGatewayV2,
		"lambdaFunctionUrlEvent.json":                       FunctionURL,
		"lambdaFunctionUrlEventPathTrailingSlash.json":      FunctionURL,
		"lambdaFunctionUrlEventWithHeaders.json":            FunctionURL,
		"lambdaFunctionUrlIAMEvent.json":                    FunctionURL,
		"s3Event.json":                                      S3,
		"s3EventDecodedKey.json":                            S3,
		"s3EventDeleteObject.json":                          S3,
		"s3EventGlacier.json":                               S3,
		// S3 notifications inside SQS messages, SNS messages delivered to
		// SQS (standard and FIFO): SQS events.
		"s3SqsEvent.json":         SQS,
		"snsSqsEvent.json":        SQS,
		"snsSqsFifoEvent.json":    SQS,
		"sqsDlqTriggerEvent.json": SQS,
		"sqsEvent.json":           SQS,
		"snsEvent.json":           SNS,
		// S3 notifications sent through EventBridge: EventBridge events.
		"eventBridgeEvent.json":                                     EventBridge,
		"s3EventBridgeNotificationObjectCreatedEvent.json":          EventBridge,
		"s3EventBridgeNotificationObjectDeletedEvent.json":          EventBridge,
		"s3EventBridgeNotificationObjectExpiredEvent.json":          EventBridge,
		"s3EventBridgeNotificationObjectRestoreCompletedEvent.json": EventBridge,
		"dynamoStreamEvent.json":                                    DynamoDBStream,
		// A stream carrying CloudWatch Logs subscription data is still a
		// Kinesis stream.
		"kinesisStreamCloudWatchLogsEvent.json": Kinesis,
		"kinesisStreamEvent.json":               Kinesis,
		"kinesisStreamEventOneRecord.json":      Kinesis,
	}
	// Samples of a known kind that aws-lambda-go could not decode either:
	// sqsEvent.json's binaryValue "base64Str" is not base64.
	malformed := map[string]bool{"sqsEvent.json": true}

	files, err := filepath.Glob(filepath.Join("testdata", "powertools", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Errorf("found %d samples, want at least 100", len(files))
	}
	seen := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := known[name]
			if ok {
				seen++
			}
			k, sniffErr := Sniff(payload)
			if k != want {
				t.Fatalf("Sniff: got %v, %v; want %v", k, sniffErr, want)
			}
			ev, err := Decode(payload)
			switch {
			case !ok:
				if !errors.Is(sniffErr, ErrUnknownKind) || !errors.Is(err, ErrUnknownKind) {
					t.Fatalf("got %v and %v, want ErrUnknownKind", sniffErr, err)
				}
			case malformed[name]:
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Decode: got %v, want ErrMalformed", err)
				}
				v, _ := specs[want].decode([]byte("{}"))
				if err := json.Unmarshal(payload, v); err == nil {
					t.Fatalf("encoding/json decodes it: not a malformed sample")
				}
			default:
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if ev.Kind != want {
					t.Fatalf("got kind %v, want %v", ev.Kind, want)
				}
				checkAgainstEncodingJSON(t, ev)
			}
		})
	}
	if seen != len(known) {
		t.Errorf("found %d of the %d known samples", seen, len(known))
	}
}

// matchingKinds returns every kind whose matcher accepts payload's
// signature: at most one, since matchers must be mutually exclusive.
func matchingKinds(payload []byte) []Kind {
	sig := getSignature()
	defer putSignature(sig)
	scan(payload, sig)
	var ks []Kind
	for k := Kind(1); k < numKinds; k++ {
		if specs[k].match(sig) {
			ks = append(ks, k)
		}
	}
	return ks
}

// TestMatchersExclusive: a payload that mixes the members of several kinds
// is of one kind at most, even when the members that tell kinds apart come
// after more top-level keys than the signature keeps.
func TestMatchersExclusive(t *testing.T) {
	var filler strings.Builder
	for i := range maxKeys + 2 {
		fmt.Fprintf(&filler, `"k%d": 0, `, i)
	}
	mixes := []string{
		`"Records": [{"eventSource": "aws:sqs"}], "source": "a", "detail-type": "b", "detail": {}`,
		`"Records": [{"eventSource": "aws:sqs"}], "version": "2.0", "requestContext": {"http": {}}`,
		`"Records": [{"eventSource": "aws:s3"}], "httpMethod": "GET", "path": "/"`,
		`"version": "2.0", "requestContext": {"http": {}}, "source": "a", "detail-type": "b", "detail": {}`,
		`"httpMethod": "GET", "path": "/", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}`,
		`"httpMethod": "GET", "path": "/", "requestContext": {"elb": {}}, "Records": [{"eventSource": "aws:kinesis"}]`,
		`"httpMethod": "GET", "path": "/", "version": "2.0", "requestContext": {"http": {}}`,
		`"httpMethod": "GET", "path": "/", "version": "2.0", "requestContext": {"http": {}, "domainName": "a.lambda-url.eu-west-1.on.aws"}`,
	}
	for _, mix := range mixes {
		for _, payload := range []string{"{" + mix + "}", "{" + filler.String() + mix + "}", `{"detail": {}, ` + filler.String() + mix + "}"} {
			if ks := matchingKinds([]byte(payload)); len(ks) > 1 {
				t.Errorf("%.80s...: matched by %v", payload[max(0, len(payload)-len(mix)-1):], ks)
			}
		}
	}
}
