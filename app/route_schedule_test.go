package app

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestScheduleSample: a scheduled rule's event reaches the route of the
// rule named in its resources; another rule's has none.
func TestScheduleSample(t *testing.T) {
	a := quietApp(nil)
	var got events.EventBridgeEvent
	HandleSchedule(a, "nightly-invoices", func(ctx context.Context, e events.EventBridgeEvent) error {
		got = e
		return nil
	})
	out, err := a.Invoke(invokeCtx(), readSample(t, "eventbridge-scheduled.json"))
	if err != nil || string(out) != "null" {
		t.Fatalf("got %s, %v; want null, nil", out, err)
	}
	if got.DetailType != "Scheduled Event" || got.ID != "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa" {
		t.Errorf("got %+v", got)
	}

	other := []byte(`{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {},
		"resources": ["arn:aws:events:eu-west-1:1:rule/hourly"]}`)
	var re *RouteError
	if _, err := a.Invoke(invokeCtx(), other); !errors.As(err, &re) || re.Kind != "schedule" || re.Key != "hourly" {
		t.Errorf("got %v, want a *RouteError for schedule hourly", err)
	}
}

// TestScheduleError: the handler's error fails the invocation.
func TestScheduleError(t *testing.T) {
	errLate := errors.New("report late")
	a := quietApp(nil)
	HandleSchedule(a, "nightly-invoices", func(context.Context, events.EventBridgeEvent) error { return errLate })
	if out, err := a.Invoke(invokeCtx(), readSample(t, "eventbridge-scheduled.json")); out != nil || err != errLate {
		t.Errorf("got %s, %v; want %v", out, err, errLate)
	}
}
