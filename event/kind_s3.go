package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(S3, spec{
		name:   "s3",
		match:  func(s *signature) bool { return recordsFrom(s, "aws:s3") },
		decode: decodeAs[events.S3Event],
	})
}
