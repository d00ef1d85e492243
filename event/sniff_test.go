package event

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestSniffEscapedEventSource: the sniffer compares names and values as the
// decoder reads them. An SQS batch whose eventSource is spelled with a JSON
// escape decodes, with encoding/json as with go-json, to
// Records[0].EventSource == "aws:sqs", so it is an SQS batch, not a payload
// of no kind bound for an app's direct-invoke route.
func TestSniffEscapedEventSource(t *testing.T) {
	p := []byte(`{"Records":[{"messageId":"m1","body":"x","eventSource":"aws:sq\u0073","eventSourceARN":"arn:aws:sqs:eu-west-1:1:q"}]}`)
	var e events.SQSEvent
	if err := json.Unmarshal(p, &e); err != nil || e.Records[0].EventSource != "aws:sqs" {
		t.Fatalf("encoding/json: %v %+v", err, e)
	}
	if k, err := Sniff(p); k != SQS {
		t.Errorf("Sniff = %v, %v; encoding/json reads an SQS batch", k, err)
	}
}

// escapedEvents are payloads whose telling names or values are spelled with
// JSON escapes, each with the kind it is once unescaped.
var escapedEvents = []struct {
	name    string
	payload string
	want    Kind
}{
	{"sqs source", `{"Records":[{"messageId":"m1","eventSource":"aws:sq\u0073"}]}`, SQS},
	{"sqs Records", `{"Rec\u006frds":[{"messageId":"m1","eventSource":"aws:sqs"}]}`, SQS},
	{"sqs eventSource name", `{"Records":[{"messageId":"m1","ev\u0065ntSource":"aws:sqs"}]}`, SQS},
	{"sns", `{"Records":[{"EventSource":"aws:sn\u0073","Sns":{"Message":"m"}}]}`, SNS},
	{"s3", `{"Records":[{"eventSource":"aws\u003as3","s3":{"bucket":{"name":"b"}}}]}`, S3},
	{"dynamodb", `{"Records":[{"eventSource":"aws:dynamod\u0062","eventID":"1"}]}`, DynamoDBStream},
	{"dynamodb window", `{"Records":[{"eventSource":"aws:dynamodb","eventID":"1"}],"w\u0069ndow":{"start":"2020-01-01T00:00:00Z"}}`, Unknown},
	{"kinesis", `{"Records":[{"eventSource":"aws:kinesi\u0073","kinesis":{"data":"aGk="}}]}`, Kinesis},
	{"kinesis state", `{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"aGk="}}],"st\u0061te":{}}`, Unknown},
	{"schedule detail-type", `{"source":"aws.events","detail-type":"Scheduled\u0020Event","detail":{},"resources":["arn:aws:events:eu-west-1:1:rule/r"]}`, Schedule},
	{"schedule source", `{"source":"aws\u002eevents","detail-type":"Scheduled Event","detail":{}}`, Schedule},
	{"schedule names", `{"s\u006furce":"aws.events","detail\u002dtype":"Scheduled Event","d\u0065tail":{}}`, Schedule},
	{"eventbridge detail", `{"source":"com.example","detail-type":"T","d\u0065tail":{}}`, EventBridge},
	{"eventbridge solidus", `{"source":"com\/example","detail-type":"\u0054","detail":{}}`, EventBridge},
	{"rest httpMethod", `{"http\u004dethod":"GET","path":"/"}`, APIGatewayV1},
	{"rest authorizer", `{"httpMethod":"GET","path":"/","typ\u0065":"REQUEST"}`, Unknown},
	{"alb", `{"httpMethod":"GET","path":"/","requestContext":{"\u0065lb":{"targetGroupArn":"a"}}}`, ALB},
	{"websocket", `{"httpMethod":"GET","path":"/","request\u0043ontext":{"connection\u0049d":"c"}}`, Unknown},
	{"http api version", `{"version":"2\u002e0","rawPath":"/","requestContext":{"http":{"method":"GET"}}}`, APIGatewayV2},
	{"http api http", `{"version":"2.0","rawPath":"/","requestContext":{"\u0068ttp":{"method":"GET"}}}`, APIGatewayV2},
	{"function url", `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"},"domainName":"abc.lambda-url.eu-west-1.on\u002eaws"}}`, FunctionURL},
	{"function url name", `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"},"domain\u004eame":"abc.lambda-url.eu-west-1.on.aws"}}`, FunctionURL},
	// Raw, the url-id "a\u002eb" has no dot; decoded it has one, so this
	// is an HTTP API on a custom domain.
	{"custom domain", `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"},"domainName":"a\u002eb.lambda-url.eu-west-1.on.aws"}}`, APIGatewayV2},
	{"unknown source", `{"Records":[{"eventSource":"aws:sq\u0073x"}]}`, Unknown},
	{"long escaped name", `{"` + strings.Repeat(`\u0041`, 40) + `":0,"Records":[{"eventSource":"aws:sqs"}]}`, SQS},
}

// TestSniffEscaped: every payload of escapedEvents is sniffed and decoded as
// the kind it is once unescaped, its value equal to encoding/json's, and
// Sniff allocates nothing for it.
func TestSniffEscaped(t *testing.T) {
	for _, tt := range escapedEvents {
		t.Run(tt.name, func(t *testing.T) {
			p := []byte(tt.payload)
			if k, err := Sniff(p); k != tt.want {
				t.Fatalf("Sniff = %v, %v; want %v", k, err, tt.want)
			}
			if ks := matchingKinds(p); len(ks) > 1 {
				t.Fatalf("matched by %v", ks)
			}
			if tt.want == Unknown {
				return
			}
			ev, err := Decode(p)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ev.Kind != tt.want {
				t.Fatalf("Decode: kind %v, want %v", ev.Kind, tt.want)
			}
			checkAgainstEncodingJSON(t, ev)
			if n := testing.AllocsPerRun(100, func() { _, _ = Sniff(p) }); n != 0 {
				t.Errorf("Sniff allocates %v times, want 0", n)
			}
		})
	}
}

// TestSniffEscapedVersion: Event.Version is the version as decoded.
func TestSniffEscapedVersion(t *testing.T) {
	ev, err := Decode([]byte(`{"version":"2\u002e0","rawPath":"/","requestContext":{"http":{"method":"GET"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Version != "2.0" {
		t.Errorf("Version = %q, want %q", ev.Version, "2.0")
	}
}

// TestSniffLongEscapedValues: escaped values longer than the signature's
// buffer still compare as decoded.
func TestSniffLongEscapedValues(t *testing.T) {
	long := strings.Repeat(`\u0078`, 300)
	for _, tt := range []struct {
		payload string
		want    Kind
	}{
		{`{"source":"` + long + `","detail-type":"` + long + `","version":"` + long + `","detail":{}}`, EventBridge},
		{`{"source":"` + long + `","detail-type":"` + long + `","detail":{},"version":"` + long + `","Records":[{"eventSource":"aws:sq\u0073"}]}`, SQS},
		{`{"version":"` + long + `","source":"aws.ev\u0065nts","detail-type":"Scheduled\u0020Event","detail":{}}`, Schedule},
	} {
		if k, err := Sniff([]byte(tt.payload)); k != tt.want {
			t.Errorf("%.60s...: Sniff = %v, %v; want %v", tt.payload, k, err, tt.want)
		}
	}
}

// TestSniffMembersPastKeyBound: a member that tells kinds apart counts
// wherever it comes in its object. A DynamoDB tumbling window batch whose
// "window" and "state" come after 48 other members is of no known kind (a
// different contract), not a plain stream batch, and an EventBridge event
// whose "detail" comes late is an EventBridge event.
func TestSniffMembersPastKeyBound(t *testing.T) {
	var pad strings.Builder
	for i := range 48 {
		pad.WriteString(`"x` + strconv.Itoa(i) + `":0,`)
	}
	window := []byte(`{` + pad.String() + `"Records":[{"eventSource":"aws:dynamodb","eventID":"1","dynamodb":{"SequenceNumber":"1"}}],"window":{"start":"2020-01-01T00:00:00Z","end":"2020-01-01T00:01:00Z"},"state":{}}`)
	if k, err := Sniff(window); k != Unknown {
		t.Errorf("a tumbling-window batch with its window after 48 members: Sniff = %v, %v; want unknown", k, err)
	}
	eb := []byte(`{"source":"com.example","detail-type":"T",` + pad.String() + `"detail":{}}`)
	if k, err := Sniff(eb); k != EventBridge {
		t.Errorf("an EventBridge event with its detail after 48 members: Sniff = %v, %v; want eventbridge", k, err)
	}
	ctx := strings.TrimSuffix(pad.String(), ",")
	for _, tt := range []struct {
		name, payload string
		want          Kind
	}{
		{"kinesis window", `{"Records":[{"eventSource":"aws:kinesis"}],` + pad.String() + `"state":{}}`, Unknown},
		{"rest", `{` + pad.String() + `"httpMethod":"GET","path":"/"}`, APIGatewayV1},
		{"rest authorizer", `{"httpMethod":"GET","path":"/",` + pad.String() + `"methodArn":"arn"}`, Unknown},
		{"http api authorizer", `{"version":"2.0","requestContext":{"http":{}},` + pad.String() + `"routeArn":"arn"}`, Unknown},
		{"alb", `{"httpMethod":"GET","path":"/","requestContext":{` + pad.String() + `"elb":{}}}`, ALB},
		{"websocket", `{"httpMethod":"GET","path":"/","requestContext":{` + pad.String() + `"connectionId":"c"}}`, Unknown},
		{"http api", `{"version":"2.0","requestContext":{` + pad.String() + `"http":{}}}`, APIGatewayV2},
		{"http api context", `{"version":"2.0","requestContext":{"http":{},` + ctx + `}}`, APIGatewayV2},
	} {
		if k, err := Sniff([]byte(tt.payload)); k != tt.want {
			t.Errorf("%s: Sniff = %v, %v; want %v", tt.name, k, err, tt.want)
		}
	}
}
