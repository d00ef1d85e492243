package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestSNSSample: the sample notification reaches its topic's route.
func TestSNSSample(t *testing.T) {
	a := quietApp(nil)
	var got events.SNSEventRecord
	HandleSNS(a, "order-events", func(ctx context.Context, r events.SNSEventRecord) error {
		got = r
		return nil
	})
	out, err := a.Invoke(invokeCtx(), readSample(t, "sns.json"))
	if err != nil || string(out) != "null" {
		t.Fatalf("got %s, %v; want null, nil", out, err)
	}
	if got.SNS.Message != "order 4711 shipped" || got.SNS.Subject != "order shipped" ||
		got.SNS.MessageAttributes["tenant"] == nil {
		t.Errorf("got record %+v", got)
	}
	// An SNS notification delivered through SQS is an SQS event.
	_, err = a.Invoke(invokeCtx(), readSample(t, "sns-via-sqs.json"))
	var re *RouteError
	if !errors.As(err, &re) || re.Kind != "sqs" {
		t.Errorf("sns through sqs: got %v, want an sqs *RouteError", err)
	}
}

// snsEvent returns an SNS event from topic with one record per message.
func snsEvent(topic string, messages ...string) []byte {
	var b strings.Builder
	b.WriteString(`{"Records": [`)
	for i, m := range messages {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"EventSource": "aws:sns", "Sns": {"MessageId": "m` + string(rune('0'+i)) +
			`", "TopicArn": "arn:aws:sns:eu-west-1:1:` + topic + `", "Message": ` + quote(m) + `}}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// TestSNSSeveralRecords: records are handled in order and the first error
// stops the event and fails the invocation.
func TestSNSSeveralRecords(t *testing.T) {
	errBad := errors.New("bad message")
	a := quietApp(nil)
	var seen []string
	HandleSNS(a, "alerts", func(ctx context.Context, r events.SNSEventRecord) error {
		seen = append(seen, r.SNS.Message)
		if r.SNS.Message == "b" {
			return errBad
		}
		return nil
	})
	if _, err := a.Invoke(invokeCtx(), snsEvent("alerts", "a", "c")); err != nil || strings.Join(seen, "") != "ac" {
		t.Fatalf("got %v, seen %q; want nil, ac", err, seen)
	}
	seen = nil
	out, err := a.Invoke(invokeCtx(), snsEvent("alerts", "a", "b", "c"))
	if out != nil || err != errBad || strings.Join(seen, "") != "ab" {
		t.Errorf("got %s, %v, seen %q; want nil, %v, ab", out, err, seen, errBad)
	}
}

// TestSNSUnrouted: a topic with no route is a *RouteError naming it, and
// records of two topics have no one route.
func TestSNSUnrouted(t *testing.T) {
	a := quietApp(nil)
	HandleSNS(a, "alerts", func(context.Context, events.SNSEventRecord) error { return nil })
	_, err := a.Invoke(invokeCtx(), snsEvent("billing", "x"))
	if err == nil || err.Error() != `app: no route: sns route "billing" is not registered` {
		t.Errorf("got %v", err)
	}
	two := []byte(`{"Records": [
		{"EventSource": "aws:sns", "Sns": {"TopicArn": "arn:aws:sns:eu-west-1:1:alerts", "Message": "a"}},
		{"EventSource": "aws:sns", "Sns": {"TopicArn": "arn:aws:sns:eu-west-1:1:billing", "Message": "b"}}]}`)
	var re *RouteError
	if _, err := a.Invoke(invokeCtx(), two); !errors.As(err, &re) || len(re.Sources) != 2 {
		t.Errorf("got %v, want a *RouteError with two sources", err)
	}
}

// TestSNSJSON: each message is decoded into T; one that does not fit
// fails the invocation with the record, offset and field, before h runs.
func TestSNSJSON(t *testing.T) {
	type alert struct {
		Level int    `json:"level"`
		Text  string `json:"text"`
	}
	a := quietApp(nil)
	var got []alert
	HandleSNSJSON(a, "alerts", func(ctx context.Context, v alert) error {
		got = append(got, v)
		return nil
	})
	if _, err := a.Invoke(invokeCtx(), snsEvent("alerts", `{"level": 2, "text": "disk"}`)); err != nil ||
		len(got) != 1 || got[0] != (alert{2, "disk"}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	got = nil
	tests := []struct{ message, want string }{
		{`{"level": "high"}`, `app: sns message m0 does not decode into app.alert at byte 10: field /level: cannot use JSON string as Go int`},
		{`disk full`, `app: sns message m0 does not decode into app.alert at byte 0: invalid character 'd' at start of value`},
		{``, `app: sns message m0 does not decode into app.alert at byte 0: unexpected EOF`},
	}
	for _, tt := range tests {
		_, err := a.Invoke(invokeCtx(), snsEvent("alerts", tt.message))
		if err == nil || err.Error() != tt.want {
			t.Errorf("message %q: got %v, want %q", tt.message, err, tt.want)
		}
	}
	if got != nil {
		t.Errorf("the handler ran for malformed messages: %+v", got)
	}
}
