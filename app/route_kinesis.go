package app

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of a Kinesis stream's name, from its eventSourceARN. Records from more than one fail with a
// *RouteError.
func init() {
	keyedKinds[event.Kinesis] = keyedKind{source: kinesisSource}
}

func kinesisSource(ev *event.Event) (string, error) {
	e := ev.Value.(*events.KinesisEvent)
	return oneSource(ev.Kind, len(e.Records), func(i int) string { return e.Records[i].EventSourceArn }, "kinesis", "stream")
}
