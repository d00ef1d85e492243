package app_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/app"
)

// The event source mapping of each of these routes must list
// ReportBatchItemFailures in its FunctionResponseTypes, or Lambda ignores
// the batchItemFailures answer.

func ExampleHandleSQSJSON() {
	type orderEvent struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	known := map[string]bool{"42": true}

	a := app.New(quiet)
	app.HandleSQSJSON(a, "order-events", func(ctx context.Context, e orderEvent) error {
		if !known[e.ID] {
			return errors.New("unknown order " + e.ID)
		}
		return nil
	}, app.WithConcurrency(4))

	out, err := a.Invoke(context.Background(), []byte(`{"Records": [
		{"messageId": "m1", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:order-events", "body": "{\"id\":\"42\",\"status\":\"shipped\"}"},
		{"messageId": "m2", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:order-events", "body": "{\"id\":\"7\",\"status\":\"paid\"}"},
		{"messageId": "m3", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:order-events", "body": "not JSON"}]}`))
	fmt.Println(string(out), err)
	// Output: {"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m3"}]} <nil>
}

func ExampleHandleSQS() {
	// A FIFO queue's batch stops at the first failure: it and every later
	// message are reported, so they come back in order.
	a := app.New(quiet)
	app.HandleSQS(a, "invoices.fifo", func(ctx context.Context, m events.SQSMessage) error {
		if m.Body == "bad" {
			return errors.New("cannot bill")
		}
		fmt.Println("billed", m.MessageId)
		return nil
	})

	out, err := a.Invoke(context.Background(), []byte(`{"Records": [
		{"messageId": "m1", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:invoices.fifo", "body": "ok"},
		{"messageId": "m2", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:invoices.fifo", "body": "bad"},
		{"messageId": "m3", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:invoices.fifo", "body": "ok"}]}`))
	fmt.Println(string(out), err)
	// Output:
	// billed m1
	// {"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m3"}]} <nil>
}

func ExampleHandleKinesis() {
	a := app.New(quiet)
	app.HandleKinesis(a, "clicks", func(ctx context.Context, r events.KinesisEventRecord) error {
		if string(r.Kinesis.Data) == "bad" {
			return errors.New("cannot count")
		}
		return nil
	})

	// Data is base64: "ok" is b2s=, "bad" is YmFk.
	out, err := a.Invoke(context.Background(), []byte(`{"Records": [
		{"eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks", "kinesis": {"sequenceNumber": "101", "data": "b2s="}},
		{"eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks", "kinesis": {"sequenceNumber": "102", "data": "YmFk"}},
		{"eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks", "kinesis": {"sequenceNumber": "103", "data": "b2s="}}]}`))
	fmt.Println(string(out), err)
	// Output: {"batchItemFailures":[{"itemIdentifier":"102"}]} <nil>
}

func ExampleHandleDynamoDBStream() {
	type order struct {
		PK     string `json:"pk"`
		Status string `json:"status"`
		Items  int    `json:"items"`
	}
	a := app.New(quiet)
	app.HandleDynamoDBStream(a, "orders", func(ctx context.Context, r events.DynamoDBEventRecord) error {
		o, err := app.UnmarshalImage[order](r.Change.NewImage)
		if err != nil {
			return err
		}
		fmt.Println(r.EventName, o.PK, o.Status, o.Items)
		return nil
	})

	out, err := a.Invoke(context.Background(), []byte(`{"Records": [{
		"eventName": "MODIFY", "eventSource": "aws:dynamodb",
		"eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-03-01T00:00:00.000",
		"dynamodb": {"SequenceNumber": "700", "NewImage": {"pk": {"S": "ORDER#42"}, "status": {"S": "shipped"}, "items": {"N": "3"}}}}]}`))
	fmt.Println(string(out), err)
	// Output:
	// MODIFY ORDER#42 shipped 3
	// {"batchItemFailures":[]} <nil>
}

func ExampleUnmarshalImage() {
	type order struct {
		PK   string   `json:"pk"`
		Tags []string `json:"tags"`
	}
	o, err := app.UnmarshalImage[order](map[string]events.DynamoDBAttributeValue{
		"pk":   events.NewStringAttribute("ORDER#42"),
		"tags": events.NewStringSetAttribute([]string{"gift", "express"}),
	})
	fmt.Println(o.PK, o.Tags, err)
	// Output: ORDER#42 [gift express] <nil>
}
