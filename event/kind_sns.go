package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(SNS, spec{
		name: "sns",
		// SNS alone spells its records' members in upper camel case:
		// Records[0].EventSource is "aws:sns". SES, which also reaches
		// functions through SNS-like records, names "aws:ses" and is of no
		// known kind.
		match:  func(s *signature) bool { return recordsFrom(s, "aws:sns") },
		decode: decodeAs[events.SNSEvent],
	})
}
