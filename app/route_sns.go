package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of an SNS notification is its topic's name, the name its
// TopicArn ends with. Records from more than one topic fail with a
// *RouteError.
func init() {
	keyedKinds[event.SNS] = keyedKind{source: snsSource}
}

func snsSource(ev *event.Event) (string, error) {
	e := ev.Value.(*events.SNSEvent)
	return oneSource(ev.Kind, len(e.Records), func(i int) string { return e.Records[i].SNS.TopicArn }, "sns", "")
}

// HandleSNS registers h for SNS notifications from the topic named topic
// (the name its ARN ends with, or what [WithRouteKey] for [event.SNS] makes
// of it).
//
// SNS invokes a function with one record per invocation. An event with
// several is handled record by record, in order, and the first error stops
// it and fails the invocation: Lambda retries an asynchronous event whole,
// so records handled before the failure are handled again, and a handler
// must be idempotent as SNS delivers at least once anyway. A failing or
// panicking handler fails the invocation (the panic is logged, never
// returned); the invocation's response is "null".
//
// It panics if topic is empty, h is nil, or topic is already registered.
func HandleSNS(a *App, topic string, h func(ctx context.Context, r events.SNSEventRecord) error) {
	if h == nil {
		panic("app: HandleSNS needs a topic and a handler")
	}
	a.handle(event.SNS, topic, func(ctx context.Context, ev *event.Event) ([]byte, error) {
		for _, r := range ev.Value.(*events.SNSEvent).Records {
			if err := h(ctx, r); err != nil {
				return nil, err
			}
		}
		return []byte("null"), nil
	})
}

// HandleSNSJSON registers h for SNS notifications from topic, as
// [HandleSNS] does, with each record's Message decoded from JSON into a T
// once, with go-json-experiment (see [HandleInvoke] for how). A message
// that is not JSON of T's shape fails the invocation with an error naming
// the record, the byte offset in the message and the field; h does not run
// for it.
func HandleSNSJSON[T any](a *App, topic string, h func(ctx context.Context, v T) error) {
	if h == nil {
		panic("app: HandleSNSJSON needs a topic and a handler")
	}
	HandleSNS(a, topic, func(ctx context.Context, r events.SNSEventRecord) error {
		var v T
		if err := unmarshalTyped("sns message "+r.SNS.MessageID, []byte(r.SNS.Message), &v); err != nil {
			return err
		}
		return h(ctx, v)
	})
}
