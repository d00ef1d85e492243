package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/event"
)

func ExampleHandleSNS() {
	a := app.New(quiet)
	app.HandleSNS(a, "alerts", func(ctx context.Context, r events.SNSEventRecord) error {
		fmt.Println(r.SNS.Subject + ": " + r.SNS.Message)
		return nil
	})
	out, err := a.Invoke(context.Background(), []byte(`{"Records": [{"EventSource": "aws:sns",
		"Sns": {"TopicArn": "arn:aws:sns:eu-west-1:123456789012:alerts", "Subject": "disk", "Message": "92% full"}}]}`))
	fmt.Println(string(out), err)
	// Output:
	// disk: 92% full
	// null <nil>
}

func ExampleHandleSNSJSON() {
	type alert struct {
		Level int    `json:"level"`
		Text  string `json:"text"`
	}
	a := app.New(quiet)
	app.HandleSNSJSON(a, "alerts", func(ctx context.Context, v alert) error {
		fmt.Println(v.Level, v.Text)
		return nil
	})
	_, err := a.Invoke(context.Background(), []byte(`{"Records": [{"EventSource": "aws:sns",
		"Sns": {"MessageId": "m1", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alerts", "Message": "{\"level\": 2, \"text\": \"disk\"}"}}]}`))
	fmt.Println(err)
	// Output:
	// 2 disk
	// <nil>
}

func ExampleHandleEventBridge() {
	type shipped struct {
		OrderID string `json:"orderId"`
	}
	a := app.New(quiet)
	app.HandleEventBridge(a, "com.example.orders", "Order Shipped", func(ctx context.Context, e events.EventBridgeEvent, d shipped) error {
		fmt.Println("shipped", d.OrderID)
		return nil
	})
	// Any other event of the source: the detail as it is.
	app.HandleEventBridge(a, "com.example.orders", "*", func(ctx context.Context, e events.EventBridgeEvent, d json.RawMessage) error {
		fmt.Println(e.DetailType, string(d))
		return nil
	})
	for _, p := range []string{
		`{"source": "com.example.orders", "detail-type": "Order Shipped", "detail": {"orderId": "4711"}}`,
		`{"source": "com.example.orders", "detail-type": "Order Placed", "detail": {"orderId": "4712"}}`,
		`{"source": "com.example.billing", "detail-type": "Invoice Issued", "detail": {}}`,
	} {
		if _, err := a.Invoke(context.Background(), []byte(p)); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// shipped 4711
	// Order Placed {"orderId": "4712"}
	// app: no route: eventbridge route "com.example.billing/Invoice Issued" is not registered
}

func ExampleHandleSchedule() {
	a := app.New(quiet)
	app.HandleSchedule(a, "nightly-report", func(ctx context.Context, e events.EventBridgeEvent) error {
		fmt.Println("report for", e.Time.Format("2006-01-02"))
		return nil
	})
	_, err := a.Invoke(context.Background(), []byte(`{"source": "aws.events", "detail-type": "Scheduled Event",
		"time": "2026-03-14T02:00:00Z", "detail": {},
		"resources": ["arn:aws:events:eu-west-1:123456789012:rule/nightly-report"]}`))
	fmt.Println(err)
	// Output:
	// report for 2026-03-14
	// <nil>
}

func ExampleHandleInvoke() {
	type resize struct {
		Key   string `json:"key"`
		Width int    `json:"width"`
	}
	type resized struct {
		Key string `json:"key"`
	}
	a := app.New(quiet)
	app.HandleInvoke(a, func(ctx context.Context, in resize) (resized, error) {
		return resized{Key: fmt.Sprintf("%s@%dw", in.Key, in.Width)}, nil
	})
	out, err := a.Invoke(context.Background(), []byte(`{"key": "cat.jpg", "width": 320}`))
	fmt.Println(string(out), err)

	_, err = a.Invoke(context.Background(), []byte(`{"key": "cat.jpg", "width": "wide"}`))
	fmt.Println(err)

	_, err = a.Invoke(context.Background(), []byte(`cat.jpg`))
	fmt.Println(errors.Is(err, event.ErrMalformed))
	// Output:
	// {"key":"cat.jpg@320w"} <nil>
	// app: invoke payload does not decode into app_test.resize at byte 28: field /width: cannot use JSON string as Go int
	// true
}
