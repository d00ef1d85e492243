package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

type sumIn struct {
	A int `json:"a"`
	B int `json:"b"`
}

type sumOut struct {
	Sum int `json:"sum"`
}

func sumApp(buf *bytes.Buffer, opts ...Option) *App {
	a := quietApp(buf, opts...)
	HandleInvoke(a, func(ctx context.Context, in sumIn) (sumOut, error) {
		if in.A < 0 {
			return sumOut{}, errors.New("negative")
		}
		if in.A == 666 {
			panic("secret-invoke-value")
		}
		return sumOut{in.A + in.B}, nil
	})
	return a
}

// TestInvokeCustomPayload: a payload of no known kind goes to the
// direct-invoke route, and its result is the response.
func TestInvokeCustomPayload(t *testing.T) {
	var logs bytes.Buffer
	a := sumApp(&logs)
	out, err := a.Invoke(invokeCtx(), []byte(`{"a": 2, "b": 3}`))
	if err != nil || string(out) != `{"sum":5}` {
		t.Fatalf("got %s, %v; want {\"sum\":5}", out, err)
	}
	if !strings.Contains(logs.String(), `"msg":"invocation end","event":"invoke"`) {
		t.Errorf("no end line for the invoke: %s", logs.String())
	}
	if _, err := a.Invoke(invokeCtx(), []byte(`{"a": -1}`)); err == nil || err.Error() != "negative" {
		t.Errorf("handler error: got %v", err)
	}
	if _, err := a.Invoke(invokeCtx(), []byte(`{"a": 666}`)); err == nil || err.Error() != "app: internal error in the invoke handler" {
		t.Errorf("handler panic: got %v", err)
	}
}

// TestInvokeRejects: what is not valid JSON of no known kind never reaches
// the direct-invoke route: it fails with the *event.Error it failed with
// before, route or no route.
func TestInvokeRejects(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		reason  error
	}{
		{"empty", "", event.ErrEmpty},
		{"blank", " \n", event.ErrEmpty},
		{"garbage", "not json", event.ErrMalformed},
		{"truncated", `{"a": 1`, event.ErrMalformed},
		{"duplicate names", `{"a": 1, "a": 2}`, event.ErrMalformed},
		{"known kind malformed", `{"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": 7}}}]}`, event.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, a := range []*App{sumApp(nil), quietApp(nil)} {
				out, err := a.Invoke(invokeCtx(), []byte(tt.payload))
				var ee *event.Error
				if out != nil || !errors.As(err, &ee) || !errors.Is(err, tt.reason) {
					t.Errorf("got %s, %v; want an *event.Error matching %v", out, err, tt.reason)
				}
			}
		})
	}
	// Without a direct-invoke route, valid JSON of no known kind is the
	// typed unknown-kind error, as before.
	_, err := quietApp(nil).Invoke(invokeCtx(), []byte(`{"a": 2, "b": 3}`))
	var ee *event.Error
	if !errors.As(err, &ee) || !errors.Is(err, event.ErrUnknownKind) {
		t.Errorf("no route: got %v, want an *event.Error matching ErrUnknownKind", err)
	}
}

// TestInvokeMalformedIn: a payload that does not decode into In fails with
// an error naming In, the byte offset and the field.
func TestInvokeMalformedIn(t *testing.T) {
	tests := []struct{ payload, want string }{
		{`{"a": "2"}`, "app: invoke payload does not decode into app.sumIn at byte 6: field /a: cannot use JSON string as Go int"},
		{`[1, 2]`, "app: invoke payload does not decode into app.sumIn at byte 0: cannot use JSON array as Go app.sumIn"},
		{`{"b": 1.5}`, "app: invoke payload does not decode into app.sumIn at byte 6: field /b: cannot use JSON number as Go int"},
	}
	a := sumApp(nil)
	for _, tt := range tests {
		_, err := a.Invoke(invokeCtx(), []byte(tt.payload))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %q", tt.payload, err, tt.want)
		}
	}
}

// TestInvokeShapes: In may be any JSON shape, json.RawMessage included;
// a payload of a known kind goes to that kind's routes instead.
func TestInvokeShapes(t *testing.T) {
	a := quietApp(nil)
	HandleInvoke(a, func(ctx context.Context, in []int) (int, error) { return len(in), nil })
	if out, err := a.Invoke(invokeCtx(), []byte(`[1, 2, 3]`)); err != nil || string(out) != "3" {
		t.Errorf("array: got %s, %v", out, err)
	}
	b := quietApp(nil)
	HandleInvoke(b, func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
	if out, err := b.Invoke(invokeCtx(), []byte(`"hello"`)); err != nil || string(out) != `"hello"` {
		t.Errorf("raw: got %s, %v", out, err)
	}
	called := false
	HandleSchedule(b, "nightly-invoices", func(context.Context, events.EventBridgeEvent) error {
		called = true
		return nil
	})
	if _, err := b.Invoke(invokeCtx(), readSample(t, "eventbridge-scheduled.json")); err != nil || !called {
		t.Errorf("schedule: got %v, called %v", err, called)
	}
}

// TestInvokeGuard: the guard runs before the direct-invoke handler and
// sees the raw payload through event.FromContext.
func TestInvokeGuard(t *testing.T) {
	errDenied := errors.New("denied")
	a := sumApp(nil, WithGuard(func(ctx context.Context) error {
		ev, ok := event.FromContext(ctx)
		if !ok || ev.Kind != event.Unknown || !bytes.Contains(ev.Payload, []byte(`"b"`)) {
			return errDenied
		}
		return nil
	}))
	if out, err := a.Invoke(invokeCtx(), []byte(`{"a": 1, "b": 1}`)); err != nil || string(out) != `{"sum":2}` {
		t.Errorf("got %s, %v", out, err)
	}
	if _, err := a.Invoke(invokeCtx(), []byte(`{"a": 1}`)); err != errDenied {
		t.Errorf("got %v, want %v", err, errDenied)
	}
}

// TestInvokeTwice: a second direct-invoke route panics at setup.
func TestInvokeTwice(t *testing.T) {
	a := sumApp(nil)
	defer func() {
		if v := recover(); v != "app: HandleInvoke: the direct-invoke route is registered twice" {
			t.Errorf("got panic %v", v)
		}
	}()
	HandleInvoke(a, func(context.Context, sumIn) (sumOut, error) { return sumOut{}, nil })
}
