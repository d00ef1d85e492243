package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(DynamoDBStream, spec{
		name: "dynamodb-stream",
		// Stream records name "aws:dynamodb" as their eventSource. A batch
		// of a tumbling window also carries "window" and "state" and
		// expects its state back in the answer: a different contract,
		// which funcify does not handle, so it is of no known kind.
		match: func(s *signature) bool {
			return recordsFrom(s, "aws:dynamodb") && !isTimeWindow(s)
		},
		decode: decodeAs[events.DynamoDBEvent],
	})
}

// isTimeWindow reports whether s is a stream batch of a tumbling window
// (events.DynamoDBTimeWindowEvent, events.KinesisTimeWindowEvent).
func isTimeWindow(s *signature) bool {
	return s.has(keyWindow) || s.has(keyState)
}
