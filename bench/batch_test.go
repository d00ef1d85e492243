package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funcify/funcify/app"
)

// BenchmarkSQSBatch: a 10-message SQS batch of 1 KB JSON bodies, each
// decoded into a struct and checked, answered with batchItemFailures.
// bare is aws-lambda-go with a handler that loops over the records and
// decodes each body with encoding/json; funcify is app.HandleSQSJSON.

// sqsFixture is the event package's sample: ten messages from the
// "order-events" queue, bodies of about 1 KB.
const sqsFixture = "sqs-batch-10.json"

// orderEvent is what each message body holds.
type orderEvent struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Customer string `json:"customer"`
	Note     string `json:"note"`
	Items    []struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	} `json:"items"`
}

var errNoItems = errors.New("order without items")

// handleOrder is the work per message, the same for both.
func handleOrder(ctx context.Context, o orderEvent) error {
	if o.ID == "" || len(o.Items) == 0 {
		return errNoItems
	}
	return nil
}

// bareSQS is what a hand-written aws-lambda-go function does.
func bareSQS(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	res := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range e.Records {
		var o orderEvent
		if err := json.Unmarshal([]byte(m.Body), &o); err != nil || handleOrder(ctx, o) != nil {
			res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return res, nil
}

func newFuncifySQS() lambda.Handler {
	// Logging stays on at Info, into io.Discard, so its cost is counted.
	a := app.New(app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	app.HandleSQSJSON(a, "order-events", handleOrder)
	return a
}

var batchAdapters = []adapter{
	{name: "bare", pooled: true, new: func() lambda.Handler { return lambda.NewHandler(bareSQS) }},
	{name: "funcify", new: newFuncifySQS},
}

func readSQSFixture(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "event", "testdata", sqsFixture))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// checkBatchResponse fails unless out is an empty batchItemFailures answer.
func checkBatchResponse(tb testing.TB, out []byte) {
	tb.Helper()
	var r events.SQSEventResponse
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.BatchItemFailures == nil || len(r.BatchItemFailures) != 0 {
		tb.Fatalf("answer %s: %v; want an empty batchItemFailures", out, err)
	}
}

func BenchmarkSQSBatch(b *testing.B) {
	payload := readSQSFixture(b)
	for _, ad := range batchAdapters {
		b.Run(ad.name, func(b *testing.B) {
			ctx := invokeContext(b)
			h := ad.new()
			out, err := h.Invoke(ctx, payload)
			if err != nil {
				b.Fatalf("Invoke: %v", err)
			}
			checkBatchResponse(b, out)

			b.ReportAllocs()
			for b.Loop() {
				out, err := h.Invoke(ctx, payload)
				if err != nil {
					b.Fatalf("Invoke: %v", err)
				}
				if ad.pooled {
					out = append([]byte(nil), out...) // see BenchmarkInvoke
				}
				sink = out
			}
		})
	}
}

// TestSQSBatchAgree: both handlers answer the fixture alike, and both
// report a message whose body does not fit.
func TestSQSBatchAgree(t *testing.T) {
	payload := readSQSFixture(t)
	var e events.SQSEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Records) != 10 {
		t.Fatalf("fixture has %d records, want 10", len(e.Records))
	}
	for _, m := range e.Records {
		if n := len(m.Body); n < 1000 || n > 1100 {
			t.Fatalf("body of %d bytes, want about 1 KB", n)
		}
	}
	e.Records[3].Body = `{"id":"x","items":[]}`
	e.Records[6].Body = `{"id":7}`
	broken, _ := json.Marshal(e)
	want := `{"batchItemFailures":[{"itemIdentifier":"` + e.Records[3].MessageId + `"},{"itemIdentifier":"` + e.Records[6].MessageId + `"}]}`
	for _, ad := range batchAdapters {
		t.Run(ad.name, func(t *testing.T) {
			h := ad.new()
			out, err := h.Invoke(invokeContext(t), payload)
			if err != nil {
				t.Fatal(err)
			}
			checkBatchResponse(t, out)
			out, err = h.Invoke(invokeContext(t), broken)
			if err != nil || string(out) != want {
				t.Errorf("got %s, %v; want %s", out, err, want)
			}
		})
	}
}
