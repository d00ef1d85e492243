package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func s3Event(t testing.TB, records ...[2]string) []byte {
	t.Helper()
	var e events.S3Event
	for _, r := range records {
		var rec events.S3EventRecord
		rec.EventSource = "aws:s3"
		rec.EventName = "ObjectCreated:Put"
		rec.S3.Bucket.Name = r[0]
		rec.S3.Object.Key = r[1]
		e.Records = append(e.Records, rec)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestS3Routes(t *testing.T) {
	a := quietApp(nil)
	var got []string
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		got = nil
		for _, r := range e.Records {
			got = append(got, r.S3.Object.Key)
			if r.S3.Object.URLDecodedKey != r.S3.Object.Key {
				t.Errorf("URLDecodedKey %q != Key %q", r.S3.Object.URLDecodedKey, r.S3.Object.Key)
			}
		}
		return map[string][]string{"processed": got}, nil
	})
	a.HandleS3("failing", func(ctx context.Context, e events.S3Event) (any, error) {
		return nil, errors.New("downstream unavailable")
	})
	a.HandleS3("panicking", func(ctx context.Context, e events.S3Event) (any, error) {
		panic("boom")
	})

	out, err := a.Invoke(invokeCtx(), s3Event(t,
		[2]string{"invoices.uat.example.io", "2026/my+invoice%2C+final%3F.pdf"},
		[2]string{"invoices.uat.example.io", "caf%C3%A9.txt"},
		[2]string{"invoices.uat.example.io", "plain"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2026/my invoice, final?.pdf", "café.txt", "plain"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got keys %q, want %q", got, want)
	}
	if string(out) != `{"processed":["2026/my invoice, final?.pdf","café.txt","plain"]}` {
		t.Errorf("got %s", out)
	}

	// A bucket name with no dots is its own route key.
	if _, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices", "k"})); err != nil {
		t.Errorf("bucket without dots: %v", err)
	}

	tests := []struct {
		name    string
		payload []byte
		is      error
		text    string
	}{
		{"mixed buckets", s3Event(t, [2]string{"invoices.a", "k"}, [2]string{"receipts.a", "k"}), ErrNoRoute, "more than one bucket"},
		{"unrouted bucket", s3Event(t, [2]string{"receipts.uat", "k"}), ErrNoRoute, `"receipts"`},
		{"no records", []byte(`{"Records":[{"eventSource":"aws:s3"}]}`), ErrNoRoute, ""},
		{"handler error", s3Event(t, [2]string{"failing.x", "k"}), nil, "downstream unavailable"},
		{"panic", s3Event(t, [2]string{"panicking.x", "k"}), nil, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := a.Invoke(invokeCtx(), tt.payload)
			if err == nil || out != nil {
				t.Fatalf("got %s, %v; want an error", out, err)
			}
			if tt.is != nil {
				var re *RouteError
				if !errors.Is(err, tt.is) || !errors.As(err, &re) {
					t.Errorf("got %v, want a *RouteError matching %v", err, tt.is)
				}
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("got %q, want it to contain %q", err, tt.text)
			}
		})
	}
}

func TestS3RouteKeyOption(t *testing.T) {
	a := quietApp(nil, WithS3RouteKey(func(bucket string) string {
		return strings.TrimPrefix(bucket, "acme-")
	}))
	a.HandleS3("reports.eu", func(ctx context.Context, e events.S3Event) (any, error) { return "ok", nil })
	out, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"acme-reports.eu", "k"}))
	if err != nil || string(out) != `"ok"` {
		t.Errorf("got %s, %v", out, err)
	}
}

func TestS3Guard(t *testing.T) {
	a := quietApp(nil, WithGuard(func(ctx context.Context) error { return fmt.Errorf("config not loaded") }))
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		t.Error("handler ran despite the guard")
		return nil, nil
	})
	if _, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices.x", "k"})); err == nil || !strings.Contains(err.Error(), "config not loaded") {
		t.Errorf("got %v, want the guard's error", err)
	}
}

func TestHandleS3Panics(t *testing.T) {
	a := quietApp(nil)
	a.HandleS3("x", func(ctx context.Context, e events.S3Event) (any, error) { return nil, nil })
	for name, fn := range map[string]func(){
		"duplicate": func() { a.HandleS3("x", func(ctx context.Context, e events.S3Event) (any, error) { return nil, nil }) },
		"empty":     func() { a.HandleS3("", func(ctx context.Context, e events.S3Event) (any, error) { return nil, nil }) },
		"nil":       func() { a.HandleS3("y", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
}

func TestBucketPrefix(t *testing.T) {
	for in, want := range map[string]string{"invoices.uat.example.io": "invoices", "invoices": "invoices", ".x": "", "a.b": "a"} {
		if got := BucketPrefix(in); got != want {
			t.Errorf("BucketPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
