package app

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of an SQS event's queue, the name its eventSourceARN ends with. Records from more than one fail with a
// *RouteError.
func init() {
	keyedKinds[event.SQS] = keyedKind{source: sqsSource}
}

func sqsSource(ev *event.Event) (string, error) {
	e := ev.Value.(*events.SQSEvent)
	return oneSource(ev.Kind, len(e.Records), func(i int) string { return e.Records[i].EventSourceARN }, "sqs", "")
}
