package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// TestEventPanicNeverEscapes: a panic anywhere in a non-HTTP event's
// pipeline (the route key function and the guard are the user's too, not
// only the handler) fails the invocation with an error that names the kind
// and the step but not the panic's value, which is logged with the stack.
func TestEventPanicNeverEscapes(t *testing.T) {
	ok := func(ctx context.Context, e events.S3Event) (any, error) { return "ok", nil }
	tests := []struct {
		name string
		opts []Option
		h    S3Handler
		want string
	}{
		{"route key", []Option{WithS3RouteKey(func(string) string { panic("secret-key-value") })}, ok,
			"app: internal error in the s3 route key"},
		{"guard", []Option{WithGuard(func(context.Context) error { panic("secret-guard-value") })}, ok,
			"app: internal error in the s3 guard"},
		{"handler", nil, func(context.Context, events.S3Event) (any, error) { panic("secret-handler-value") },
			"app: internal error in the s3 handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			a := quietApp(&logs, tt.opts...)
			a.HandleS3("invoices", tt.h)
			var out []byte
			var err error
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Fatalf("panic escaped Invoke: %v", v)
					}
				}()
				out, err = a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices.x", "k"}))
			}()
			if out != nil || err == nil || err.Error() != tt.want {
				t.Fatalf("got %s, %v; want the error %q", out, err, tt.want)
			}
			if !strings.Contains(logs.String(), `"msg":"panic"`) || !strings.Contains(logs.String(), "secret-") ||
				!strings.Contains(logs.String(), "goroutine ") {
				t.Errorf("the panic and its stack are not logged: %s", logs.String())
			}
		})
	}
}

// TestEventLogLines: a non-HTTP invocation writes a start and an end line,
// the end line naming the route key it went to, or its error.
func TestEventLogLines(t *testing.T) {
	var logs bytes.Buffer
	a := quietApp(&logs)
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) { return nil, nil })

	type line struct {
		Msg, Event, Route, Error string
	}
	lines := func() []line {
		var ls []line
		for _, s := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var l line
			if err := json.Unmarshal([]byte(s), &l); err != nil {
				t.Fatalf("log line %s: %v", s, err)
			}
			ls = append(ls, l)
		}
		logs.Reset()
		return ls
	}
	if _, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices.x", "k"})); err != nil {
		t.Fatal(err)
	}
	got := lines()
	want := []line{{Msg: "invocation start", Event: "s3"}, {Msg: "invocation end", Event: "s3", Route: "invoices"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"receipts.x", "k"})); err == nil {
		t.Fatal("no error for an unrouted bucket")
	}
	got = lines()
	want = []line{{Msg: "invocation start", Event: "s3"},
		{Msg: "invocation end", Event: "s3", Route: "receipts", Error: `app: no route: s3 route "receipts" is not registered`}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestEventSkipsPolicyInformation: the policy-information hook learns the
// caller of an HTTP request; an S3 event has none, so the hook does not
// run and its refusal does not stop the event. The guard does run.
func TestEventSkipsPolicyInformation(t *testing.T) {
	guarded := false
	a := quietApp(nil,
		WithPolicyInformation(func(r *http.Request) (context.Context, error) {
			t.Error("policy information ran for an S3 event")
			return nil, NewError(http.StatusUnauthorized, "who are you")
		}),
		WithGuard(func(ctx context.Context) error {
			ev, ok := event.FromContext(ctx)
			guarded = ok && ev.Kind == event.S3
			return nil
		}))
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) { return "ok", nil })
	out, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices.x", "k"}))
	if err != nil || string(out) != `"ok"` {
		t.Errorf("got %s, %v; want \"ok\"", out, err)
	}
	if !guarded {
		t.Error("the guard did not run with the S3 event in its context")
	}
}

func TestWithRouteKey(t *testing.T) {
	a := quietApp(nil, WithRouteKey(event.S3, strings.ToUpper))
	HandleS3(a, "ACME-REPORTS.EU", func(ctx context.Context, e events.S3Event) (any, error) { return "function", nil })
	a.HandleS3("OTHER", func(ctx context.Context, e events.S3Event) (any, error) { return "method", nil })
	for bucket, want := range map[string]string{"acme-reports.eu": `"function"`, "other": `"method"`} {
		out, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{bucket, "k"}))
		if err != nil || string(out) != want {
			t.Errorf("bucket %s: got %s, %v; want %s", bucket, out, err, want)
		}
	}

	// The last option for a kind wins; nil restores the default.
	a = quietApp(nil, WithS3RouteKey(strings.ToUpper), WithRouteKey(event.S3, nil))
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) { return "default", nil })
	if out, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices.uat", "k"})); err != nil || string(out) != `"default"` {
		t.Errorf("nil key: got %s, %v; want the default BucketPrefix", out, err)
	}
}

// TestRouteSetupPanics: mistakes in registering routes are found at setup,
// as ServeMux finds them.
func TestRouteSetupPanics(t *testing.T) {
	h := func(ctx context.Context, e events.S3Event) (any, error) { return nil, nil }
	for name, fn := range map[string]func(){
		"function then method": func() { a := quietApp(nil); HandleS3(a, "x", h); a.HandleS3("x", h) },
		"method then function": func() { a := quietApp(nil); a.HandleS3("x", h); HandleS3(a, "x", h) },
		"empty key":            func() { HandleS3(quietApp(nil), "", h) },
		"nil handler":          func() { HandleS3(quietApp(nil), "x", nil) },
		"key of an HTTP kind":  func() { quietApp(nil, WithRouteKey(event.APIGatewayV2, strings.ToLower)) },
		"key of unknown kind":  func() { quietApp(nil, WithRouteKey(event.Unknown, strings.ToLower)) },
		"handle an HTTP kind": func() {
			quietApp(nil).handle(event.ALB, "x", func(context.Context, *event.Event) ([]byte, error) { return nil, nil })
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				v := recover()
				if s, _ := v.(string); !strings.HasPrefix(s, "app: ") {
					t.Errorf("got panic %v, want one starting with \"app: \"", v)
				}
			}()
			fn()
		})
	}
}

// TestRouteErrorIsTyped: an event no route takes fails with a *RouteError
// naming its kind and key, whatever the app holds.
func TestRouteErrorIsTyped(t *testing.T) {
	for name, a := range map[string]*App{
		"no routes at all": quietApp(nil),
		"only HTTP routes": routedApp(nil),
		"another S3 bucket": func() *App {
			a := quietApp(nil)
			a.HandleS3("receipts", func(context.Context, events.S3Event) (any, error) { return nil, nil })
			return a
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			out, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices.x", "k"}))
			var re *RouteError
			if out != nil || !errors.As(err, &re) || re.Kind != "s3" || re.Key != "invoices" || !errors.Is(err, ErrNoRoute) {
				t.Fatalf("got %s, %#v; want a *RouteError for s3 key invoices", out, err)
			}
		})
	}
}

// TestEventsConcurrently runs S3 invocations at once under -race: the
// handler wrapper changes each invocation's own event, never shared state.
func TestEventsConcurrently(t *testing.T) {
	a := quietApp(nil)
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		return e.Records[0].S3.Object.Key, nil
	})
	payload := s3Event(t, [2]string{"invoices.x", "a+b"})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := a.Invoke(invokeCtx(), payload)
			if err == nil && string(out) != `"a b"` {
				err = errors.New("got " + string(out))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
