package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "event", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type shipped struct {
	OrderID string `json:"orderId"`
	Carrier string `json:"carrier"`
}

// TestEventBridgeSample: the sample event reaches its (source,
// detail-type) route with the event and its detail decoded.
func TestEventBridgeSample(t *testing.T) {
	a := quietApp(nil)
	var got events.EventBridgeEvent
	var gotDetail shipped
	HandleEventBridge(a, "com.example.orders", "Order Shipped", func(ctx context.Context, e events.EventBridgeEvent, d shipped) error {
		got, gotDetail = e, d
		return nil
	})
	out, err := a.Invoke(invokeCtx(), readSample(t, "eventbridge.json"))
	if err != nil || string(out) != "null" {
		t.Fatalf("got %s, %v; want null, nil", out, err)
	}
	if gotDetail != (shipped{"4711", "DHL"}) {
		t.Errorf("got detail %+v, want 4711 DHL", gotDetail)
	}
	if got.ID != "7bf73129-1428-4cd3-a780-95db273d1602" || got.Region != "eu-west-1" || len(got.Resources) != 1 {
		t.Errorf("got event %+v", got)
	}
}

// TestEventBridgeWildcards: the most specific route wins, in the order
// (source, type), (source, *), (*, type), (*, *).
func TestEventBridgeWildcards(t *testing.T) {
	routes := [][2]string{
		{"com.example.orders", "Order Shipped"},
		{"com.example.orders", "*"},
		{"*", "Order Shipped"},
		{"*", "*"},
	}
	tests := []struct {
		source, detailType string
		registered         []int // indexes into routes
		want               int   // -1: no route
	}{
		{"com.example.orders", "Order Shipped", []int{0, 1, 2, 3}, 0},
		{"com.example.orders", "Order Shipped", []int{1, 2, 3}, 1},
		{"com.example.orders", "Order Shipped", []int{2, 3}, 2},
		{"com.example.orders", "Order Shipped", []int{3}, 3},
		{"com.example.orders", "Order Placed", []int{0, 2, 3}, 3},
		{"com.example.orders", "Order Placed", []int{0, 1, 2}, 1},
		{"com.example.billing", "Order Shipped", []int{0, 1, 2}, 2},
		{"com.example.billing", "Order Placed", []int{0, 1, 2}, -1},
		{"com.example.billing", "*", []int{0, 1}, -1}, // "*" in an event is no wildcard
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.detailType, func(t *testing.T) {
			a := quietApp(nil)
			got := -1
			for _, i := range tt.registered {
				HandleEventBridge(a, routes[i][0], routes[i][1], func(context.Context, events.EventBridgeEvent, json.RawMessage) error {
					got = i
					return nil
				})
			}
			payload := []byte(`{"version": "0", "id": "1", "source": ` + quote(tt.source) +
				`, "detail-type": ` + quote(tt.detailType) + `, "detail": {}}`)
			_, err := a.Invoke(invokeCtx(), payload)
			if got != tt.want {
				t.Fatalf("got route %d, want %d (err %v)", got, tt.want, err)
			}
			var re *RouteError
			if tt.want < 0 && (!errors.As(err, &re) || re.Kind != "eventbridge" || re.Key != tt.source+"/"+tt.detailType) {
				t.Errorf("got %v, want a *RouteError for eventbridge %s/%s", err, tt.source, tt.detailType)
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestEventBridgeUnrouted: an event no route takes fails with a
// *RouteError naming the kind, the source and the detail-type, and a
// scheduled rule's event never reaches an EventBridge route, even ("*",
// "*").
func TestEventBridgeUnrouted(t *testing.T) {
	a := quietApp(nil)
	called := false
	HandleEventBridge(a, "com.example.billing", "*", func(context.Context, events.EventBridgeEvent, json.RawMessage) error {
		called = true
		return nil
	})
	_, err := a.Invoke(invokeCtx(), readSample(t, "eventbridge.json"))
	if err == nil || err.Error() != `app: no route: eventbridge route "com.example.orders/Order Shipped" is not registered` {
		t.Errorf("got %v", err)
	}
	HandleEventBridge(a, "*", "*", func(context.Context, events.EventBridgeEvent, json.RawMessage) error {
		called = true
		return nil
	})
	_, err = a.Invoke(invokeCtx(), readSample(t, "eventbridge-scheduled.json"))
	var re *RouteError
	if called || !errors.As(err, &re) || re.Kind != "schedule" || re.Key != "nightly-invoices" {
		t.Errorf("got %v (called %v), want a *RouteError for schedule nightly-invoices", err, called)
	}
}

// TestEventBridgeRouteKey: WithRouteKey maps the source, not the
// detail-type.
func TestEventBridgeRouteKey(t *testing.T) {
	a := quietApp(nil, WithRouteKey(event.EventBridge, func(source string) string {
		return strings.TrimPrefix(source, "com.example.")
	}))
	var got string
	HandleEventBridge(a, "orders", "Order Shipped", func(ctx context.Context, e events.EventBridgeEvent, d json.RawMessage) error {
		got = e.Source + " " + string(d)
		return nil
	})
	if _, err := a.Invoke(invokeCtx(), readSample(t, "eventbridge.json")); err != nil {
		t.Fatal(err)
	}
	if want := `com.example.orders {"orderId": "4711", "carrier": "DHL"}`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestEventBridgeMalformedDetail: a detail that does not fit T fails the
// invocation with an error naming the type, offset and field; the handler
// does not run.
func TestEventBridgeMalformedDetail(t *testing.T) {
	var logs bytes.Buffer
	a := quietApp(&logs)
	called := false
	HandleEventBridge(a, "*", "*", func(context.Context, events.EventBridgeEvent, shipped) error {
		called = true
		return nil
	})
	payload := []byte(`{"source": "com.example.orders", "detail-type": "Order Shipped", "detail": {"orderId": 4711}}`)
	_, err := a.Invoke(invokeCtx(), payload)
	want := "app: eventbridge detail does not decode into app.shipped at byte 12: field /orderId: cannot use JSON number as Go string"
	if called || err == nil || err.Error() != want {
		t.Fatalf("got %v (called %v), want %q", err, called, want)
	}
	if !strings.Contains(logs.String(), `"msg":"invocation end"`) || !strings.Contains(logs.String(), "/orderId") {
		t.Errorf("the failure is not logged: %s", logs.String())
	}
}

// TestEventBridgeHandlerError: the handler's error fails the invocation
// as it is, and a panic fails it without its value.
func TestEventBridgeHandlerError(t *testing.T) {
	errDown := errors.New("ledger down")
	a := quietApp(nil)
	HandleEventBridge(a, "com.example.orders", "*", func(context.Context, events.EventBridgeEvent, shipped) error { return errDown })
	HandleEventBridge(a, "*", "*", func(context.Context, events.EventBridgeEvent, shipped) error { panic("boom") })
	if out, err := a.Invoke(invokeCtx(), readSample(t, "eventbridge.json")); out != nil || err != errDown {
		t.Errorf("got %s, %v; want %v", out, err, errDown)
	}
	payload := []byte(`{"source": "other", "detail-type": "x", "detail": {}}`)
	if _, err := a.Invoke(invokeCtx(), payload); err == nil || err.Error() != "app: internal error in the eventbridge handler" {
		t.Errorf("got %v", err)
	}
}

// TestEventBridgeRegistration: the programmer's errors panic at setup.
func TestEventBridgeRegistration(t *testing.T) {
	tests := []struct {
		name, source, detailType, want string
	}{
		{"empty source", "", "x", "app: HandleEventBridge needs a source, a detail-type and a handler"},
		{"empty type", "x", "", "app: HandleEventBridge needs a source, a detail-type and a handler"},
		{"twice", "com.example", "*", `app: eventbridge route "com.example/*" registered twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := quietApp(nil)
			h := func(context.Context, events.EventBridgeEvent, json.RawMessage) error { return nil }
			HandleEventBridge(a, "com.example", "*", h)
			defer func() {
				if v := recover(); v != tt.want {
					t.Errorf("got panic %v, want %q", v, tt.want)
				}
			}()
			HandleEventBridge(a, tt.source, tt.detailType, h)
		})
	}
}
