package app

import (
	"context"

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

// HandleSchedule registers h for the events of the EventBridge rule named
// rule that runs on a schedule (source "aws.events", detail-type "Scheduled
// Event"; the rule's name is read from its ARN in the event's resources, or
// is what [WithRouteKey] for [event.Schedule] makes of it). Those events
// are of kind [event.Schedule] and never reach an EventBridge route, even
// one registered for any source and detail-type.
//
// A failing or panicking h fails the invocation, which Lambda retries as it
// retries any asynchronous event; the invocation's response is "null".
//
// It panics if rule is empty, h is nil, or rule is already registered.
func HandleSchedule(a *App, rule string, h func(ctx context.Context, e events.EventBridgeEvent) error) {
	if h == nil {
		panic("app: HandleSchedule needs a rule and a handler")
	}
	a.handle(event.Schedule, rule, func(ctx context.Context, ev *event.Event) ([]byte, error) {
		if err := h(ctx, *ev.Value.(*events.EventBridgeEvent)); err != nil {
			return nil, err
		}
		return []byte("null"), nil
	})
}
