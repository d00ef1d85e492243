package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

const (
	queueARN  = "arn:aws:sqs:eu-west-1:210987654321:order-events"
	fifoARN   = "arn:aws:sqs:eu-west-1:210987654321:order-events.fifo"
	streamARN = "arn:aws:kinesis:eu-west-1:210987654321:stream/clicks"
	tableARN  = "arn:aws:dynamodb:eu-west-1:210987654321:table/orders/stream/2026-03-01T00:00:00.000"
)

func sqsMessage(arn string, i int) events.SQSMessage {
	n := strconv.Itoa(i + 1)
	return events.SQSMessage{
		MessageId:      "m" + n,
		ReceiptHandle:  "AQEB" + n,
		Body:           `{"orderId":"o-` + n + `","action":"ship"}`,
		Attributes:     map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1773489600000"},
		EventSource:    "aws:sqs",
		EventSourceARN: arn,
		AWSRegion:      "eu-west-1",
	}
}

func kinesisRecord(i int) events.KinesisEventRecord {
	seq := "4965000000000000000000000000000000000000000000000000000" + strconv.Itoa(i+1)
	return events.KinesisEventRecord{
		EventID:        "shardId-000000000002:" + seq,
		EventName:      "aws:kinesis:record",
		EventSource:    "aws:kinesis",
		EventSourceArn: streamARN,
		EventVersion:   "1.0",
		AwsRegion:      "eu-west-1",
		Kinesis: events.KinesisRecord{
			KinesisSchemaVersion: "1.0",
			PartitionKey:         "order-" + strconv.Itoa(i+1),
			SequenceNumber:       seq,
			Data:                 []byte(`{"click":` + strconv.Itoa(i+1) + `}`),
		},
	}
}

func dynamodbRecord(i int) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{
		EventID:        "a9c3b1d2e4f5061728394a5b6c7d8e9" + strconv.Itoa(i+1),
		EventName:      "MODIFY",
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: tableARN,
		AWSRegion:      "eu-west-1",
		Change: events.DynamoDBStreamRecord{
			Keys:           map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("ORDER#" + strconv.Itoa(i+1))},
			NewImage:       map[string]events.DynamoDBAttributeValue{"status": events.NewStringAttribute("shipped")},
			SequenceNumber: "72000000000001234567" + strconv.Itoa(i+1),
			SizeBytes:      64,
			StreamViewType: "NEW_IMAGE",
		},
	}
}

// batchSource is an event source as a batch test sees it: its records by
// index, named by the id a handler counts calls by and the item
// identifier a batch reports.
type batchSource struct {
	name     string
	id, item func(i int) string
	// register routes the source's events to h made idempotent with g.
	register func(a *app.App, g *idempotency.Guard, h func(ctx context.Context, id string) error)
	// call runs the wrapper of h with g on record i, as another instance
	// would.
	call func(ctx context.Context, g *idempotency.Guard, h func(ctx context.Context, id string) error, i int) error
	// event returns the event of the records at idx.
	event func(idx []int) []byte
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func sqsSource(arn string) batchSource {
	queue := arn[strings.LastIndexByte(arn, ':')+1:]
	return batchSource{
		name: queue,
		id:   func(i int) string { return sqsMessage(arn, i).MessageId },
		item: func(i int) string { return sqsMessage(arn, i).MessageId },
		register: func(a *app.App, g *idempotency.Guard, h func(context.Context, string) error) {
			app.HandleSQS(a, queue, idempotency.SQS(g, func(ctx context.Context, m events.SQSMessage) error { return h(ctx, m.MessageId) }))
		},
		call: func(ctx context.Context, g *idempotency.Guard, h func(context.Context, string) error, i int) error {
			return idempotency.SQS(g, func(ctx context.Context, m events.SQSMessage) error { return h(ctx, m.MessageId) })(ctx, sqsMessage(arn, i))
		},
		event: func(idx []int) []byte {
			var e events.SQSEvent
			for _, i := range idx {
				e.Records = append(e.Records, sqsMessage(arn, i))
			}
			return mustJSON(e)
		},
	}
}

var kinesisSource = batchSource{
	name: "kinesis",
	id:   func(i int) string { return kinesisRecord(i).EventID },
	item: func(i int) string { return kinesisRecord(i).Kinesis.SequenceNumber },
	register: func(a *app.App, g *idempotency.Guard, h func(context.Context, string) error) {
		app.HandleKinesis(a, "clicks", idempotency.Kinesis(g, func(ctx context.Context, r events.KinesisEventRecord) error { return h(ctx, r.EventID) }))
	},
	call: func(ctx context.Context, g *idempotency.Guard, h func(context.Context, string) error, i int) error {
		return idempotency.Kinesis(g, func(ctx context.Context, r events.KinesisEventRecord) error { return h(ctx, r.EventID) })(ctx, kinesisRecord(i))
	},
	event: func(idx []int) []byte {
		var e events.KinesisEvent
		for _, i := range idx {
			e.Records = append(e.Records, kinesisRecord(i))
		}
		return mustJSON(e)
	},
}

var dynamodbSource = batchSource{
	name: "dynamodb",
	id:   func(i int) string { return dynamodbRecord(i).EventID },
	item: func(i int) string { return dynamodbRecord(i).Change.SequenceNumber },
	register: func(a *app.App, g *idempotency.Guard, h func(context.Context, string) error) {
		app.HandleDynamoDBStream(a, "orders", idempotency.DynamoDBStream(g, func(ctx context.Context, r events.DynamoDBEventRecord) error { return h(ctx, r.EventID) }))
	},
	call: func(ctx context.Context, g *idempotency.Guard, h func(context.Context, string) error, i int) error {
		return idempotency.DynamoDBStream(g, func(ctx context.Context, r events.DynamoDBEventRecord) error { return h(ctx, r.EventID) })(ctx, dynamodbRecord(i))
	},
	event: func(idx []int) []byte {
		var e events.DynamoDBEvent
		for _, i := range idx {
			e.Records = append(e.Records, dynamodbRecord(i))
		}
		return mustJSON(e)
	},
}

// failures returns the batch answer reporting the items of src's records
// at idx.
func (src *batchSource) failures(idx ...int) string {
	var b strings.Builder
	b.WriteString(`{"batchItemFailures":[`)
	for j, i := range idx {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"itemIdentifier":"` + src.item(i) + `"}`)
	}
	b.WriteString("]}")
	return b.String()
}

// calls counts a handler's calls per record id.
type calls struct {
	mu sync.Mutex // guards n
	n  map[string]int
}

// add counts a call for id and returns how many there were.
func (c *calls) add(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = make(map[string]int)
	}
	c.n[id]++
	return c.n[id]
}

// check checks the calls of src's records 0 to len(want)-1.
func (c *calls) check(t *testing.T, src *batchSource, want []int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, w := range want {
		if got := c.n[src.id(i)]; got != w {
			t.Errorf("record %d (%s): got %d calls, want %d", i, src.id(i), got, w)
		}
	}
}

// testBatchRedelivery: a batch of 5 in which some records fail on their
// first run, delivered again as each source's rules have it (the whole
// batch for SQS; from the failed record on, then the whole batch, for
// streams), runs only the records that failed (and those the first
// delivery did not reach) again.
func testBatchRedelivery(t *testing.T, e *env) {
	all := []int{0, 1, 2, 3, 4}
	std, fifo := sqsSource(queueARN), sqsSource(fifoARN)
	type delivery struct {
		records []int
		want    []int // the records reported failed
	}
	tests := []struct {
		src        *batchSource
		fail       []int // the records that fail on their first run
		deliveries []delivery
		calls      []int // per record, after every delivery
	}{
		{&std, []int{1, 3}, []delivery{{all, []int{1, 3}}, {all, nil}, {all, nil}}, []int{1, 2, 1, 2, 1}},
		{&fifo, []int{1}, []delivery{{all, []int{1, 2, 3, 4}}, {all, nil}}, []int{1, 2, 1, 1, 1}},
		{&kinesisSource, []int{2}, []delivery{{all, []int{2}}, {[]int{2, 3, 4}, nil}, {all, nil}}, []int{1, 1, 2, 1, 1}},
		{&dynamodbSource, []int{2}, []delivery{{all, []int{2}}, {[]int{2, 3, 4}, nil}, {all, nil}}, []int{1, 1, 2, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.src.name, func(t *testing.T) {
			g := e.guard(idempotency.Config{})
			fails := make(map[string]bool)
			for _, i := range tt.fail {
				fails[tt.src.id(i)] = true
			}
			var c calls
			a := app.New(quiet)
			tt.src.register(a, g, func(ctx context.Context, id string) error {
				if c.add(id) == 1 && fails[id] {
					return errors.New("downstream unavailable")
				}
				return nil
			})
			for j, d := range tt.deliveries {
				out, err := a.Invoke(context.Background(), tt.src.event(d.records))
				if want := tt.src.failures(d.want...); err != nil || string(out) != want {
					t.Fatalf("delivery %d: got %s, %v; want %s", j, out, err, want)
				}
			}
			c.check(t, tt.src, tt.calls)
		})
	}
}

// testRecordInProgress: a record whose handler runs elsewhere (another
// instance got it too) is reported failed without running; once that
// handler has completed, a redelivery skips it.
func testRecordInProgress(t *testing.T, e *env) {
	std := sqsSource(queueARN)
	tests := []struct {
		src   *batchSource
		want  []int // reported while record 2 runs elsewhere
		calls []int // during that delivery
	}{
		{&std, []int{2}, []int{1, 1, 1, 1, 1}},
		{&kinesisSource, []int{2}, []int{1, 1, 1, 0, 0}}, // the stream stops there
		{&dynamodbSource, []int{2}, []int{1, 1, 1, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.src.name, func(t *testing.T) {
			var c calls
			h := func(ctx context.Context, id string) error { c.add(id); return nil }
			started, release := make(chan struct{}), make(chan struct{})
			other := e.guard(idempotency.Config{})
			done := make(chan error, 1)
			go func() {
				done <- tt.src.call(context.Background(), other, func(ctx context.Context, id string) error {
					c.add(id)
					close(started)
					<-release
					return nil
				}, 2)
			}()
			<-started

			a := app.New(quiet)
			tt.src.register(a, e.guard(idempotency.Config{}), h)
			all := []int{0, 1, 2, 3, 4}
			out, err := a.Invoke(context.Background(), tt.src.event(all))
			if want := tt.src.failures(tt.want...); err != nil || string(out) != want {
				t.Fatalf("while in progress: got %s, %v; want %s", out, err, want)
			}
			c.check(t, tt.src, tt.calls)

			close(release)
			if err := <-done; err != nil {
				t.Fatalf("the other instance: %v", err)
			}
			out, err = a.Invoke(context.Background(), tt.src.event(all))
			if want := tt.src.failures(); err != nil || string(out) != want {
				t.Fatalf("redelivered: got %s, %v; want %s", out, err, want)
			}
			c.check(t, tt.src, []int{1, 1, 1, 1, 1})
		})
	}
}

// TestRecordInProgressError: the error of a record in progress elsewhere is
// ErrInProgress, which the batch reports.
func TestRecordInProgressError(t *testing.T) {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	started, release := make(chan struct{}), make(chan struct{})
	h := idempotency.SQS(g, func(ctx context.Context, m events.SQSMessage) error {
		close(started)
		<-release
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- h(context.Background(), sqsMessage(queueARN, 0)) }()
	<-started
	err := h(context.Background(), sqsMessage(queueARN, 0))
	close(release)
	if !errors.Is(err, idempotency.ErrInProgress) {
		t.Errorf("got %v, want ErrInProgress", err)
	}
	if err := <-done; err != nil {
		t.Errorf("first: %v", err)
	}
}

// TestRecordFinalError: a record whose handler failed with a Final error
// fails again on redelivery, without running, with the stored error.
func TestRecordFinalError(t *testing.T) {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	var c calls
	a := app.New(quiet)
	app.HandleSQS(a, "order-events", idempotency.SQS(g, func(ctx context.Context, m events.SQSMessage) error {
		c.add(m.MessageId)
		if m.MessageId == "m2" {
			return idempotency.Final(errors.New("order o-2 does not exist"))
		}
		return nil
	}))
	src := sqsSource(queueARN)
	for j := range 2 {
		out, err := a.Invoke(context.Background(), src.event([]int{0, 1, 2}))
		if want := src.failures(1); err != nil || string(out) != want {
			t.Fatalf("delivery %d: got %s, %v; want %s", j, out, err, want)
		}
	}
	c.check(t, &src, []int{1, 1, 1})
	var re *idempotency.ReplayedError
	err := idempotency.SQS(g, func(context.Context, events.SQSMessage) error { return nil })(context.Background(), sqsMessage(queueARN, 1))
	if !errors.As(err, &re) || re.Message != "order o-2 does not exist" {
		t.Errorf("got %v, want the replayed error", err)
	}
}

// TestRecordKeys: which records are duplicates of each other, by id or by
// body, on the source's route or a given one.
func TestRecordKeys(t *testing.T) {
	msg := func(arn, id, body string) events.SQSMessage {
		return events.SQSMessage{MessageId: id, Body: body, EventSourceARN: arn}
	}
	otherQueue := "arn:aws:sqs:eu-west-1:210987654321:invoices"
	tests := []struct {
		name          string
		opts1, opts2  []idempotency.RecordOption
		first, second events.SQSMessage
		dup           bool   // the second is a duplicate: it does not run
		wantErr       string // the second's error
	}{
		{"same id", nil, nil, msg(queueARN, "m1", "a"), msg(queueARN, "m1", "b"), true, ""},
		{"another id", nil, nil, msg(queueARN, "m1", "a"), msg(queueARN, "m2", "a"), false, ""},
		{"same id, another queue", nil, nil, msg(queueARN, "m1", "a"), msg(otherQueue, "m1", "a"), false, ""},
		{"same id, another queue, one route", []idempotency.RecordOption{idempotency.RecordRoute("orders")}, []idempotency.RecordOption{idempotency.RecordRoute("orders")},
			msg(queueARN, "m1", "a"), msg(otherQueue, "m1", "a"), true, ""},
		{"the default route is sqs/<queue>", nil, []idempotency.RecordOption{idempotency.RecordRoute("sqs/order-events")},
			msg(queueARN, "m1", "a"), msg(otherQueue, "m1", "a"), true, ""},
		{"no message id", nil, nil, msg(queueARN, "m1", "a"), msg(queueARN, "", "a"), false, "without a message id"},
		{"by body, JSON in another order", []idempotency.RecordOption{idempotency.KeyByBody()}, []idempotency.RecordOption{idempotency.KeyByBody()},
			msg(queueARN, "m1", `{"a":1,"b":"x"}`), msg(queueARN, "m2", ` {"b":"x", "a":1.0}`), true, ""},
		{"by body, another JSON", []idempotency.RecordOption{idempotency.KeyByBody()}, []idempotency.RecordOption{idempotency.KeyByBody()},
			msg(queueARN, "m1", `{"a":1}`), msg(queueARN, "m2", `{"a":2}`), false, ""},
		{"by body, bytes", []idempotency.RecordOption{idempotency.KeyByBody()}, []idempotency.RecordOption{idempotency.KeyByBody()},
			msg(queueARN, "m1", "not JSON"), msg(queueARN, "m2", "not JSON"), true, ""},
		{"by body, bytes differ in spacing", []idempotency.RecordOption{idempotency.KeyByBody()}, []idempotency.RecordOption{idempotency.KeyByBody()},
			msg(queueARN, "m1", "not JSON"), msg(queueARN, "m2", "not  JSON"), false, ""},
		{"by pointer", []idempotency.RecordOption{idempotency.KeyByBody("/orderId")}, []idempotency.RecordOption{idempotency.KeyByBody("/orderId")},
			msg(queueARN, "m1", `{"orderId":"o-1","at":1}`), msg(queueARN, "m2", `{"orderId":"o-1","at":2}`), true, ""},
		{"by pointer, missing", []idempotency.RecordOption{idempotency.KeyByBody("/orderId")}, []idempotency.RecordOption{idempotency.KeyByBody("/orderId")},
			msg(queueARN, "m1", `{"orderId":"o-1"}`), msg(queueARN, "m2", `{"order":"o-1"}`), false, "does not resolve"},
		{"by pointer, not JSON", []idempotency.RecordOption{idempotency.KeyByBody("/orderId")}, []idempotency.RecordOption{idempotency.KeyByBody("/orderId")},
			msg(queueARN, "m1", `{"orderId":"o-1"}`), msg(queueARN, "m2", `o-1`), false, "key from JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
			runs := 0
			h := func(ctx context.Context, m events.SQSMessage) error { runs++; return nil }
			if err := idempotency.SQS(g, h, tt.opts1...)(context.Background(), tt.first); err != nil {
				t.Fatal(err)
			}
			err := idempotency.SQS(g, h, tt.opts2...)(context.Background(), tt.second)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("got %v, want an error saying %q", err, tt.wantErr)
			}
			want := 2
			if tt.dup || tt.wantErr != "" {
				want = 1
			}
			if runs != want {
				t.Errorf("got %d runs, want %d", runs, want)
			}
		})
	}
}

// TestStreamRoutes: a stream record's default route is "kinesis/<stream>"
// or "dynamodb/<table>", the name read from its ARN; Kinesis keys by data
// with KeyByBody.
func TestStreamRoutes(t *testing.T) {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	runs := 0
	kh := func(ctx context.Context, r events.KinesisEventRecord) error { runs++; return nil }
	dh := func(ctx context.Context, r events.DynamoDBEventRecord) error { runs++; return nil }
	ctx := context.Background()
	steps := []struct {
		name string
		call func() error
		runs int // after the step
	}{
		{"kinesis", func() error { return idempotency.Kinesis(g, kh)(ctx, kinesisRecord(0)) }, 1},
		{"kinesis on its route", func() error {
			return idempotency.Kinesis(g, kh, idempotency.RecordRoute("kinesis/clicks"))(ctx, kinesisRecord(0))
		}, 1},
		{"kinesis on another route", func() error {
			return idempotency.Kinesis(g, kh, idempotency.RecordRoute("clicks"))(ctx, kinesisRecord(0))
		}, 2},
		{"kinesis by data, another record", func() error {
			r := kinesisRecord(1)
			r.Kinesis.Data = kinesisRecord(0).Kinesis.Data
			idempotency.Kinesis(g, kh, idempotency.KeyByBody())(ctx, kinesisRecord(0))
			return idempotency.Kinesis(g, kh, idempotency.KeyByBody())(ctx, r)
		}, 3},
		{"kinesis without an event id", func() error {
			r := kinesisRecord(4)
			r.EventID = ""
			if err := idempotency.Kinesis(g, kh)(ctx, r); err == nil || !strings.Contains(err.Error(), "without an event id") {
				return errors.New("got " + errString(err) + ", want an error")
			}
			return nil
		}, 3},
		{"dynamodb", func() error { return idempotency.DynamoDBStream(g, dh)(ctx, dynamodbRecord(0)) }, 4},
		{"dynamodb on its route", func() error {
			return idempotency.DynamoDBStream(g, dh, idempotency.RecordRoute("dynamodb/orders"))(ctx, dynamodbRecord(0))
		}, 4},
		{"dynamodb without an event id", func() error {
			r := dynamodbRecord(4)
			r.EventID = ""
			if err := idempotency.DynamoDBStream(g, dh)(ctx, r); err == nil {
				return errors.New("got no error")
			}
			return nil
		}, 4},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if runs != s.runs {
			t.Fatalf("%s: got %d runs, want %d", s.name, runs, s.runs)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func nopKinesis(context.Context, events.KinesisEventRecord) error   { return nil }
func nopDynamoDB(context.Context, events.DynamoDBEventRecord) error { return nil }

// BenchmarkRecord measures a per-record wrapper on memstore, each record
// new (the key taken, the handler run, its outcome stored), and a
// redelivered record skipped: SQS keyed by its message id with a 1 KB body,
// and a DynamoDB stream record, whose change is encoded as the payload.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	g, err := idempotency.New(idempotency.Config{Store: memstore.New()})
	if err != nil {
		b.Fatal(err)
	}
	sqs := idempotency.SQS(g, func(context.Context, events.SQSMessage) error { return nil })
	m := sqsMessage(queueARN, 0)
	m.Body = string(payload1K)
	b.Run("sqs/fresh", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			m.MessageId = "fresh-" + strconv.Itoa(i)
			if err := sqs(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sqs/redelivered", func(b *testing.B) {
		b.ReportAllocs()
		m.MessageId = "redelivered"
		sqs(ctx, m)
		for b.Loop() {
			if err := sqs(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	ddb := idempotency.DynamoDBStream(g, nopDynamoDB)
	r := dynamodbRecord(0)
	b.Run("dynamodb/fresh", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			r.EventID = "fresh-" + strconv.Itoa(i)
			if err := ddb(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRecordPanic: a record whose handler panicked is reported failed, and
// its redelivery runs the handler again.
func TestRecordPanic(t *testing.T) {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	var c calls
	a := app.New(quiet)
	app.HandleSQS(a, "order-events", idempotency.SQS(g, func(ctx context.Context, m events.SQSMessage) error {
		if c.add(m.MessageId) == 1 && m.MessageId == "m2" {
			panic("nil map")
		}
		return nil
	}))
	src := sqsSource(queueARN)
	for j, want := range []string{src.failures(1), src.failures()} {
		out, err := a.Invoke(context.Background(), src.event([]int{0, 1, 2}))
		if err != nil || string(out) != want {
			t.Fatalf("delivery %d: got %s, %v; want %s", j, out, err, want)
		}
	}
	c.check(t, &src, []int{1, 2, 1})
}
