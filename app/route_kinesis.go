package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of a Kinesis stream's name, from its eventSourceARN. Records from more than one fail with a
// *RouteError.
func init() {
	keyedKinds[event.Kinesis] = keyedKind{source: kinesisSource}
}

func kinesisSource(ev *event.Event) (string, error) {
	e := ev.Value.(*events.KinesisEvent)
	return oneSource(ev.Kind, len(e.Records), func(i int) string { return e.Records[i].EventSourceArn }, "kinesis", "stream")
}

// HandleKinesis registers h for the records of the Kinesis data stream named
// stream (from its ARN, "arn:aws:kinesis:...:stream/<name>"; see
// [WithRouteKey] for [event.Kinesis]). h is called once per record, in the
// batch's order, and the first record that fails stops the batch: the
// invocation answers with its sequence number,
//
//	{"batchItemFailures":[{"itemIdentifier":"<sequenceNumber>"}]}
//
// and Lambda rewinds the shard to it, sending that record and every later
// one again. A batch that succeeded answers {"batchItemFailures":[]}.
//
// IMPORTANT: the event source mapping must list ReportBatchItemFailures in
// its FunctionResponseTypes. Without it Lambda ignores this answer and
// checkpoints past the whole batch, the failed record included.
//
// Lambda sends the records of one shard per invocation. Should a batch
// hold records of several shards, they are handled in the batch's order
// and the first failure stops all of them: the records not handled are
// delivered again rather than skipped.
//
// An error or a panic in h fails its record, logged with its sequence
// number (never its data). The records run under a ctx that ends shortly
// before the invocation's deadline (see [HandleSQS]); the first record not
// done by then is reported. A batch whose every record failed (the
// first one failed) answers as any other unless the route was registered
// [WithFailBatch]. [WithConcurrency] has no effect. A record without a
// sequence number fails the invocation, as Lambda could not rewind to it.
//
// It panics if stream is empty, h is nil, or stream is already registered.
func HandleKinesis(a *App, stream string, h func(ctx context.Context, r events.KinesisEventRecord) error, opts ...BatchOption) {
	if h == nil {
		panic("app: HandleKinesis needs a stream and a handler")
	}
	o := newBatchOptions(opts)
	a.handle(event.Kinesis, stream, func(ctx context.Context, ev *event.Event) ([]byte, error) {
		e := ev.Value.(*events.KinesisEvent)
		b := batch{
			a: a, kind: ev.Kind, order: orderStream, opts: o, n: len(e.Records),
			id:  func(i int) string { return e.Records[i].Kinesis.SequenceNumber },
			run: func(ctx context.Context, i int) error { return h(ctx, e.Records[i]) },
		}
		return b.serve(ctx)
	})
}
