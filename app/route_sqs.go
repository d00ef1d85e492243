package app

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of an SQS event's queue, the name its eventSourceARN ends with. Records from more than one fail with a
// *RouteError.
func init() {
	keyedKinds[event.SQS] = keyedKind{source: sqsSource}
}

func sqsSource(ev *event.Event) (string, error) {
	e := ev.Value.(*events.SQSEvent)
	return oneSource(ev.Kind, len(e.Records), func(i int) string { return e.Records[i].EventSourceARN }, "sqs", "")
}

// HandleSQS registers h for the messages of the SQS queue named queue (the
// name its ARN ends with, ".fifo" included; see [WithRouteKey] for
// [event.SQS]). h is called once per message; the invocation answers with
// the messages that failed:
//
//	{"batchItemFailures":[{"itemIdentifier":"<messageId>"}, ...]}
//
// IMPORTANT: the event source mapping must list ReportBatchItemFailures in
// its FunctionResponseTypes. Without it Lambda ignores this answer and
// deletes every message of a batch whose invocation succeeded, the failed
// ones included.
//
// Each message is handled on its own: an error or a panic in h fails that
// message only, and is logged with its message id (never its body; but
// what h's error says is logged as it is). The messages run under a ctx
// that ends shortly before the invocation's deadline (a tenth of the time
// left, 50 ms to 500 ms), so that the answer reaches Lambda in time: then
// every message not done, not started or still running, is reported
// failed, so Lambda delivers it again; those done are not. A handler that
// ignores ctx runs on while its message may be delivered again.
//
//   - A standard queue's messages are handled one after the other, or up to
//     n at once [WithConcurrency](n); every failed message is reported.
//   - A FIFO queue's (its ARN ends with ".fifo") are handled in order, and
//     the first failure stops the batch: that message and every later one
//     are reported, those of other message groups too, so that no group's
//     messages are handled out of order and the failed ones come back in
//     their order.
//
// A batch whose every message failed still answers with all of them unless
// the route was registered [WithFailBatch]. A message without a messageId
// (Lambda always sends one) fails the invocation, as its failure could not
// be reported. An event whose messages come from more than one queue, or
// whose queue has no route, fails the invocation with a [*RouteError].
//
// It panics if queue is empty, h is nil, or queue is already registered.
func HandleSQS(a *App, queue string, h func(ctx context.Context, m events.SQSMessage) error, opts ...BatchOption) {
	if h == nil {
		panic("app: HandleSQS needs a queue and a handler")
	}
	handleSQS(a, queue, func(ctx context.Context, m *events.SQSMessage) error { return h(ctx, *m) }, opts)
}

// HandleSQSJSON registers h for the messages of the SQS queue named queue,
// as [HandleSQS] does, with each message's body decoded from JSON into a T
// once, with github.com/go-json-experiment/json (field names match as there:
// exactly, unless a field's tag says otherwise). A body that is not JSON or
// does not fit T fails its message, with the decoder's reason logged; h is
// not called for it.
//
// IMPORTANT: the event source mapping must list ReportBatchItemFailures in
// its FunctionResponseTypes; see [HandleSQS].
func HandleSQSJSON[T any](a *App, queue string, h func(ctx context.Context, v T) error, opts ...BatchOption) {
	if h == nil {
		panic("app: HandleSQSJSON needs a queue and a handler")
	}
	handleSQS(a, queue, func(ctx context.Context, m *events.SQSMessage) error {
		var v T
		if err := unmarshalTyped("sqs message body", []byte(m.Body), &v); err != nil {
			return err
		}
		return h(ctx, v)
	}, opts)
}

func handleSQS(a *App, queue string, h func(ctx context.Context, m *events.SQSMessage) error, opts []BatchOption) {
	o := newBatchOptions(opts)
	a.handle(event.SQS, queue, func(ctx context.Context, ev *event.Event) ([]byte, error) {
		e := ev.Value.(*events.SQSEvent)
		b := batch{
			a: a, kind: ev.Kind, opts: o, n: len(e.Records),
			id:  func(i int) string { return e.Records[i].MessageId },
			run: func(ctx context.Context, i int) error { return h(ctx, &e.Records[i]) },
		}
		if b.n > 0 && strings.HasSuffix(e.Records[0].EventSourceARN, ".fifo") {
			b.order = orderFIFO
		}
		return b.serve(ctx)
	})
}
