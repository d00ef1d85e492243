package idempotency_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

func ExampleFunc() {
	type refund struct {
		OrderID string `json:"orderId"`
		Cents   int64  `json:"cents"`
	}
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: "payments"})
	refunds := 0
	a := app.New(quiet)
	// A Step Functions task or an asynchronous invoke that Lambda retries:
	// one refund per order.
	app.HandleInvoke(a, idempotency.Func(g, "refund",
		func(r refund) (string, error) { return r.OrderID, nil },
		func(ctx context.Context, r refund) (string, error) {
			refunds++
			return fmt.Sprintf("refunded %d on %s", r.Cents, r.OrderID), nil
		}))
	for range 2 {
		out, err := a.Invoke(context.Background(), []byte(`{"orderId":"o-1","cents":1250}`))
		fmt.Println(string(out), err)
	}
	fmt.Println("refunds:", refunds)
	// Output:
	// "refunded 1250 on o-1" <nil>
	// "refunded 1250 on o-1" <nil>
	// refunds: 1
}

func ExampleSQS() {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: "orders"})
	shipped := map[string]int{}
	down := true // the carrier's API fails once
	a := app.New(quiet)
	app.HandleSQS(a, "order-events", idempotency.SQS(g, func(ctx context.Context, m events.SQSMessage) error {
		if m.MessageId == "m2" && down {
			down = false
			return errors.New("carrier unavailable")
		}
		shipped[m.MessageId]++
		return nil
	}))
	batch := []byte(`{"Records": [
		{"messageId": "m1", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:order-events", "body": "{\"orderId\":\"o-1\"}"},
		{"messageId": "m2", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:order-events", "body": "{\"orderId\":\"o-2\"}"}]}`)
	// The first delivery fails m2; the same batch delivered again (a
	// function error, a visibility timeout) ships m2 and not m1 again.
	for range 2 {
		out, err := a.Invoke(context.Background(), batch)
		fmt.Println(string(out), err)
	}
	fmt.Println(shipped)
	// Output:
	// {"batchItemFailures":[{"itemIdentifier":"m2"}]} <nil>
	// {"batchItemFailures":[]} <nil>
	// map[m1:1 m2:1]
}

func ExampleKeyByBody() {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	charge := idempotency.SQS(g, func(ctx context.Context, m events.SQSMessage) error {
		fmt.Println("charging for", m.MessageId)
		return nil
	}, idempotency.KeyByBody("/orderId"))
	// A producer that retried its send: two message ids, one order.
	for _, m := range []events.SQSMessage{
		{MessageId: "m1", Body: `{"orderId":"o-7","cents":990}`},
		{MessageId: "m2", Body: `{"cents":990, "orderId":"o-7"}`},
	} {
		fmt.Println(charge(context.Background(), m))
	}
	// Output:
	// charging for m1
	// <nil>
	// <nil>
}

func ExampleKinesis() {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	a := app.New(quiet)
	app.HandleKinesis(a, "clicks", idempotency.Kinesis(g, func(ctx context.Context, r events.KinesisEventRecord) error {
		fmt.Println("counting", r.Kinesis.SequenceNumber)
		return nil
	}))
	// Data is base64: "ok" is b2s=. The batch is retried whole: the records
	// are counted once.
	batch := []byte(`{"Records": [
		{"eventID": "shardId-000000000000:101", "eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks", "kinesis": {"sequenceNumber": "101", "data": "b2s="}},
		{"eventID": "shardId-000000000000:102", "eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks", "kinesis": {"sequenceNumber": "102", "data": "b2s="}}]}`)
	for range 2 {
		out, err := a.Invoke(context.Background(), batch)
		fmt.Println(string(out), err)
	}
	// Output:
	// counting 101
	// counting 102
	// {"batchItemFailures":[]} <nil>
	// {"batchItemFailures":[]} <nil>
}
