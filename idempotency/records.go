package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// RecordOption configures the per-record wrappers [SQS], [Kinesis] and
// [DynamoDBStream].
type RecordOption func(*recordOptions)

type recordOptions struct {
	route    string   // "" for the source's default
	byBody   bool     // key by the content, not the record's id
	pointers []string // into the content, with byBody
	check    bool     // the Guard compares payloads: hash them
}

// RecordRoute sets the route of the records' keys (see [NewKey]),
// instead of the source's: "sqs/<queue>", "kinesis/<stream>" or
// "dynamodb/<table>", the name read from each record's event source ARN.
// Wrappers with the same route on Guards of the same Scope see each
// other's records as duplicates: give one route to the queues (or streams)
// whose records, keyed by their body ([KeyByBody]), should run once across
// them, such as a queue and the queue that replaced it. Message and event
// ids are unique to their queue or stream anyway.
func RecordRoute(route string) RecordOption {
	return func(o *recordOptions) { o.route = route }
}

// KeyByBody keys each record by its content instead of its id: an SQS
// message's body, a Kinesis record's data. Records with the same content
// are then duplicates, even when they were sent twice and carry two ids (a
// producer that retried a send). With pointers, the identity is the values
// at those JSON pointers into the content ("/orderId"), as [KeyFromJSON]
// takes them: a record whose content is not JSON, or in which a pointer
// does not resolve, fails without running. Without pointers, the identity
// is the whole content, in canonical form if it is JSON (see
// [KeyFromJSON]), else as its bytes.
//
// A DynamoDB stream record has no content of its own: [DynamoDBStream]
// panics with this option.
func KeyByBody(pointers ...string) RecordOption {
	return func(o *recordOptions) { o.byBody, o.pointers = true, pointers }
}

func newRecordOptions(g *Guard, opts []RecordOption) recordOptions {
	o := recordOptions{check: g.check}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// SQS returns h made idempotent per message with g, as the function
// app.HandleSQS takes:
//
//	app.HandleSQS(a, "order-events", idempotency.SQS(guard, onOrderEvent))
//
// A message is keyed by its message id (or its body, [KeyByBody]) on the
// route "sqs/<queue>" (or [RecordRoute]), the payload being its body.
// So that a batch redelivered after a partial failure runs only the
// messages that failed:
//
//   - A message whose handler completed before returns nil without running
//     h: the batch deletes it.
//   - One whose handler runs elsewhere (another instance got the same
//     message) returns [ErrInProgress], so that the batch reports it
//     failed and SQS delivers it again later; with Config.Wait it waits for
//     that handler's outcome instead, within its deadline.
//   - One whose handler failed runs h again: h's error (not marked [Final])
//     kept no record. An error marked Final is replayed as a
//     [*ReplayedError] instead, failing the message again without running h,
//     until SQS moves it to the dead-letter queue; return nil rather than a
//     Final error to drop a message that cannot succeed.
//
// The record of a message is kept for Config.TTL: set it longer than the
// queue's visibility timeout times its maxReceiveCount, so that no
// redelivery comes after the record is gone. A message without a message
// id fails without running h. SQS panics if g or h is nil.
func SQS(g *Guard, h func(ctx context.Context, m events.SQSMessage) error, opts ...RecordOption) func(ctx context.Context, m events.SQSMessage) error {
	if g == nil || h == nil {
		panic("idempotency: SQS needs a Guard and a handler")
	}
	o := newRecordOptions(g, opts)
	return func(ctx context.Context, m events.SQSMessage) error {
		key, err := o.key("sqs", m.EventSourceARN, sqsName, "a message id", m.MessageId, []byte(m.Body))
		if err != nil {
			return err
		}
		return runRecord(ctx, g, key, func(ctx context.Context) error { return h(ctx, m) })
	}
}

// Kinesis returns h made idempotent per record with g, as the function
// app.HandleKinesis takes:
//
//	app.HandleKinesis(a, "clicks", idempotency.Kinesis(guard, countClick))
//
// A record is keyed by its event id, "shardId-...:<sequenceNumber>" (or its
// data, [KeyByBody]), on the route "kinesis/<stream>" (or
// [RecordRoute]), the payload being its data. A record that completed
// before returns nil without running h, one whose handler runs elsewhere
// returns [ErrInProgress], and one whose handler failed runs h again, as
// for [SQS]: when Lambda rewinds the shard to the first failed record and
// sends the later ones again, or retries the whole batch, the records that
// completed are not run twice. As the stream stops at the first failure,
// a record in progress elsewhere holds back the shard until its handler
// completes. A record without an event id fails without running h.
// Kinesis panics if g or h is nil.
func Kinesis(g *Guard, h func(ctx context.Context, r events.KinesisEventRecord) error, opts ...RecordOption) func(ctx context.Context, r events.KinesisEventRecord) error {
	if g == nil || h == nil {
		panic("idempotency: Kinesis needs a Guard and a handler")
	}
	o := newRecordOptions(g, opts)
	return func(ctx context.Context, r events.KinesisEventRecord) error {
		key, err := o.key("kinesis", r.EventSourceArn, kinesisName, "an event id", r.EventID, r.Kinesis.Data)
		if err != nil {
			return err
		}
		return runRecord(ctx, g, key, func(ctx context.Context) error { return h(ctx, r) })
	}
}

// DynamoDBStream returns h made idempotent per record with g, as the
// function app.HandleDynamoDBStream takes:
//
//	app.HandleDynamoDBStream(a, "orders", idempotency.DynamoDBStream(guard, onOrderChange))
//
// A record is keyed by its event id on the route "dynamodb/<table>" (or
// [RecordRoute]), the payload being its change (keys, images, sequence
// number) as JSON. Records are skipped, refused while in progress and run
// again after a failure as for [Kinesis]. A record without an event id
// fails without running h. DynamoDBStream panics if g or h is nil, or with
// [KeyByBody].
func DynamoDBStream(g *Guard, h func(ctx context.Context, r events.DynamoDBEventRecord) error, opts ...RecordOption) func(ctx context.Context, r events.DynamoDBEventRecord) error {
	if g == nil || h == nil {
		panic("idempotency: DynamoDBStream needs a Guard and a handler")
	}
	o := newRecordOptions(g, opts)
	if o.byBody {
		panic("idempotency: DynamoDBStream: a stream record has no body to key by (KeyByBody)")
	}
	return func(ctx context.Context, r events.DynamoDBEventRecord) error {
		var change []byte // the payload, only for a Guard that compares it
		if o.check {
			var err error
			if change, err = json.Marshal(r.Change); err != nil {
				return fmt.Errorf("idempotency: encode the record's change: %w", err)
			}
		}
		key, err := o.key("dynamodb", r.EventSourceArn, dynamodbName, "an event id", r.EventID, change)
		if err != nil {
			return err
		}
		return runRecord(ctx, g, key, func(ctx context.Context) error { return h(ctx, r) })
	}
}

// key returns the key of a record of the source kind: by its id (what
// names it) or its body, on the route o sets or kind and the name that
// name finds in arn.
func (o *recordOptions) key(kind, arn string, name func(string) string, what, id string, body []byte) (Key, error) {
	route := o.route
	if route == "" {
		route = kind + "/" + name(arn)
	}
	if o.byBody {
		k, err := KeyFromJSON(route, body, o.pointers...)
		if err != nil && len(o.pointers) == 0 {
			// Not JSON: the bytes are the identity. No JSON text's
			// canonical form equals them, so they share no key with one.
			return NewKey(route, string(body), body), nil
		}
		return k, err
	}
	if id == "" {
		return Key{}, errors.New("idempotency: " + kind + " record without " + what)
	}
	if !o.check {
		return uncheckedKey(route, id), nil // the body's canonical hash would go unused
	}
	return NewKey(route, id, body), nil
}

// runRecord runs h once per key, and replays its outcome: nil, or a Final
// error.
func runRecord(ctx context.Context, g *Guard, key Key, h func(ctx context.Context) error) error {
	_, err := Do(ctx, g, key, func(ctx context.Context) (struct{}, error) { return struct{}{}, h(ctx) })
	return err
}

// sqsName returns the queue's name in an SQS ARN,
// "arn:aws:sqs:<region>:<account>:<name>".
func sqsName(arn string) string {
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

// kinesisName returns the stream's name in a Kinesis ARN,
// "arn:aws:kinesis:<region>:<account>:stream/<name>".
func kinesisName(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// dynamodbName returns the table's name in a DynamoDB stream's ARN,
// "arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>".
func dynamodbName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":table/")
	if !ok {
		return arn
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}
