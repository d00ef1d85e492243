package ssmparam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/retry"
)

// env is a fake process environment.
type env struct {
	mu   sync.Mutex // guards vars
	vars map[string]string
}

func (e *env) lookup(k string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.vars[k]
	return v, ok
}

func (e *env) setenv(k, v string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vars[k] = v
	return nil
}

// setup returns a client on a fresh fake, with a fake environment, retries
// without waiting, and its log written to a buffer.
func setup(t *testing.T, opts ...Option) (*Client, *awsfake.Server, *env, *bytes.Buffer) {
	srv := awsfake.New(t)
	e := &env{vars: map[string]string{}}
	var log bytes.Buffer
	opts = append([]Option{
		withEnv(e.lookup, e.setenv),
		WithLogger(slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithRetry(retry.WithBackoff(-1, 0)),
	}, opts...)
	return New(ssm.NewFromConfig(srv.Config()), opts...), srv, e, &log
}

func TestLoadEnvPages(t *testing.T) {
	c, srv, e, _ := setup(t)
	for i := range 25 {
		srv.SetParameter(fmt.Sprintf("/app/p%02d", i), "SecureString", fmt.Sprintf("value-%d", i))
	}
	srv.SetParameter("/other/p00", "String", "not mine")
	if err := c.LoadEnv(context.Background(), "/app"); err != nil {
		t.Fatal(err)
	}
	if got := len(e.vars); got != 25 {
		t.Errorf("got %d variables, want 25: %v", got, e.vars)
	}
	for i := range 25 {
		k := fmt.Sprintf("p%02d", i)
		if got, want := e.vars[k], fmt.Sprintf("value-%d", i); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	reqs := srv.Requests(awsfake.GetParametersByPath)
	if len(reqs) != 3 {
		t.Fatalf("got %d GetParametersByPath requests, want 3 pages", len(reqs))
	}
	for i, r := range reqs {
		if r.Body["WithDecryption"] != true || r.Body["Recursive"] != true || r.Body["Path"] != "/app/" {
			t.Errorf("request %d: got %v, want WithDecryption, Recursive and Path /app/", i, r.Body)
		}
		if tok, _ := r.Body["NextToken"].(string); (i == 0) != (tok == "") {
			t.Errorf("request %d: NextToken %q", i, tok)
		}
	}
}

func TestLoadEnvNames(t *testing.T) {
	params := map[string]string{
		"/app/db/url":         "postgres://x",
		"/app/db/read-only.x": "ro",
		"/app/level":          "debug",
	}
	tests := []struct {
		name string
		opts []EnvOption
		want map[string]string
	}{
		{"LastSegment", nil, map[string]string{"url": "postgres://x", "read-only.x": "ro", "level": "debug"}},
		{"FullPath", []EnvOption{WithFullPath()}, map[string]string{"DB_URL": "postgres://x", "DB_READ_ONLY_X": "ro", "LEVEL": "debug"}},
		{"Prefix", []EnvOption{WithPrefix("APP_")}, map[string]string{"APP_url": "postgres://x", "APP_read-only.x": "ro", "APP_level": "debug"}},
		{"FullPathPrefix", []EnvOption{WithFullPath(), WithPrefix("X_")}, map[string]string{"X_DB_URL": "postgres://x", "X_DB_READ_ONLY_X": "ro", "X_LEVEL": "debug"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv, e, _ := setup(t)
			for n, v := range params {
				srv.SetParameter(n, "String", v)
			}
			if err := c.LoadEnv(context.Background(), "/app/", tt.opts...); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(e.vars) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", e.vars, tt.want)
			}
		})
	}
}

func TestLoadEnvKeepsExisting(t *testing.T) {
	for _, overwrite := range []bool{false, true} {
		t.Run(fmt.Sprint("overwrite=", overwrite), func(t *testing.T) {
			c, srv, e, _ := setup(t)
			srv.SetParameter("/app/level", "String", "debug")
			e.vars["level"] = "info"
			var opts []EnvOption
			want := "info"
			if overwrite {
				opts, want = []EnvOption{WithOverwrite()}, "debug"
			}
			if err := c.LoadEnv(context.Background(), "/app", opts...); err != nil {
				t.Fatal(err)
			}
			if got := e.vars["level"]; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestLoadEnvCollision(t *testing.T) {
	c, srv, e, _ := setup(t)
	srv.SetParameter("/app/a/url", "String", "1")
	srv.SetParameter("/app/b/url", "String", "2")
	srv.SetParameter("/app/c", "String", "3")
	err := c.LoadEnv(context.Background(), "/app")
	if err == nil || !strings.Contains(err.Error(), "/app/a/url") || !strings.Contains(err.Error(), "/app/b/url") {
		t.Fatalf("got %v, want an error naming both parameters", err)
	}
	if len(e.vars) != 0 {
		t.Errorf("a failed LoadEnv set %v", e.vars)
	}
	if err := c.LoadEnv(context.Background(), "/app", WithFullPath()); err != nil {
		t.Errorf("with WithFullPath: %v", err)
	}
}

func TestThrottlingRetried(t *testing.T) {
	tests := []struct {
		target string
		status int
		code   string
	}{
		{awsfake.GetParametersByPath, 400, "ThrottlingException"},
		{awsfake.GetParameter, 429, "TooManyRequests"},
		{awsfake.GetParameter, 503, "ServiceUnavailable"},
		{awsfake.PutParameter, 400, "TooManyUpdates"},
		{awsfake.PutParameter, 500, "InternalServerError"},
	}
	for _, tt := range tests {
		t.Run(tt.target+"/"+tt.code, func(t *testing.T) {
			c, srv, _, log := setup(t)
			srv.SetParameter("/app/k", "SecureString", "v")
			srv.Fail(tt.target, 3, tt.status, tt.code)
			ctx := context.Background()
			var err error
			switch tt.target {
			case awsfake.GetParametersByPath:
				err = c.LoadEnv(ctx, "/app")
			case awsfake.GetParameter:
				_, err = c.Get(ctx, "/app/k")
			case awsfake.PutParameter:
				err = c.Put(ctx, "/app/k", "w")
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.Count(tt.target); got != 4 {
				t.Errorf("got %d requests, want 4 (3 failures, 1 success)", got)
			}
			if !strings.Contains(log.String(), "ssmparam: retrying") {
				t.Errorf("no retry logged: %s", log)
			}
		})
	}
}

func TestThrottlingGivesUp(t *testing.T) {
	c, srv, _, _ := setup(t, WithRetry(retry.WithMaxTries(2)))
	srv.Fail(awsfake.GetParameter, 5, 400, "ThrottlingException")
	_, err := c.Get(context.Background(), "/app/k")
	if _, ok := errors.AsType[*retry.Error](err); !ok {
		t.Errorf("got %v, want a *retry.Error inside", err)
	}
	if got := srv.Count(awsfake.GetParameter); got != 2 {
		t.Errorf("got %d requests, want 2", got)
	}
}

func TestAccessDenied(t *testing.T) {
	c, srv, _, _ := setup(t)
	srv.SetParameter("/secret/k", "SecureString", "v")
	srv.Deny("/secret")
	ctx := context.Background()
	for op, err := range map[string]error{
		"LoadEnv": c.LoadEnv(ctx, "/secret"),
		"Get":     func() error { _, err := c.Get(ctx, "/secret/k"); return err }(),
		"Put":     c.Put(ctx, "/secret/k", "v"),
	} {
		if !errors.Is(err, ErrAccessDenied) {
			t.Errorf("%s: got %v, want ErrAccessDenied", op, err)
		}
		e, ok := errors.AsType[*Error](err)
		if !ok || !strings.HasPrefix(e.Name, "/secret") || !strings.Contains(err.Error(), "/secret") {
			t.Errorf("%s: got %#v, want an *Error naming the parameter", op, err)
		}
	}
	if got := srv.Count(""); got != 3 {
		t.Errorf("got %d requests, want 3: access denied is not retried", got)
	}
}

func TestGetNotFound(t *testing.T) {
	c, _, _, _ := setup(t)
	if _, err := c.Get(context.Background(), "/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}

func TestValuesNotLogged(t *testing.T) {
	c, srv, _, log := setup(t)
	const v1, v2, v3 = "hunter2-one", "hunter2-two", "hunter2-three"
	srv.SetParameter("/app/a", "SecureString", v1)
	srv.SetParameter("/app/b", "SecureString", v2)
	srv.Fail("", 1, 400, "ThrottlingException")
	ctx := context.Background()
	if err := c.LoadEnv(ctx, "/app"); err != nil {
		t.Fatal(err)
	}
	srv.Fail("", 1, 500, "InternalServerError")
	if err := c.Put(ctx, "/app/c", v3); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "/app/c"); err != nil || got != v3 {
		t.Fatalf("Get: got %q, %v", got, err)
	}
	srv.Deny("/app/a")
	_, err := c.Get(ctx, "/app/a")
	out := log.String() + fmt.Sprint(err)
	if !strings.Contains(out, "/app") {
		t.Fatalf("nothing logged: %s", out)
	}
	for _, v := range []string{v1, v2, v3} {
		if strings.Contains(out, v) {
			t.Errorf("value %q in the log: %s", v, out)
		}
	}
}

// clock is a manual clock.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestGetTTL(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
	c, srv, _, _ := setup(t, WithTTL(time.Minute), withClock(clk.now))
	ctx := context.Background()
	srv.SetParameter("/app/k", "SecureString", "one")
	get := func(want string, requests int) {
		t.Helper()
		got, err := c.Get(ctx, "/app/k")
		if err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
		if n := srv.Count(awsfake.GetParameter); n != requests {
			t.Fatalf("got %d requests, want %d", n, requests)
		}
	}
	get("one", 1)
	if r := srv.Requests(awsfake.GetParameter)[0]; r.Body["WithDecryption"] != true {
		t.Errorf("GetParameter without WithDecryption: %v", r.Body)
	}
	srv.SetParameter("/app/k", "SecureString", "two")
	clk.add(59 * time.Second)
	get("one", 1)
	clk.add(time.Second)
	get("two", 2)
	// Put updates the cache.
	if err := c.Put(ctx, "/app/k", "three"); err != nil {
		t.Fatal(err)
	}
	get("three", 2)
	if v, typ, _, _ := srv.Parameter("/app/k"); v != "three" || typ != "SecureString" {
		t.Errorf("Put stored %q as %s, want a SecureString", v, typ)
	}
	if r := srv.Requests(awsfake.PutParameter)[0]; r.Body["Overwrite"] != true || r.Body["Type"] != "SecureString" {
		t.Errorf("PutParameter: got %v, want Overwrite and SecureString", r.Body)
	}
}

func TestGetSingleFlight(t *testing.T) {
	c, srv, _, _ := setup(t)
	srv.SetParameter("/app/k", "String", "v")
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
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
			v, err := c.Get(context.Background(), "/app/k")
			if err == nil && v != "v" {
				err = fmt.Errorf("got %q", v)
			}
			errs <- err
		})
	}
	// Let the goroutines reach the cache; the one request is held.
	<-arrived
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.Count(awsfake.GetParameter); got != 1 {
		t.Errorf("got %d requests for %d concurrent Gets, want 1", got, n)
	}
}

// ctxKey is the type of a context key whose value ctxHandler records.
type ctxKey struct{}

// ctxHandler records each record's message with the ctxKey value of the
// context it was logged with: the request id that a real handler adds.
type ctxHandler struct {
	mu    *sync.Mutex
	lines *[]string
}

func (h ctxHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	id, _ := ctx.Value(ctxKey{}).(string)
	h.mu.Lock()
	*h.lines = append(*h.lines, r.Message+" request_id="+id)
	h.mu.Unlock()
	return nil
}

func (h ctxHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h ctxHandler) WithGroup(string) slog.Handler      { return h }

// TestLogsCarryCallerContext: the lines logged during a call, the retries
// of an outage above all, are logged with the caller's context, so that
// its request and trace ids reach them.
func TestLogsCarryCallerContext(t *testing.T) {
	h := ctxHandler{mu: &sync.Mutex{}, lines: &[]string{}}
	c, srv, _, _ := setup(t, WithLogger(slog.New(h)))
	srv.SetParameter("/app/k", "SecureString", "v")
	for _, target := range []string{awsfake.GetParametersByPath, awsfake.GetParameter, awsfake.PutParameter} {
		srv.Fail(target, 1, 503, "ServiceUnavailable")
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "req-1")
	if err := c.LoadEnv(ctx, "/app"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "/app/k"); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "/app/k", "w"); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	lines := slices.Clone(*h.lines)
	h.mu.Unlock()
	if n := len(slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return !strings.Contains(l, "retrying") })); n != 3 {
		t.Errorf("%d retries logged, want 3: %q", n, lines)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "request_id=req-1") {
			t.Errorf("logged without the caller's context: %q", l)
		}
	}
}

// slowThrottledAPI answers the first GetParameter with a throttle after
// holding it until its caller has 250 ms left, and every later one with
// the value.
type slowThrottledAPI struct {
	calls   atomic.Int64
	release chan struct{}
}

func (a *slowThrottledAPI) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if a.calls.Add(1) == 1 {
		<-a.release
		if dl, ok := ctx.Deadline(); ok {
			select {
			case <-time.After(time.Until(dl) - 250*time.Millisecond):
			case <-ctx.Done():
			}
		}
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	return &ssm.GetParameterOutput{Parameter: &types.Parameter{Name: in.Name, Value: aws.String("v")}}, nil
}

func (a *slowThrottledAPI) GetParametersByPath(context.Context, *ssm.GetParametersByPathInput, ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	return &ssm.GetParametersByPathOutput{}, nil
}

func (a *slowThrottledAPI) PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	return &ssm.PutParameterOutput{}, nil
}

// TestGetLeaderDeadlineNotShared: a Get whose deadline is near leads the
// fetch, and retry.Do gives up with ErrDeadline (the next try would not fit
// before the leader's deadline) while the leader's context is still live.
// That failure is of the leader's deadline's making: a waiting Get with 10 s
// left must fetch with its own time, not inherit it.
func TestGetLeaderDeadlineNotShared(t *testing.T) {
	api := &slowThrottledAPI{release: make(chan struct{})}
	c := New(api, WithTTL(time.Minute))
	lctx, lcancel := context.WithTimeout(context.Background(), time.Second)
	defer lcancel()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	var wg sync.WaitGroup
	var lerr, werr error
	wg.Go(func() { _, lerr = c.Get(lctx, "/app/k") })
	for deadline := time.Now().Add(5 * time.Second); api.calls.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the leader did not call GetParameter")
		}
		runtime.Gosched()
	}
	wg.Go(func() { _, werr = c.Get(wctx, "/app/k") })
	for deadline := time.Now().Add(5 * time.Second); c.cache.Waiting("/app/k") < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the waiter did not park on the leader's fetch")
		}
		runtime.Gosched()
	}
	close(api.release)
	wg.Wait()
	t.Logf("leader: %v", lerr)
	if werr != nil {
		t.Errorf("the waiter, with 10 s left, got the leader's failure: %v", werr)
	}
}

// TestNewNilAPIPanics: New panics at once on a nil API, a mistake in the
// code that sets the function up, rather than on the first call.
func TestNewNilAPIPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "ssmparam: New with a nil API" {
			t.Errorf("got panic %v, want ssmparam: New with a nil API", r)
		}
	}()
	New(nil)
}
