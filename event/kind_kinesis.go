package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(Kinesis, spec{
		name: "kinesis",
		// Kinesis Data Streams records name "aws:kinesis" as their
		// eventSource. Firehose transformation events have lower-case
		// "records" and no event source, and tumbling-window batches (see
		// isTimeWindow) another contract: both are of no known kind.
		match: func(s *signature) bool {
			return recordsFrom(s, "aws:kinesis") && !isTimeWindow(s)
		},
		decode: decodeAs[events.KinesisEvent],
	})
}
