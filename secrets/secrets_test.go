package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/funcify/funcify/internal/awsfake"
)

func setup(t *testing.T, opts ...Option) (*Client, *awsfake.Server) {
	srv := awsfake.New(t)
	return New(secretsmanager.NewFromConfig(srv.Config()), opts...), srv
}

func TestGet(t *testing.T) {
	c, srv := setup(t)
	srv.SetSecretString("app/key", "s3cret")
	srv.SetSecretBinary("app/bin", []byte{0, 1, 0xff})
	ctx := context.Background()
	if got, err := c.Get(ctx, "app/key"); err != nil || string(got) != "s3cret" {
		t.Errorf("string secret: got %q, %v", string(got), err)
	}
	if got, err := c.Get(ctx, "app/bin"); err != nil || !bytes.Equal([]byte(got), []byte{0, 1, 0xff}) {
		t.Errorf("binary secret: got %v, %v", []byte(got), err)
	}
	r := srv.Requests(awsfake.GetSecretValue)[0]
	if r.Body["SecretId"] != "app/key" {
		t.Errorf("got request %v", r.Body)
	}
}

func TestGetJSON(t *testing.T) {
	c, srv := setup(t)
	srv.SetSecretString("db", `{"username":"app","password":"pw"}`)
	srv.SetSecretString("bad", `password=pw-not-json`)
	var creds struct{ Username, Password string }
	if err := c.GetJSON(context.Background(), "db", &creds); err != nil || creds.Username != "app" || creds.Password != "pw" {
		t.Errorf("got %+v, %v", creds, err)
	}
	err := c.GetJSON(context.Background(), "bad", &creds)
	if err == nil || strings.Contains(err.Error(), "pw-not-json") || !strings.Contains(err.Error(), "bad") {
		t.Errorf("got %v, want an error naming the secret and not quoting it", err)
	}
}

func TestErrors(t *testing.T) {
	c, srv := setup(t)
	srv.SetSecretString("locked/k", "v")
	srv.Deny("locked/")
	ctx := context.Background()
	tests := []struct {
		id   string
		want error
	}{
		{"missing", ErrNotFound},
		{"locked/k", ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, err := c.Get(ctx, tt.id)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if e, ok := errors.AsType[*Error](err); !ok || e.ID != tt.id {
				t.Errorf("got %#v, want an *Error with ID %q", err, tt.id)
			}
		})
	}
}

func TestThrottlingRetriedBySDK(t *testing.T) {
	c, srv := setup(t)
	srv.SetSecretString("k", "v")
	srv.Fail(awsfake.GetSecretValue, 2, 400, "ThrottlingException")
	if got, err := c.Get(context.Background(), "k"); err != nil || got != "v" {
		t.Fatalf("got %q, %v", string(got), err)
	}
	if got := srv.Count(awsfake.GetSecretValue); got != 3 {
		t.Errorf("got %d requests, want 3", got)
	}
}

func TestRedactedInLogs(t *testing.T) {
	c, srv := setup(t)
	srv.SetSecretString("k", "hunter2")
	v, err := c.Get(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&log, nil))
	l.Info("got secret", "value", v, "any", slog.AnyValue(v), "struct", struct{ V any }{v})
	s := log.String() + fmt.Sprintf("%v %s %q %+v", v, v, v, v)
	if strings.Contains(s, "hunter2") || !strings.Contains(s, "[REDACTED]") {
		t.Errorf("secret not redacted: %s", s)
	}
}

type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestTTL(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	c, srv := setup(t, WithTTL(time.Minute), withClock(clk.now))
	ctx := context.Background()
	srv.SetSecretString("k", "one")
	check := func(want string, requests int) {
		t.Helper()
		got, err := c.Get(ctx, "k")
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", string(got), err, want)
		}
		if n := srv.Count(awsfake.GetSecretValue); n != requests {
			t.Fatalf("got %d requests, want %d", n, requests)
		}
	}
	check("one", 1)
	srv.SetSecretString("k", "two")
	clk.add(time.Minute - time.Nanosecond)
	check("one", 1)
	clk.add(time.Nanosecond)
	check("two", 2)
}

func TestSingleFlight(t *testing.T) {
	c, srv := setup(t)
	srv.SetSecretString("k", "v")
	release, arrived := make(chan struct{}), make(chan struct{}, 1)
	srv.SetHook(func(string) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			v, err := c.Get(context.Background(), "k")
			if err == nil && v != "v" {
				err = errors.New("wrong value")
			}
			errs <- err
		})
	}
	<-arrived
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.Count(awsfake.GetSecretValue); got != 1 {
		t.Errorf("got %d requests for %d concurrent Gets, want 1", got, n)
	}
}
