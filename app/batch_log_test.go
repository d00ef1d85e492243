package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// HandleSQS/HandleSQSJSON promise a failed message is "logged with its
// message id (never its body)". A decode failure logs the JSON pointer of
// the failing value, and a pointer is made of the body's member names:
// for a map-typed field those are data (emails, account numbers, ...).
func TestDecodeErrorLogsBodyMemberNames(t *testing.T) {
	type balances struct {
		ByAccount map[string]int `json:"byAccount"`
	}
	var logs bytes.Buffer
	a := quietApp(&logs)
	HandleSQSJSON(a, "order-events", func(ctx context.Context, v balances) error { return nil })
	body := `{"byAccount":{"alice@example.com|IBAN-DE89370400440532013000":"x"}}`
	checkIDs(t, failures(t, a, invokeCtx(), sqsPayload(t, queueARN, 1, func(int) string { return body }, nil)), "m0")
	if l := logs.String(); strings.Contains(l, "alice@example.com") || strings.Contains(l, "IBAN-DE89") {
		t.Errorf("the log holds part of the message body:\n%s", l)
	}
}
