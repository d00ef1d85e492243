package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const (
	queueARN = "arn:aws:sqs:eu-west-1:210987654321:order-events"
	fifoARN  = "arn:aws:sqs:eu-west-1:210987654321:order-events.fifo"
	kinARN   = "arn:aws:kinesis:eu-west-1:210987654321:stream/clicks"
	ddbARN   = "arn:aws:dynamodb:eu-west-1:210987654321:table/orders/stream/2026-03-01T00:00:00.000"
)

func batchSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "event", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sqsPayload returns an SQS event of n messages from arn, with message ids
// "m0".."m<n-1>", bodies body(i) and message groups group(i) (nil: none).
func sqsPayload(t *testing.T, arn string, n int, body func(i int) string, group func(i int) string) []byte {
	t.Helper()
	var e events.SQSEvent
	for i := range n {
		m := events.SQSMessage{MessageId: "m" + strconv.Itoa(i), Body: body(i), EventSource: "aws:sqs", EventSourceARN: arn}
		if group != nil {
			m.Attributes = map[string]string{"MessageGroupId": group(i)}
		}
		e.Records = append(e.Records, m)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kinesisPayload(t *testing.T, n int) []byte {
	t.Helper()
	var e events.KinesisEvent
	for i := range n {
		e.Records = append(e.Records, events.KinesisEventRecord{
			EventSource: "aws:kinesis", EventSourceArn: kinARN, EventID: "shardId-000000000000:" + strconv.Itoa(100+i),
			Kinesis: events.KinesisRecord{SequenceNumber: strconv.Itoa(100 + i), Data: []byte("x"), PartitionKey: "p"},
		})
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dynamodbPayload(t *testing.T, n int) []byte {
	t.Helper()
	var e events.DynamoDBEvent
	for i := range n {
		e.Records = append(e.Records, events.DynamoDBEventRecord{
			EventID: "e" + strconv.Itoa(i), EventName: "INSERT", EventSource: "aws:dynamodb", EventSourceArn: ddbARN,
			Change: events.DynamoDBStreamRecord{SequenceNumber: strconv.Itoa(700 + i), StreamViewType: "NEW_IMAGE",
				NewImage: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("ORDER#" + strconv.Itoa(i))}},
		})
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// failures invokes a with payload and returns the item identifiers of its
// batchItemFailures, failing unless the answer has exactly that shape.
func failures(t *testing.T, a *App, ctx context.Context, payload []byte) []string {
	t.Helper()
	out, err := a.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var r struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.BatchItemFailures == nil {
		t.Fatalf("answer %s: %v; want a batchItemFailures list", out, err)
	}
	ids := []string{}
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	// The shape the aws-lambda-go types give, exactly.
	var want events.SQSEventResponse
	for _, id := range ids {
		want.BatchItemFailures = append(want.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	if want.BatchItemFailures == nil {
		want.BatchItemFailures = []events.SQSBatchItemFailure{}
	}
	if wb, _ := json.Marshal(want); string(wb) != string(out) {
		t.Errorf("answer %s, want %s", out, wb)
	}
	return ids
}

func checkIDs(t *testing.T, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("got failures %q, want %q", got, want)
	}
}

// TestSQSStandard: a real 10-message batch, three failing; every message is
// handled and the three are reported by message id, in order.
func TestSQSStandard(t *testing.T) {
	a := quietApp(nil)
	var handled []string
	HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
		handled = append(handled, m.MessageId)
		if n := m.MessageId[len(m.MessageId)-1]; n == '2' || n == '5' || n == '7' {
			return errors.New("boom")
		}
		return nil
	})
	got := failures(t, a, invokeCtx(), batchSample(t, "sqs-batch-10.json"))
	const p = "5b8e0d7a-1c2f-4e3a-9b6d-00000000000"
	checkIDs(t, got, p+"2", p+"5", p+"7")
	if len(handled) != 10 {
		t.Errorf("handled %d messages, want 10", len(handled))
	}
}

// TestSQSNoneFailed: a batch that succeeded answers an empty list.
func TestSQSNoneFailed(t *testing.T) {
	a := quietApp(nil)
	HandleSQS(a, "orders-to-ship", func(ctx context.Context, m events.SQSMessage) error { return nil })
	out, err := a.Invoke(invokeCtx(), batchSample(t, "sqs.json"))
	if err != nil || string(out) != `{"batchItemFailures":[]}` {
		t.Fatalf("got %s, %v; want an empty batchItemFailures", out, err)
	}
}

// TestSQSFIFO: a FIFO batch of two interleaved message groups stops at the
// first failure; it and every later message, of either group, are reported.
func TestSQSFIFO(t *testing.T) {
	a := quietApp(nil)
	var handled []string
	HandleSQS(a, "order-events.fifo", func(ctx context.Context, m events.SQSMessage) error {
		handled = append(handled, m.MessageId)
		if m.MessageId == "m2" {
			return errors.New("boom")
		}
		return nil
	}, WithConcurrency(4))
	group := func(i int) string { return []string{"tenant-a", "tenant-b"}[i%2] }
	got := failures(t, a, invokeCtx(), sqsPayload(t, fifoARN, 6, func(int) string { return "x" }, group))
	checkIDs(t, got, "m2", "m3", "m4", "m5")
	checkIDs(t, handled, "m0", "m1", "m2")
}

// TestSQSFIFOSample: the FIFO sample's queue is recognised as FIFO.
func TestSQSFIFOSample(t *testing.T) {
	a := quietApp(nil)
	const first = "c0ffee00-1234-4abc-8def-0123456789ab"
	// The sample's message, then a second one after it: the first fails,
	// and on a queue taken as FIFO the second is reported unhandled too.
	var e events.SQSEvent
	if err := json.Unmarshal(batchSample(t, "sqs-fifo.json"), &e); err != nil || len(e.Records) != 1 {
		t.Fatalf("sample: %v, %d records", err, len(e.Records))
	}
	second := e.Records[0]
	second.MessageId = "second"
	e.Records = append(e.Records, second)
	payload, _ := json.Marshal(e)
	ran := 0
	HandleSQS(a, "invoices.fifo", func(ctx context.Context, m events.SQSMessage) error {
		ran++
		if m.MessageId == first {
			return errors.New("boom")
		}
		return nil
	})
	checkIDs(t, failures(t, a, invokeCtx(), payload), first, "second")
	if ran != 1 {
		t.Errorf("ran %d messages, want 1: the FIFO batch stops at its first failure", ran)
	}
}

// TestSQSConcurrency: WithConcurrency(4) runs four messages at once, never
// more, and keeps results per message.
func TestSQSConcurrency(t *testing.T) {
	const limit, n = 4, 12
	a := quietApp(nil)
	var running, most atomic.Int32
	full := make(chan struct{})
	var once sync.Once
	HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
		r := running.Add(1)
		defer running.Add(-1)
		for {
			old := most.Load()
			if r <= old || most.CompareAndSwap(old, r) {
				break
			}
		}
		if r == limit {
			once.Do(func() { close(full) })
		}
		// The first messages wait until limit of them run at once.
		select {
		case <-full:
		case <-time.After(10 * time.Second):
			return errors.New("never ran " + strconv.Itoa(limit) + " at once")
		}
		i, _ := strconv.Atoi(m.MessageId[1:])
		if i%3 == 0 {
			return errors.New("boom")
		}
		return nil
	}, WithConcurrency(limit))
	got := failures(t, a, invokeCtx(), sqsPayload(t, queueARN, n, func(int) string { return "x" }, nil))
	checkIDs(t, got, "m0", "m3", "m6", "m9")
	if m := most.Load(); m != limit {
		t.Errorf("at most %d ran at once, want %d", m, limit)
	}
}

// TestAllFailed: a batch whose every record failed lists them all, and fails
// the invocation with ErrBatchFailed only when asked.
func TestAllFailed(t *testing.T) {
	fail := func(ctx context.Context, m events.SQSMessage) error { return errors.New("down") }
	payload := sqsPayload(t, queueARN, 3, func(int) string { return "x" }, nil)

	a := quietApp(nil)
	HandleSQS(a, "order-events", fail)
	checkIDs(t, failures(t, a, invokeCtx(), payload), "m0", "m1", "m2")

	a = quietApp(nil)
	HandleSQS(a, "order-events", fail, WithFailBatch())
	out, err := a.Invoke(invokeCtx(), payload)
	if out != nil || !errors.Is(err, ErrBatchFailed) {
		t.Fatalf("got %s, %v; want ErrBatchFailed", out, err)
	}

	// One success: no error even WithFailBatch.
	a = quietApp(nil)
	HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
		if m.MessageId == "m1" {
			return nil
		}
		return errors.New("down")
	}, WithFailBatch())
	checkIDs(t, failures(t, a, invokeCtx(), payload), "m0", "m2")

	// A stream whose first record failed has every record failed.
	a = quietApp(nil)
	HandleKinesis(a, "clicks", func(ctx context.Context, r events.KinesisEventRecord) error { return errors.New("down") }, WithFailBatch())
	if _, err := a.Invoke(invokeCtx(), kinesisPayload(t, 3)); !errors.Is(err, ErrBatchFailed) {
		t.Fatalf("kinesis: got %v, want ErrBatchFailed", err)
	}
}

// TestRecordPanic: a panic fails its record only, logged with the stack and
// the item, never the body.
func TestRecordPanic(t *testing.T) {
	var logs bytes.Buffer
	a := quietApp(&logs)
	HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
		if m.MessageId == "m1" {
			panic("kaboom")
		}
		return nil
	})
	got := failures(t, a, invokeCtx(), sqsPayload(t, queueARN, 3, func(i int) string { return "secret-body-" + strconv.Itoa(i) }, nil))
	checkIDs(t, got, "m1")
	l := logs.String()
	if !strings.Contains(l, `"msg":"record panic"`) || !strings.Contains(l, `"item":"m1"`) ||
		!strings.Contains(l, "kaboom") || !strings.Contains(l, "goroutine") {
		t.Errorf("logs lack the panic, item and stack:\n%s", l)
	}
	if strings.Contains(l, "secret-body") {
		t.Errorf("logs hold a message body:\n%s", l)
	}
}

type orderMsg struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// TestSQSJSONMalformed: a body that is not JSON or does not fit T fails its
// message with a logged reason, not the batch; the handler is not called.
func TestSQSJSONMalformed(t *testing.T) {
	var logs bytes.Buffer
	a := quietApp(&logs)
	var got []orderMsg
	HandleSQSJSON(a, "order-events", func(ctx context.Context, o orderMsg) error {
		got = append(got, o)
		return nil
	})
	bodies := []string{`{"id":"1","status":"paid"}`, `not json at all`, `{"id":2,"status":"x"}`, `{"id":"3","status":"shipped"}`}
	ids := failures(t, a, invokeCtx(), sqsPayload(t, queueARN, len(bodies), func(i int) string { return bodies[i] }, nil))
	checkIDs(t, ids, "m1", "m2")
	if want := []orderMsg{{"1", "paid"}, {"3", "shipped"}}; !slices.Equal(got, want) {
		t.Errorf("handled %v, want %v", got, want)
	}
	l := logs.String()
	if strings.Count(l, `"msg":"record failed"`) != 2 || !strings.Contains(l, "does not decode into app.orderMsg") {
		t.Errorf("logs lack the two reasons:\n%s", l)
	}
	if strings.Contains(l, "not json at all") {
		t.Errorf("logs hold a message body:\n%s", l)
	}
}

// TestSQSJSONSample: the 1 KB bodies of the real batch decode into a struct.
func TestSQSJSONSample(t *testing.T) {
	a := quietApp(nil)
	var mu sync.Mutex
	var got []string
	HandleSQSJSON(a, "order-events", func(ctx context.Context, o orderMsg) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, o.ID+" "+o.Status)
		return nil
	}, WithConcurrency(3))
	checkIDs(t, failures(t, a, invokeCtx(), batchSample(t, "sqs-batch-10.json")))
	slices.Sort(got)
	if len(got) != 10 || got[0] != "order-0000 shipped" {
		t.Errorf("got %q", got)
	}
}

// TestEndedContext: records not started when the invocation's ctx ends are
// reported failed; those done are not.
func TestEndedContext(t *testing.T) {
	t.Run("standard", func(t *testing.T) {
		for _, conc := range []int{1, 3} {
			ctx, cancel := context.WithCancel(invokeCtx())
			a := quietApp(nil)
			var handled atomic.Int32
			HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
				handled.Add(1)
				if m.MessageId == "m1" {
					cancel()
				}
				return nil
			}, WithConcurrency(conc))
			got := failures(t, a, ctx, sqsPayload(t, queueARN, 8, func(int) string { return "x" }, nil))
			// m0 and m1 were done; with conc at once, others may have
			// started before m1 cancelled, and those not done when the
			// batch answered are reported with those not started.
			// Records start in order, so the reported ones are the last.
			if h := int(handled.Load()); len(got) < 8-h || len(got) > 6 || h < 2 {
				t.Errorf("concurrency %d: handled %d, failures %q", conc, h, got)
			}
			// m0 and m1 were done; every record not started is reported.
			h := int(handled.Load())
			for _, id := range got {
				if id == "m0" || id == "m1" {
					t.Errorf("concurrency %d: done record %s reported", conc, id)
				}
			}
			for i := h; i < 8; i++ {
				if !slices.Contains(got, "m"+strconv.Itoa(i)) {
					t.Errorf("concurrency %d: record m%d, not started, not reported: %q", conc, i, got)
				}
			}
		}
	})
	t.Run("fifo", func(t *testing.T) {
		ctx, cancel := context.WithCancel(invokeCtx())
		a := quietApp(nil)
		HandleSQS(a, "order-events.fifo", func(ctx context.Context, m events.SQSMessage) error {
			if m.MessageId == "m1" {
				cancel()
			}
			return nil
		})
		checkIDs(t, failures(t, a, ctx, sqsPayload(t, fifoARN, 4, func(int) string { return "x" }, nil)), "m2", "m3")
	})
	t.Run("kinesis", func(t *testing.T) {
		ctx, cancel := context.WithCancel(invokeCtx())
		a := quietApp(nil)
		HandleKinesis(a, "clicks", func(ctx context.Context, r events.KinesisEventRecord) error {
			if r.Kinesis.SequenceNumber == "101" {
				cancel()
			}
			return nil
		})
		checkIDs(t, failures(t, a, ctx, kinesisPayload(t, 4)), "102")
	})
	t.Run("handler sees it", func(t *testing.T) {
		var logs bytes.Buffer
		ctx, cancel := context.WithCancel(invokeCtx())
		a := quietApp(&logs)
		HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
			cancel()
			return ctx.Err()
		})
		checkIDs(t, failures(t, a, ctx, sqsPayload(t, queueARN, 2, func(int) string { return "x" }, nil)), "m0", "m1")
		if l := logs.String(); strings.Contains(l, `"msg":"record failed"`) || !strings.Contains(l, "record not done: invocation context ended") {
			t.Errorf("an ended ctx is logged as a record failure:\n%s", l)
		}
	})
}

// TestStreamFailureInTheMiddle: a stream batch stops at the first failure
// and reports its sequence number alone.
func TestStreamFailureInTheMiddle(t *testing.T) {
	t.Run("kinesis", func(t *testing.T) {
		a := quietApp(nil)
		var handled []string
		HandleKinesis(a, "clicks", func(ctx context.Context, r events.KinesisEventRecord) error {
			handled = append(handled, r.Kinesis.SequenceNumber)
			if r.Kinesis.SequenceNumber == "102" {
				return errors.New("boom")
			}
			return nil
		}, WithConcurrency(5))
		checkIDs(t, failures(t, a, invokeCtx(), kinesisPayload(t, 5)), "102")
		checkIDs(t, handled, "100", "101", "102")
	})
	t.Run("dynamodb", func(t *testing.T) {
		a := quietApp(nil)
		var handled []string
		HandleDynamoDBStream(a, "orders", func(ctx context.Context, r events.DynamoDBEventRecord) error {
			handled = append(handled, r.Change.SequenceNumber)
			if r.Change.SequenceNumber == "701" {
				panic("boom")
			}
			return nil
		})
		checkIDs(t, failures(t, a, invokeCtx(), dynamodbPayload(t, 4)), "701")
		checkIDs(t, handled, "700", "701")
	})
	t.Run("samples", func(t *testing.T) {
		a := quietApp(nil)
		HandleKinesis(a, "order-status", func(ctx context.Context, r events.KinesisEventRecord) error { return nil })
		HandleDynamoDBStream(a, "orders", func(ctx context.Context, r events.DynamoDBEventRecord) error { return errors.New("x") })
		checkIDs(t, failures(t, a, invokeCtx(), batchSample(t, "kinesis-stream.json")))
		checkIDs(t, failures(t, a, invokeCtx(), batchSample(t, "dynamodb-stream.json")), "720000000000012345678")
	})
}

// TestNoItemIdentifier: a record without an identifier cannot be reported,
// so the invocation fails and Lambda retries the batch.
func TestNoItemIdentifier(t *testing.T) {
	a := quietApp(nil)
	called := false
	HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error { called = true; return nil })
	payload := []byte(`{"Records":[{"messageId":"m0","eventSource":"aws:sqs","eventSourceARN":"` + queueARN + `","body":"x"},
		{"eventSource":"aws:sqs","eventSourceARN":"` + queueARN + `","body":"y"}]}`)
	out, err := a.Invoke(invokeCtx(), payload)
	if out != nil || err == nil || !strings.Contains(err.Error(), "record 1 has no item identifier") || called {
		t.Fatalf("got %s, %v, called %v; want an error before any record runs", out, err, called)
	}
}

// TestUnroutedQueue: a queue without a route fails with a *RouteError.
func TestUnroutedQueue(t *testing.T) {
	a := quietApp(nil)
	HandleSQS(a, "other", func(ctx context.Context, m events.SQSMessage) error { return nil })
	out, err := a.Invoke(invokeCtx(), batchSample(t, "sqs-batch-10.json"))
	var re *RouteError
	if out != nil || !errors.As(err, &re) || re.Kind != "sqs" || re.Key != "order-events" {
		t.Fatalf("got %s, %v; want a *RouteError for sqs order-events", out, err)
	}
}

// TestUnmarshalImage: an image's attributes decode into a struct; a number
// that is not one is an error, not JSON injected into the item.
func TestUnmarshalImage(t *testing.T) {
	type item struct {
		PK     string            `json:"pk"`
		Status string            `json:"status"`
		Items  int               `json:"items"`
		Price  float64           `json:"price"`
		Tags   []string          `json:"tags"`
		Nums   []float64         `json:"nums"`
		Raw    []byte            `json:"raw"`
		Gone   *string           `json:"gone"`
		OK     bool              `json:"ok"`
		Meta   map[string]string `json:"meta"`
		List   []any             `json:"list"`
	}
	img := map[string]events.DynamoDBAttributeValue{
		"pk":     events.NewStringAttribute("ORDER#\"4711\""),
		"status": events.NewStringAttribute("shipped"),
		"items":  events.NewNumberAttribute("3"),
		"price":  events.NewNumberAttribute("12.50"),
		"tags":   events.NewStringSetAttribute([]string{"a", "b"}),
		"nums":   events.NewNumberSetAttribute([]string{"1", "2.5e3"}),
		"raw":    events.NewBinaryAttribute([]byte{0, 1, 2}),
		"gone":   events.NewNullAttribute(),
		"ok":     events.NewBooleanAttribute(true),
		"meta":   events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"k": events.NewStringAttribute("v")}),
		"list":   events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringAttribute("x"), events.NewBooleanAttribute(false)}),
	}
	got, err := UnmarshalImage[item](img)
	if err != nil {
		t.Fatal(err)
	}
	if got.PK != `ORDER#"4711"` || got.Status != "shipped" || got.Items != 3 || got.Price != 12.5 ||
		!slices.Equal(got.Tags, []string{"a", "b"}) || !slices.Equal(got.Nums, []float64{1, 2500}) ||
		!bytes.Equal(got.Raw, []byte{0, 1, 2}) || got.Gone != nil || !got.OK || got.Meta["k"] != "v" ||
		len(got.List) != 2 || got.List[0] != "x" || got.List[1] != false {
		t.Errorf("got %+v", got)
	}

	for _, n := range []string{`1,"status":"hacked"`, "", "NaN", "0x10", " 1", "1e"} {
		if v, err := UnmarshalImage[item](map[string]events.DynamoDBAttributeValue{"items": events.NewNumberAttribute(n)}); err == nil {
			t.Errorf("number %q: got %+v, want an error", n, v)
		}
	}
	if _, err := UnmarshalImage[item](map[string]events.DynamoDBAttributeValue{"items": events.NewStringAttribute("3")}); err == nil ||
		!strings.HasPrefix(err.Error(), "app: DynamoDB image does not decode into app.item") {
		t.Errorf("got %v, want an app: error naming the type", err)
	}

	// The stream sample's new image.
	var e events.DynamoDBEvent
	if err := json.Unmarshal(batchSample(t, "dynamodb-stream.json"), &e); err != nil {
		t.Fatal(err)
	}
	got, err = UnmarshalImage[item](e.Records[0].Change.NewImage)
	if err != nil || got.PK != "ORDER#4711" || got.Status != "shipped" || got.Items != 3 {
		t.Errorf("sample: got %+v, %v", got, err)
	}
}
