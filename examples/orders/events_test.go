package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/internal/testenv"
)

const (
	ordersQueueARN = "arn:aws:sqs:eu-west-1:123456789012:order-events"
	ordersFIFOARN  = "arn:aws:sqs:eu-west-1:123456789012:order-events.fifo"
)

// sqsBatch is the SQS event of bodies, message ids m0, m1, ... from the
// queue arn; a FIFO queue's messages alternate between two message groups.
func sqsBatch(arn string, bodies ...string) []byte {
	var e events.SQSEvent
	for i, b := range bodies {
		m := events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: b, EventSource: "aws:sqs",
			EventSourceARN: arn, AWSRegion: "eu-west-1", ReceiptHandle: "rh"}
		if strings.HasSuffix(arn, ".fifo") {
			m.Attributes = map[string]string{"MessageGroupId": fmt.Sprintf("g%d", i%2), "SequenceNumber": fmt.Sprint(1000 + i)}
		}
		e.Records = append(e.Records, m)
	}
	b, _ := json.Marshal(e)
	return b
}

// failures returns the item identifiers of a batch answer.
func failures(t *testing.T, out []byte) []string {
	t.Helper()
	var r events.SQSEventResponse
	if err := json.Unmarshal(out, &r); err != nil || !bytes.Contains(out, []byte(`"batchItemFailures"`)) {
		t.Fatalf("answer %s is not a batch response: %v", out, err)
	}
	ids := []string{}
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func invokeOrders(t *testing.T, a *app.App, payload []byte) []byte {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "test"})
	out, err := a.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	return out
}

// TestOrderEvents: the order-events queue sets orders' statuses; a message
// for an unknown order, a malformed one and one of the wrong shape are
// failed items, and only they.
func TestOrderEvents(t *testing.T) {
	s := newStore()
	a := newApp(s, app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	one, two := s.add("book", 1), s.add("pen", 2)
	out := invokeOrders(t, a, sqsBatch(ordersQueueARN,
		`{"id":"`+one.ID+`","status":"shipped"}`,
		`{"id":"nope","status":"shipped"}`,
		`{"id":`,
		`{"id":"`+two.ID+`","status":"packed"}`,
		`{"id":"`+one.ID+`"}`,
	))
	if got, want := failures(t, out), []string{"m1", "m2", "m4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("failed items: got %q, want %q", got, want)
	}
	if o, _ := s.get(one.ID); o.Status != "shipped" {
		t.Errorf("order %s: status %q, want shipped", one.ID, o.Status)
	}
	if o, _ := s.get(two.ID); o.Status != "packed" {
		t.Errorf("order %s: status %q, want packed", two.ID, o.Status)
	}

	// FIFO: in order, the first failure and every later message reported.
	out = invokeOrders(t, a, sqsBatch(ordersFIFOARN,
		`{"id":"`+one.ID+`","status":"delivered"}`,
		`{"id":"nope","status":"x"}`,
		`{"id":"`+two.ID+`","status":"delivered"}`,
	))
	if got, want := failures(t, out), []string{"m1", "m2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("FIFO failed items: got %q, want %q", got, want)
	}
	if o, _ := s.get(two.ID); o.Status != "packed" {
		t.Errorf("FIFO: a message after the failure was handled: status %q", o.Status)
	}
}

// TestNightlySchedule: the orders.nightly rule answers; another rule has
// no route.
func TestNightlySchedule(t *testing.T) {
	a := testApp()
	schedule := func(rule string) []byte {
		return []byte(`{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
			"source":"aws.events","account":"123456789012","time":"2026-12-02T03:00:00Z","region":"eu-west-1",
			"resources":["arn:aws:events:eu-west-1:123456789012:rule/` + rule + `"],"detail":{}}`)
	}
	if out := invokeOrders(t, a, schedule("orders.nightly")); string(out) != "null" {
		t.Errorf("orders.nightly: got %s, want null", out)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "test"})
	if _, err := a.Invoke(ctx, schedule("other")); err == nil || !strings.Contains(err.Error(), "other") {
		t.Errorf("rule other: got %v, want a route error naming it", err)
	}
}

// TestEmulatorBatches: the example under the Lambda Runtime Interface
// Emulator answers a 10-message batch with 3 failing messages, and a FIFO
// batch, with the exact batchItemFailures.
func TestEmulatorBatches(t *testing.T) {
	bin := testenv.BuildFunction(t, ".")
	url := testenv.RIE(t, bin)
	var ids []string
	for i := range 7 {
		payload, _ := json.Marshal(shapes["v2"]("POST", "/orders", fmt.Sprintf(`{"item":"item-%d","quantity":1}`, i)))
		var r response
		if err := json.Unmarshal(rieInvoke(t, url, payload), &r); err != nil || r.StatusCode != 201 {
			t.Fatalf("create: %+v %v", r, err)
		}
		var o order
		json.Unmarshal([]byte(r.Body), &o)
		ids = append(ids, o.ID)
	}
	var bodies []string
	for i := range 10 {
		switch i {
		case 2:
			bodies = append(bodies, `{"id":"no-such-order","status":"shipped"}`)
		case 5:
			bodies = append(bodies, `not json`)
		case 8:
			bodies = append(bodies, `{"status":"shipped"}`)
		default:
			bodies = append(bodies, `{"id":"`+ids[i%len(ids)]+`","status":"shipped"}`)
		}
	}
	if got, want := failures(t, rieInvoke(t, url, sqsBatch(ordersQueueARN, bodies...))), []string{"m2", "m5", "m8"}; !reflect.DeepEqual(got, want) {
		t.Errorf("standard batch: failed items %q, want %q", got, want)
	}
	fifo := []string{`{"id":"` + ids[0] + `","status":"delivered"}`, `{"id":"` + ids[1] + `","status":"delivered"}`,
		`{"id":"missing","status":"delivered"}`, `{"id":"` + ids[2] + `","status":"delivered"}`}
	if got, want := failures(t, rieInvoke(t, url, sqsBatch(ordersFIFOARN, fifo...))), []string{"m2", "m3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("FIFO batch: failed items %q, want %q", got, want)
	}
	payload, _ := json.Marshal(shapes["v2"]("GET", "/orders/"+ids[0], ""))
	var r response
	json.Unmarshal(rieInvoke(t, url, payload), &r)
	if !strings.Contains(r.Body, `"status":"delivered"`) {
		t.Errorf("order %s after the batches: %s, want status delivered", ids[0], r.Body)
	}
}
