// Package event decodes a raw Lambda payload once.
//
// A Lambda function receives its event as JSON bytes. Decoding is most of the
// cost of a small invocation, so funcify decodes each payload exactly once:
// [Sniff] finds the kind of a payload in one cheap pass over its top-level
// keys (no full decode, no allocation), then [Decode] unmarshals it into the
// matching type from github.com/aws/aws-lambda-go/events. Sniff reads names
// and values as the decoder does, so a payload is of the kind it decodes as
// however it is spelled: "aws:sq\u0073" is "aws:sqs", and a member counts
// wherever it comes in its object.
//
//	ev, err := event.Decode(payload)
//	if err != nil {
//		return nil, err // *event.Error: errors.Is(err, event.ErrMalformed), ...
//	}
//	switch req := ev.Value.(type) {
//	case *events.APIGatewayProxyRequest:
//		// REST API (payload format 1.0)
//	case *events.SQSEvent:
//		// a batch of SQS messages
//	}
//
// # Kinds
//
// The kinds known are listed as [Kind] constants, each with the type from
// github.com/aws/aws-lambda-go/events it decodes into:
//
//   - HTTP requests ([Kind.IsHTTP]): [APIGatewayV1] (REST APIs, HTTP APIs
//     in payload format 1.0), [APIGatewayV2] (HTTP APIs, payload format
//     2.0), [FunctionURL] and [ALB].
//   - Batches of records, told apart by the event source of the first
//     record: [S3] ("aws:s3"), [SQS] ("aws:sqs"), [SNS] ("aws:sns", which
//     SNS spells EventSource), [DynamoDBStream] ("aws:dynamodb") and
//     [Kinesis] ("aws:kinesis").
//   - EventBridge events, which have a source, a detail-type and a detail:
//     [Schedule] for a scheduled rule's (source "aws.events", detail-type
//     "Scheduled Event") and [EventBridge] for every other. Both decode into
//     [events.EventBridgeEvent]; a schedule is a kind of its own so that it
//     can be routed by its rule's name rather than by source and
//     detail-type.
//
// Each kind lives in a file of its own (kind_alb.go, kind_sqs.go, ...) that
// says how to recognise it from the payload's signature and which type it
// decodes into; adding a kind is one constant and one small file. The
// matchers are mutually exclusive: no payload is of two kinds.
//
// A payload is of a kind only when it has the members every event of that
// kind has: a REST API or ALB event needs httpMethod and path, an HTTP API
// or function URL event version "2.0" and requestContext.http, and a
// function URL event a domain of the form <url-id>.lambda-url.<region>.on.aws.
// Payloads that look like HTTP requests but expect another answer, such as
// API Gateway authorizer requests, WebSocket messages, Bedrock agent action
// groups and VPC Lattice requests, are of no known kind. So is every event
// of a source funcify does not handle, among them some that look like the
// kinds above: CloudWatch Logs subscriptions, Kinesis Data Firehose
// transformations (lower-case "records"), SES and CodeCommit records, MQ,
// MSK and self-managed Kafka batches, CloudWatch alarm actions (a source but
// no detail-type), Cognito triggers, CloudFormation custom resources, Config
// rules, IoT, Lex and Connect events, and the batches of a stream's tumbling
// window (which carry "window" and "state" and expect the state back). The
// tests hold a sample of each, and check every sample of aws-lambda-go and
// of Powertools for AWS Lambda (Python).
//
// The kind follows the envelope, not its contents: an S3 notification
// inside an SQS message, or an SNS message delivered to an SQS queue, is an
// SQS event, and an S3 notification sent through EventBridge (source
// "aws.s3") is an EventBridge event.
//
// [Event.Version] keeps the payload format version, which tells an HTTP API
// event in payload format 1.0 (path already percent-decoded) from a REST API
// event (path encoded).
//
// # Errors
//
// Every failure is an [*Error] that names what was wrong and matches one of
// [ErrEmpty], [ErrMalformed] or [ErrUnknownKind] with errors.Is.
//
// # Decoder
//
// Payloads are decoded with github.com/go-json-experiment/json, the prototype
// of encoding/json/v2, which decodes API Gateway events over twice as fast as
// encoding/json with well under half the allocations. It keeps its stricter
// defaults where real AWS payloads allow them: field names match exactly
// (AWS spells them as aws-lambda-go's tags do; matching without regard to
// case would cost a fifth more time) and a name repeated in one object is an
// error. The one default relaxed is UTF-8 validation: a string holding
// invalid UTF-8 is accepted, because API Gateway passes clients' bytes
// through and a function cannot refuse its own event. Base64 text (Kinesis
// record data, SQS binary attributes) may hold line breaks, as encoding/json
// allows. The tests check that
// every fixture and every sample aws-lambda-go ships decodes to exactly what
// encoding/json gives.
package event
