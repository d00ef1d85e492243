package app

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
	"github.com/go-json-experiment/json/jsontext"
)

// The route key of a DynamoDB stream's table, named in its eventSourceARN. Records from more than one fail with a
// *RouteError.
func init() {
	keyedKinds[event.DynamoDBStream] = keyedKind{source: dynamodbSource}
}

func dynamodbSource(ev *event.Event) (string, error) {
	e := ev.Value.(*events.DynamoDBEvent)
	return oneSource(ev.Kind, len(e.Records), func(i int) string { return e.Records[i].EventSourceArn }, "dynamodb", "table")
}

// HandleDynamoDBStream registers h for the records of the DynamoDB stream of
// the table named table (from the stream's ARN,
// "arn:aws:dynamodb:...:table/<name>/stream/..."; see [WithRouteKey] for
// [event.DynamoDBStream]). h is called once per record, in the batch's
// order, and the first record that fails stops the batch: the invocation
// answers with its sequence number,
//
//	{"batchItemFailures":[{"itemIdentifier":"<dynamodb.SequenceNumber>"}]}
//
// and Lambda rewinds the shard to it, sending that record and every later
// one again. A batch that succeeded answers {"batchItemFailures":[]}.
// [UnmarshalImage] decodes a record's NewImage or OldImage into a struct.
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
// number (never its images). The records run under a ctx that ends shortly
// before the invocation's deadline (see [HandleSQS]); the first record not
// done by then is reported. A batch whose every record failed (the
// first one failed) answers as any other unless the route was registered
// [WithFailBatch]. [WithConcurrency] has no effect. A record without a
// sequence number fails the invocation, as Lambda could not rewind to it.
//
// It panics if table is empty, h is nil, or table is already registered.
func HandleDynamoDBStream(a *App, table string, h func(ctx context.Context, r events.DynamoDBEventRecord) error, opts ...BatchOption) {
	if h == nil {
		panic("app: HandleDynamoDBStream needs a table and a handler")
	}
	o := newBatchOptions(opts)
	a.handle(event.DynamoDBStream, table, func(ctx context.Context, ev *event.Event) ([]byte, error) {
		e := ev.Value.(*events.DynamoDBEvent)
		b := batch{
			a: a, kind: ev.Kind, order: orderStream, opts: o, n: len(e.Records),
			id:  func(i int) string { return e.Records[i].Change.SequenceNumber },
			run: func(ctx context.Context, i int) error { return h(ctx, e.Records[i]) },
		}
		return b.serve(ctx)
	})
}

// UnmarshalImage decodes a DynamoDB item, such as a stream record's
// Change.NewImage, into a T. The item is first written as plain JSON, the
// way the attribute values read: S as a string, N as a number (exactly as
// stored: it fits a numeric field, any or a jsontext.Value, not a string), BOOL, NULL as
// null, M as an object, L as an array, SS and NS as arrays, B and BS as
// base64 strings (which a []byte field takes). That JSON is then decoded
// into T once with github.com/go-json-experiment/json, whose field names
// match exactly unless a tag says otherwise; members T has no field for are
// ignored. A nil image decodes as an empty object.
func UnmarshalImage[T any](img map[string]events.DynamoDBAttributeValue) (v T, err error) {
	defer func() {
		// A value built in code rather than decoded (the zero
		// DynamoDBAttributeValue, say) makes aws-lambda-go's accessors
		// panic: it is an attribute value of no known type.
		if p := recover(); p != nil {
			var zero T
			v, err = zero, errors.New("app: DynamoDB image: attribute value of unknown type")
		}
	}()
	b, err := appendItem(make([]byte, 0, 256), img)
	if err != nil {
		return v, err
	}
	if err := unmarshalTyped("DynamoDB image", b, &v); err != nil {
		return v, err
	}
	return v, nil
}

// appendItem appends img as a JSON object, its names sorted.
func appendItem(dst []byte, img map[string]events.DynamoDBAttributeValue) ([]byte, error) {
	names := make([]string, 0, len(img))
	for name := range img {
		names = append(names, name)
	}
	slices.Sort(names)
	dst = append(dst, '{')
	for i, name := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, name)
		dst = append(dst, ':')
		var err error
		if dst, err = appendAttr(dst, img[name]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendAttr appends av as plain JSON.
func appendAttr(dst []byte, av events.DynamoDBAttributeValue) ([]byte, error) {
	var err error
	switch av.DataType() {
	case events.DataTypeString:
		return appendString(dst, av.String()), nil
	case events.DataTypeNumber:
		return appendNumber(dst, av.Number())
	case events.DataTypeBoolean:
		return strconv.AppendBool(dst, av.Boolean()), nil
	case events.DataTypeNull:
		return append(dst, "null"...), nil
	case events.DataTypeBinary:
		return appendBase64(dst, av.Binary()), nil
	case events.DataTypeMap:
		return appendItem(dst, av.Map())
	case events.DataTypeList:
		dst = append(dst, '[')
		for i, e := range av.List() {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendAttr(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case events.DataTypeStringSet:
		dst = append(dst, '[')
		for i, s := range av.StringSet() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s)
		}
		return append(dst, ']'), nil
	case events.DataTypeNumberSet:
		dst = append(dst, '[')
		for i, n := range av.NumberSet() {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendNumber(dst, n); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case events.DataTypeBinarySet:
		dst = append(dst, '[')
		for i, b := range av.BinarySet() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendBase64(dst, b)
		}
		return append(dst, ']'), nil
	}
	return nil, errors.New("app: DynamoDB attribute value of unknown type")
}

// appendNumber appends n, a DynamoDB number, as a JSON number, after
// checking that it is one: it is written into the JSON as it is.
func appendNumber(dst []byte, n string) ([]byte, error) {
	v := jsontext.Value(n)
	if n == "" || v.Kind() != '0' || !v.IsValid() || strings.ContainsAny(n, " \t\r\n") {
		return nil, errors.New("app: DynamoDB number attribute is not a number")
	}
	return append(dst, n...), nil
}

func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}
