package idempotency_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

// TestUncheckedRecordsStayCompatible: a Guard that does not compare
// payloads does not hash them (the canonical hash of a 1 KB body costs
// several times what Do does), and its records hold no payload hash. A
// Guard that checks, on the same store later, takes such a record's
// payload as unknown: a redelivery of the message is a duplicate, not a
// mismatch, so turning CheckPayload on refuses no message sent before.
// Records written while checking are compared as ever.
func TestUncheckedRecordsStayCompatible(t *testing.T) {
	s := memstore.New()
	unchecked, err := idempotency.New(idempotency.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	checked, err := idempotency.New(idempotency.Config{Store: s, CheckPayload: true})
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	h := func(context.Context, events.SQSMessage) error { runs++; return nil }
	msg := func(id, body string) events.SQSMessage {
		return events.SQSMessage{MessageId: id, Body: body, EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:orders"}
	}
	ctx := context.Background()

	if err := idempotency.SQS(unchecked, h)(ctx, msg("m1", `{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	// The same message id with another body, seen by a checking Guard: the
	// record has no hash to compare, so it is a duplicate.
	if err := idempotency.SQS(checked, h)(ctx, msg("m1", `{"a":2}`)); err != nil {
		t.Errorf("checking Guard on an unchecked record: %v, want a duplicate (nil)", err)
	}
	if runs != 1 {
		t.Errorf("handler ran %d times, want 1", runs)
	}

	// A record written while checking is compared.
	if err := idempotency.SQS(checked, h)(ctx, msg("m2", `{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := idempotency.SQS(checked, h)(ctx, msg("m2", `{"a":2}`)); !errors.Is(err, idempotency.ErrPayloadMismatch) {
		t.Errorf("another body for a checked record: %v, want ErrPayloadMismatch", err)
	}
	if runs != 2 {
		t.Errorf("handler ran %d times, want 2", runs)
	}
}
