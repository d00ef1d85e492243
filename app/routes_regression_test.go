package app

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// Before issue 13, invokeS3 URL-decoded the object keys before the guard
// ran, so a guard reading the event (event.FromContext) saw decoded keys;
// now the decode moved into the S3 route's handler, after the guard.
func TestS3GuardSeesDecodedKeys(t *testing.T) {
	var seen string
	a := quietApp(nil, WithGuard(func(ctx context.Context) error {
		ev, _ := event.FromContext(ctx)
		e, _ := event.As[events.S3Event](ev)
		seen = e.Records[0].S3.Object.Key
		return nil
	}))
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) { return "ok", nil })
	if _, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices", "my+file%21.txt"})); err != nil {
		t.Fatal(err)
	}
	if seen != "my file!.txt" {
		t.Errorf("guard saw object key %q; before issue 13 it saw the decoded %q", seen, "my file!.txt")
	}
}

// A rule on a custom event bus has the ARN rule/<bus>/<name>; the route key
// is the bus's name, not the rule's.
func TestScheduleRuleOnCustomBus(t *testing.T) {
	a := quietApp(nil)
	ran := false
	HandleSchedule(a, "nightly", func(ctx context.Context, e events.EventBridgeEvent) error { ran = true; return nil })
	_, err := a.Invoke(invokeCtx(), []byte(`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events",
		"account":"123456789012","time":"2026-12-01T00:00:00Z","region":"eu-west-1","detail":{},
		"resources":["arn:aws:events:eu-west-1:123456789012:rule/orders-bus/nightly"]}`))
	if err != nil || !ran {
		t.Errorf("rule nightly on bus orders-bus: ran=%v err=%v", ran, err)
	}
}

// A scheduled rule's event whose detail-type is spelled with a JSON escape
// decodes as "Scheduled Event" but is sniffed as EventBridge, and reaches
// an EventBridge ("*", "*") route, which HandleSchedule's doc says never
// happens.
func TestEscapedScheduleReachesEventBridge(t *testing.T) {
	a := quietApp(nil)
	HandleEventBridge(a, "*", "*", func(ctx context.Context, e events.EventBridgeEvent, d map[string]any) error { return nil })
	sched := false
	HandleSchedule(a, "nightly", func(ctx context.Context, e events.EventBridgeEvent) error { sched = true; return nil })
	_, err := a.Invoke(invokeCtx(), []byte(`{"version":"0","id":"1","detail-type":"Scheduled\u0020Event","source":"aws.events",
		"account":"1","time":"2026-12-01T00:00:00Z","region":"eu-west-1","detail":{},
		"resources":["arn:aws:events:eu-west-1:1:rule/nightly"]}`))
	if err != nil || !sched {
		t.Errorf("a Scheduled Event (escaped) did not reach its schedule route: sched=%v err=%v", sched, err)
	}
}

// An SQS batch whose eventSource is spelled with a JSON escape decodes
// (with encoding/json as with go-json) to a valid SQS event, but is sniffed
// as of no kind and goes to the direct-invoke route.
func TestEscapedSQSIsDirectInvoke(t *testing.T) {
	a := quietApp(nil)
	direct := false
	HandleInvoke(a, func(ctx context.Context, in map[string]any) (string, error) { direct = true; return "ok", nil })
	_, _ = a.Invoke(invokeCtx(), []byte(`{"Records":[{"messageId":"m1","body":"x","eventSource":"aws:sq\u0073",
		"eventSourceARN":"arn:aws:sqs:eu-west-1:1:q"}]}`))
	if direct {
		t.Errorf("an SQS batch reached the direct-invoke route")
	}
}
