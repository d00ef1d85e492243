package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/retry"
)

// setup returns a client on a fresh fake, with retries without waiting and
// its log written to a buffer.
func setup(t *testing.T, opts ...Option) (*Client, *awsfake.Server, *bytes.Buffer) {
	srv := awsfake.New(t)
	var log bytes.Buffer
	opts = append([]Option{
		WithLogger(slog.New(slog.NewJSONHandler(&log, nil))),
		WithRetry(retry.WithBackoff(-1, 0)),
	}, opts...)
	return New(secretsmanager.NewFromConfig(srv.Config()), opts...), srv, &log
}

func TestGet(t *testing.T) {
	c, srv, _ := setup(t)
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
	c, srv, _ := setup(t)
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
	c, srv, _ := setup(t)
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

func TestThrottlingRetried(t *testing.T) {
	c, srv, log := setup(t)
	srv.SetSecretString("k", "v")
	srv.Fail(awsfake.GetSecretValue, 2, 400, "ThrottlingException")
	if got, err := c.Get(context.Background(), "k"); err != nil || got != "v" {
		t.Fatalf("got %q, %v", string(got), err)
	}
	if got := srv.Count(awsfake.GetSecretValue); got != 3 {
		t.Errorf("got %d requests, want 3", got)
	}
	if n := strings.Count(log.String(), `"msg":"secrets: retrying"`); n != 2 {
		t.Errorf("%d retries logged, want 2: %s", n, log)
	}
	if strings.Contains(log.String(), `"v"`) {
		t.Errorf("the value was logged: %s", log)
	}
}

func TestNotRetried(t *testing.T) {
	c, srv, _ := setup(t)
	srv.Fail(awsfake.GetSecretValue, 5, 400, "ValidationException")
	_, err := c.Get(context.Background(), "k")
	if _, ok := errors.AsType[*retry.Error](err); ok {
		t.Errorf("got %v, want the SDK's error without a *retry.Error around it", err)
	}
	if got := srv.Count(awsfake.GetSecretValue); got != 1 {
		t.Errorf("got %d requests, want 1", got)
	}
}

func TestNewNilAPIPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "secrets: New with a nil API" {
			t.Errorf("got panic %v, want secrets: New with a nil API", r)
		}
	}()
	New(nil)
}

func TestRedactedInLogs(t *testing.T) {
	c, srv, _ := setup(t)
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
	c, srv, _ := setup(t, WithTTL(time.Minute), withClock(clk.now))
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
	c, srv, _ := setup(t)
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

// throttledOnceAPI holds the first request until release is closed, then
// answers it with a throttle; it answers later ones with the value.
type throttledOnceAPI struct {
	calls   atomic.Int64
	release chan struct{}
}

func (a *throttledOnceAPI) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if a.calls.Add(1) == 1 {
		select {
		case <-a.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("v")}, nil
}

// TestGetLeaderDeadlineNotShared: a Get leads the fetch, its first try is
// throttled, and retry.Do gives up with ErrDeadline, a try being expected to
// take two minutes and the leader having one left. That failure is of the
// leader's deadline's making: a waiting Get with an hour left must fetch
// with its own time, not inherit it.
func TestGetLeaderDeadlineNotShared(t *testing.T) {
	api := &throttledOnceAPI{release: make(chan struct{})}
	c := New(api, WithTTL(time.Minute), WithRetry(retry.WithMinAttemptTime(2*time.Minute)))
	lctx, lcancel := context.WithTimeout(context.Background(), time.Minute)
	defer lcancel()
	wctx, wcancel := context.WithTimeout(context.Background(), time.Hour)
	defer wcancel()
	var wg sync.WaitGroup
	var lerr, werr error
	var wv logging.Secret
	wg.Go(func() { _, lerr = c.Get(lctx, "k") })
	for deadline := time.Now().Add(5 * time.Second); api.calls.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the leader did not call GetSecretValue")
		}
		runtime.Gosched()
	}
	wg.Go(func() { wv, werr = c.Get(wctx, "k") })
	for deadline := time.Now().Add(5 * time.Second); c.cache.Waiting("k") < 1; {
		if time.Now().After(deadline) {
			close(api.release)
			t.Fatal("the waiter did not join the leader's fetch")
		}
		runtime.Gosched()
	}
	close(api.release)
	wg.Wait()
	if !errors.Is(lerr, retry.ErrDeadline) {
		t.Errorf("leader: got %v, want retry.ErrDeadline", lerr)
	}
	if werr != nil || wv != "v" {
		t.Errorf("the waiter, with an hour left, got %q, %v; want its own fetch's value", string(wv), werr)
	}
	if n := api.calls.Load(); n != 2 {
		t.Errorf("got %d requests, want 2", n)
	}
}
