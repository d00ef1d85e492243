package app

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of an EventBridge event is two-part: its source (which
// WithRouteKey maps) and its detail-type (matched as it is), each of which
// a route may give as "*".
func init() {
	keyedKinds[event.EventBridge] = keyedKind{
		source: func(ev *event.Event) (string, error) { return ev.Value.(*events.EventBridgeEvent).Source, nil },
		second: func(ev *event.Event) string { return ev.Value.(*events.EventBridgeEvent).DetailType },
	}
}

// HandleEventBridge registers h for EventBridge events of the given source
// and detail-type, with the event's detail decoded from JSON into a T once,
// with go-json-experiment (see [HandleInvoke] for how); a T of
// [json.RawMessage] gets the detail as it is, without a decode.
//
// Either source or detailType may be "*", for any. An event goes to the
// most specific route that matches it: (source, detail-type), then (source,
// "*"), then ("*", detail-type), then ("*", "*"); one that none matches
// fails the invocation with a [*RouteError] whose Key is
// "<source>/<detail-type>". [WithRouteKey] for [event.EventBridge] maps the
// event's source before the lookup (say, "com.example.orders.uat" to
// "com.example.orders"); the detail-type is never mapped. Events of
// scheduled rules are of another kind, [event.Schedule]: see
// [HandleSchedule].
//
// A detail that is not JSON of T's shape fails the invocation with an
// error naming the byte offset in the detail and the field; h does not run.
// A failing or panicking h fails the invocation, which Lambda retries as it
// retries any asynchronous event. The invocation's response is "null".
//
// It panics if source or detailType is empty, h is nil, or the pair is
// already registered.
func HandleEventBridge[T any](a *App, source, detailType string, h func(ctx context.Context, e events.EventBridgeEvent, detail T) error) {
	if source == "" || detailType == "" || h == nil {
		panic("app: HandleEventBridge needs a source, a detail-type and a handler")
	}
	a.handle(event.EventBridge, joinKey(source, detailType), func(ctx context.Context, ev *event.Event) ([]byte, error) {
		e := ev.Value.(*events.EventBridgeEvent)
		var d T
		if raw, ok := any(&d).(*json.RawMessage); ok {
			*raw = e.Detail
		} else if err := unmarshalTyped("eventbridge detail", e.Detail, &d); err != nil {
			return nil, err
		}
		if err := h(ctx, *e, d); err != nil {
			return nil, err
		}
		return []byte("null"), nil
	})
}
