package app

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestBatchRecordsEndBeforeDeadline: on Lambda the invocation's deadline is
// the function's timeout, and an answer sent then is lost (the whole batch
// comes back, done records included). The records therefore run under a
// context that ends a reserve before it, so that the batch can answer.
func TestBatchRecordsEndBeforeDeadline(t *testing.T) {
	a := quietApp(nil)
	var got time.Time
	HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
		got, _ = ctx.Deadline()
		return nil
	})
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(invokeCtx(), deadline)
	defer cancel()
	if _, err := a.Invoke(ctx, sqsPayload(t, queueARN, 1, func(int) string { return "x" }, nil)); err != nil {
		t.Fatal(err)
	}
	if reserve := deadline.Sub(got); reserve < minAnswerReserve || reserve > maxAnswerReserve {
		t.Errorf("a record's deadline is %v before the invocation's, want %v to %v", reserve, minAnswerReserve, maxAnswerReserve)
	}
}

// TestBatchAnswersWithoutHandlersIgnoringCtx: a handler that ignores ctx
// does not hold the answer past the records' deadline: the batch answers,
// reporting every record not done.
func TestBatchAnswersWithoutHandlersIgnoringCtx(t *testing.T) {
	for _, conc := range []int{1, 2} {
		a := quietApp(nil)
		release := make(chan struct{})
		HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
			<-release // ignores ctx
			return nil
		}, WithConcurrency(conc))
		ctx, cancel := context.WithTimeout(invokeCtx(), 200*time.Millisecond)
		answered := make(chan []string, 1)
		go func() {
			answered <- failures(t, a, ctx, sqsPayload(t, queueARN, 4, func(int) string { return "x" }, nil))
		}()
		select {
		case ids := <-answered:
			if len(ids) != 4 {
				t.Errorf("concurrency %d: reported %q, want all 4 records (none done)", conc, ids)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("concurrency %d: the batch waits for handlers that ignore ctx", conc)
		}
		close(release)
		cancel()
	}
}
