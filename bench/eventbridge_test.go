package bench

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funcify/funcify/app"
)

// An EventBridge event from source com.example.billing, detail-type
// "Invoice Issued", with a 1 KB detail (an invoice with six lines).
const ebFixture = "eventbridge_1k.json"

type invoice struct {
	InvoiceID      string `json:"invoiceId"`
	OrderID        string `json:"orderId"`
	CustomerID     string `json:"customerId"`
	Currency       string `json:"currency"`
	IssuedAt       string `json:"issuedAt"`
	DueAt          string `json:"dueAt"`
	Total          string `json:"total"`
	Status         string `json:"status"`
	BillingAddress struct {
		Name       string `json:"name"`
		Street     string `json:"street"`
		City       string `json:"city"`
		PostalCode string `json:"postalCode"`
		Country    string `json:"country"`
	} `json:"billingAddress"`
	Lines []struct {
		SKU         string `json:"sku"`
		Description string `json:"description"`
		Quantity    int    `json:"quantity"`
		UnitPrice   string `json:"unitPrice"`
		TaxRate     string `json:"taxRate"`
	} `json:"lines"`
}

var errBadInvoice = errors.New("invoice without lines")

// handleInvoice is the work every adapter's handler does with the detail.
func handleInvoice(ctx context.Context, inv invoice) error {
	if inv.InvoiceID != "INV-2026-004711" || len(inv.Lines) != 6 {
		return errBadInvoice
	}
	return nil
}

// bareEventBridge is what a hand-written aws-lambda-go function does: route
// by source and detail-type by hand, decode the detail with encoding/json.
func bareEventBridge(ctx context.Context, e events.EventBridgeEvent) error {
	if e.Source != "com.example.billing" || e.DetailType != "Invoice Issued" {
		return errors.New("no route")
	}
	var inv invoice
	if err := json.Unmarshal(e.Detail, &inv); err != nil {
		return err
	}
	return handleInvoice(ctx, inv)
}

func newFuncifyEventBridge() lambda.Handler {
	// Logging stays on at Info, into io.Discard, so its cost is counted.
	a := app.New(app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	app.HandleEventBridge(a, "com.example.billing", "Invoice Issued",
		func(ctx context.Context, e events.EventBridgeEvent, inv invoice) error {
			return handleInvoice(ctx, inv)
		})
	return a
}

var ebAdapters = []adapter{
	{name: "bare", fixture: ebFixture, pooled: true, new: func() lambda.Handler { return lambda.NewHandler(bareEventBridge) }},
	{name: "funcify", fixture: ebFixture, new: newFuncifyEventBridge},
}

// BenchmarkEventBridge invokes each adapter in-process with the 1 KB
// detail event; both answer null.
func BenchmarkEventBridge(b *testing.B) {
	for _, ad := range ebAdapters {
		b.Run(ad.name, func(b *testing.B) {
			payload := readFixture(b, ad.fixture)
			ctx := invokeContext(b)
			h := ad.new()
			out, err := h.Invoke(ctx, payload)
			if err != nil || string(out) != "null" {
				b.Fatalf("Invoke: %s, %v", out, err)
			}
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

// TestEventBridgeAgree: both adapters handle the fixture, and both fail on
// a detail that is not an invoice of six lines, so neither posts a fast
// number by skipping the work.
func TestEventBridgeAgree(t *testing.T) {
	payload := readFixture(t, ebFixture)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatal(err)
	}
	if n := len(raw["detail"]); n < 1000 || n > 1100 {
		t.Errorf("detail is %d bytes, want about 1 KB", n)
	}
	raw["detail"] = json.RawMessage(`{"invoiceId": "INV-2026-004711", "lines": []}`)
	bad, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range ebAdapters {
		h := ad.new()
		if out, err := h.Invoke(invokeContext(t), payload); err != nil || string(out) != "null" {
			t.Errorf("%s: got %s, %v; want null", ad.name, out, err)
		}
		if _, err := h.Invoke(invokeContext(t), bad); err == nil {
			t.Errorf("%s: a bad invoice did not fail", ad.name)
		}
	}
}
