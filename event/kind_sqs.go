package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(SQS, spec{
		name: "sqs",
		// Every SQS record names "aws:sqs" as its eventSource. Only the
		// first record's is read: one batch comes from one queue. What a
		// message's body holds (an SNS notification, an S3 event) does not
		// change the kind.
		match:  func(s *signature) bool { return recordsFrom(s, "aws:sqs") },
		decode: decodeAs[events.SQSEvent],
	})
}
