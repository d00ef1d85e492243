package app

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of a scheduled rule's event is the rule's name, from the
// rule's ARN in its resources ("arn:aws:events:...:rule/nightly-report").
func init() {
	keyedKinds[event.Schedule] = keyedKind{source: scheduleRule}
}

func scheduleRule(ev *event.Event) (string, error) {
	e := ev.Value.(*events.EventBridgeEvent)
	return oneSource(ev.Kind, len(e.Resources), func(i int) string { return e.Resources[i] }, "events", "rule")
}
