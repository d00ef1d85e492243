package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnroutedKeyOfEveryKind: an event of each keyed kind that no route
// takes fails with a *RouteError naming its kind and the key its source
// gives, read from the source's ARN.
func TestUnroutedKeyOfEveryKind(t *testing.T) {
	tests := []struct{ file, kind, key string }{
		{"s3-one-record.json", "s3", "invoices"},
		{"sqs.json", "sqs", "orders-to-ship"},
		{"sns.json", "sns", "order-events"},
		{"eventbridge-scheduled.json", "schedule", "nightly-invoices"},
		{"dynamodb-stream.json", "dynamodb-stream", "orders"},
		{"kinesis-stream.json", "kinesis", "order-status"},
	}
	a := quietApp(nil)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join("..", "event", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			out, err := a.Invoke(invokeCtx(), payload)
			var re *RouteError
			if out != nil || !errors.As(err, &re) || !errors.Is(err, ErrNoRoute) {
				t.Fatalf("got %s, %v; want a *RouteError", out, err)
			}
			if re.Kind != tt.kind || re.Key != tt.key {
				t.Errorf("got kind %q key %q, want %q %q", re.Kind, re.Key, tt.kind, tt.key)
			}
		})
	}
}

// TestMixedSources: a batch whose records come from two queues has no one
// route key.
func TestMixedSources(t *testing.T) {
	payload := []byte(`{"Records": [
		{"messageId": "1", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:1:a", "body": "x"},
		{"messageId": "2", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:1:b", "body": "y"}]}`)
	out, err := quietApp(nil).Invoke(invokeCtx(), payload)
	var re *RouteError
	if out != nil || !errors.As(err, &re) || re.Kind != "sqs" || len(re.Sources) != 2 ||
		!strings.Contains(err.Error(), "more than one source: a, b") {
		t.Fatalf("got %s, %v; want a *RouteError naming sources a and b", out, err)
	}
}
