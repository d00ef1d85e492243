package app

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of an SNS notification's topic, the name its TopicArn ends with. Records from more than one fail with a
// *RouteError.
func init() {
	keyedKinds[event.SNS] = keyedKind{source: snsSource}
}

func snsSource(ev *event.Event) (string, error) {
	e := ev.Value.(*events.SNSEvent)
	return oneSource(ev.Kind, len(e.Records), func(i int) string { return e.Records[i].SNS.TopicArn }, "sns", "")
}
