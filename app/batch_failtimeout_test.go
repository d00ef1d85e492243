package app

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestFailBatchOnTimeout: WithFailBatch's doc says an invocation fails
// with ErrBatchFailed when every record failed. When the time runs out
// before any record ran (no handler called, nothing failed), the invocation
// still fails with "every record of the batch failed": a function error in
// the Errors metric and alarms meant for a downstream that is down, and for
// streams with BisectBatchOnFunctionError a split batch.
func TestFailBatchOnTimeout(t *testing.T) {
	a := quietApp(nil)
	var calls atomic.Int32
	HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
		calls.Add(1)
		return nil
	}, WithFailBatch())
	ctx, cancel := context.WithTimeout(invokeCtx(), 20*time.Millisecond) // less than the 50 ms reserve
	defer cancel()
	_, err := a.Invoke(ctx, sqsPayload(t, queueARN, 3, func(int) string { return "x" }, nil))
	if errors.Is(err, ErrBatchFailed) {
		t.Errorf("no record ran (%d handler calls), none failed, yet: %v", calls.Load(), err)
	}
}
