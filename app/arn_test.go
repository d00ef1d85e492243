package app

import "testing"

func TestARNName(t *testing.T) {
	tests := []struct {
		arn, service, typ string
		want              string
		ok                bool
	}{
		{"arn:aws:sqs:us-east-1:123456789012:order-events", "sqs", "", "order-events", true},
		{"arn:aws:sqs:us-east-1:123456789012:orders.fifo", "sqs", "", "orders.fifo", true},
		{"arn:aws-cn:sqs:cn-north-1:123456789012:q", "sqs", "", "q", true},
		{"arn:aws:sns:us-east-1:123456789012:alerts", "sns", "", "alerts", true},
		{"arn:aws:sns:us-east-1:123456789012:alerts:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55", "sns", "", "alerts", true},
		{"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2015-06-27T00:48:05.899", "dynamodb", "table", "orders", true},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/clicks", "kinesis", "stream", "clicks", true},
		{"arn:aws:events:us-east-1:123456789012:rule/nightly-report", "events", "rule", "nightly-report", true},

		{"arn:aws:sqs:us-east-1:123456789012:q", "sns", "", "", false},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/", "kinesis", "stream", "", false},
		{"arn:aws:dynamodb:us-east-1:123456789012:global-table/orders", "dynamodb", "table", "", false},
		{"arn:aws:sqs:us-east-1:123456789012", "sqs", "", "", false},
		{"arn:aws:sqs:us-east-1:123456789012:", "sqs", "", "", false},
		{"arn::sqs:us-east-1:123456789012:q", "sqs", "", "", false},
		{"order-events", "sqs", "", "", false},
		{"", "sqs", "", "", false},
	}
	for _, tt := range tests {
		got, ok := arnName(tt.arn, tt.service, tt.typ)
		if got != tt.want || ok != tt.ok {
			t.Errorf("arnName(%q, %q, %q) = %q, %v; want %q, %v", tt.arn, tt.service, tt.typ, got, ok, tt.want, tt.ok)
		}
	}
}
