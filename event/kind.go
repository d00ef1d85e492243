package event

import "strconv"

// Kind is the kind of an event: which AWS source sent it, and so which type
// it decodes into.
type Kind uint8

// The kinds of event funcify recognises. Each is described, with the type it
// decodes into, in a file of its own.
const (
	// Unknown is the kind of a payload no other kind matches.
	Unknown Kind = iota
	// APIGatewayV1 is an API Gateway REST API proxy event, or an HTTP API
	// event in payload format 1.0: [events.APIGatewayProxyRequest]. The
	// two differ by [Event.Version], "1.0" for an HTTP API, and by their
	// path: a REST API passes it percent-encoded, an HTTP API decoded.
	APIGatewayV1
	// APIGatewayV2 is an API Gateway HTTP API event in payload format 2.0:
	// [events.APIGatewayV2HTTPRequest]. Its rawPath is percent-decoded.
	APIGatewayV2
	// FunctionURL is a Lambda function URL event:
	// [events.LambdaFunctionURLRequest]. It has the shape of an HTTP API
	// 2.0 event, but comes from a domain of the form
	// <url-id>.lambda-url.<region>.on.aws and its rawPath is
	// percent-encoded.
	FunctionURL
	// ALB is an Application Load Balancer target group event, with single
	// or multi-value headers: [events.ALBTargetGroupRequest].
	ALB
	// S3 is an S3 event notification: [events.S3Event]. S3 notifications
	// that reach a function through an SQS queue are SQS events, and those
	// sent through EventBridge are EventBridge events.
	S3
	// SQS is a batch of SQS messages: [events.SQSEvent]. Messages that an
	// SNS topic or S3 delivered to the queue are SQS events too; their
	// bodies hold the original notification.
	SQS
	// SNS is an SNS notification: [events.SNSEvent].
	SNS
	// EventBridge is an EventBridge (formerly CloudWatch Events) event, from
	// an AWS service or an application's own bus, other than a scheduled
	// rule's: [events.EventBridgeEvent]. S3 notifications sent through
	// EventBridge (source "aws.s3") are EventBridge events.
	EventBridge
	// Schedule is the event of an EventBridge rule that runs on a schedule
	// (source "aws.events", detail-type "Scheduled Event"), an
	// [events.EventBridgeEvent] whose resources name the rule. It is a kind
	// of its own so that a function can tell a timer from a bus event by
	// kind alone, and route it by rule name. EventBridge Scheduler, the
	// separate service, sends the payload its schedule was given instead,
	// of whatever kind that is.
	Schedule
	// DynamoDBStream is a batch of DynamoDB Streams records:
	// [events.DynamoDBEvent].
	DynamoDBStream
	// Kinesis is a batch of Kinesis Data Streams records:
	// [events.KinesisEvent]. Each record's data is base64 in the payload
	// and raw bytes once decoded.
	Kinesis

	numKinds
)

// String returns the kind's short name, such as "apigateway-v1".
func (k Kind) String() string {
	if k < numKinds && specs[k].name != "" {
		return specs[k].name
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// IsHTTP reports whether events of this kind are HTTP requests that expect an
// HTTP response.
func (k Kind) IsHTTP() bool {
	return k < numKinds && specs[k].http
}

// spec describes one kind: its name, how to recognise it from a payload's
// signature, and how to decode it. The matchers of different kinds must be
// mutually exclusive, so their order does not matter.
type spec struct {
	name   string
	http   bool
	match  func(*signature) bool
	decode func(payload []byte) (any, error)
}

// specs holds every kind's spec, indexed by kind. Each kind's file fills its
// entry in an init function.
var specs = [numKinds]spec{Unknown: {name: "unknown"}}

// register records the spec of a kind. It is called only from init functions
// of this package.
func register(k Kind, s spec) {
	if specs[k].match != nil {
		panic("event: kind " + s.name + " registered twice")
	}
	specs[k] = s
}

// recordsFrom reports whether s is a batch of records from the event source
// named, such as "aws:sqs": the source that the first record names. A
// payload that also carries a member only HTTP events have is of no kind
// rather than of two.
func recordsFrom(s *signature, source string) bool {
	return string(s.recordSource) == source && !s.has(keyHTTPMethod) && !s.context
}

// kindOf returns the kind whose matcher accepts sig, or Unknown.
func kindOf(sig *signature) Kind {
	for k := Kind(1); k < numKinds; k++ {
		if m := specs[k].match; m != nil && m(sig) {
			return k
		}
	}
	return Unknown
}
