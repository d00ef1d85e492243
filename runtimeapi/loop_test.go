package runtimeapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// The tests run runtimeapi.Run in-process against fakeruntime, a Runtime
// API that records every request byte for byte and misbehaves on demand,
// and check what reached it.

const (
	invocationPath = "/2018-06-01/runtime/invocation/"
	nextPath       = invocationPath + "next"
	extensionPath  = "/2020-01-01/extension/"
)

// handlerFunc adapts a function to runtimeapi.Handler.
type handlerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f handlerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// echo answers every invocation with its payload.
var echo = handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) { return payload, nil })

// logBuffer collects what a test's Logger writes.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// running is a runtimeapi.Run in progress in its own goroutine.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned
	err    error         // what Run returned; read after done
	log    *logBuffer    // the Logger's output, at Debug and above
}

// startRun runs runtimeapi.Run(ctx, h, cfg) against s. An empty
// cfg.Address means s's, a nil cfg.Logger one that writes to the returned
// running's log (shown when the test fails), a zero cfg.Concurrency 1 (not
// what AWS_LAMBDA_MAX_CONCURRENCY says). A cleanup cancels ctx and waits
// for Run before s closes.
func startRun(t *testing.T, s *fakeruntime.Server, h runtimeapi.Handler, cfg runtimeapi.Config) *running {
	t.Helper()
	r := &running{t: t, done: make(chan struct{}), log: &logBuffer{}}
	if cfg.Address == "" {
		cfg.Address = s.Addr()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		r.err = runtimeapi.Run(ctx, h, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(fakeruntime.WaitTimeout):
			t.Errorf("Run did not return within %v of its ctx being cancelled", fakeruntime.WaitTimeout)
		}
		if t.Failed() {
			t.Logf("the loop's log:\n%s", r.log)
		}
	})
	return r
}

// wait waits for Run to return on its own and returns its error.
func (r *running) wait() error {
	r.t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(fakeruntime.WaitTimeout):
		r.t.Fatalf("Run did not return within %v", fakeruntime.WaitTimeout)
		return nil
	}
}

// stop cancels Run's ctx and returns what Run returned.
func (r *running) stop() error {
	r.t.Helper()
	r.cancel()
	return r.wait()
}

// returned reports whether Run has returned.
func (r *running) returned() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// postsFor returns the POSTs of a response or error for the invocation id.
func postsFor(reqs []fakeruntime.Request, id string) []fakeruntime.Request {
	var out []fakeruntime.Request
	for _, r := range reqs {
		if r.Method == "POST" && strings.HasPrefix(r.Path, invocationPath+id+"/") {
			out = append(out, r)
		}
	}
	return out
}

// posts returns every POST to the Runtime API's invocation paths.
func posts(reqs []fakeruntime.Request) []fakeruntime.Request {
	var out []fakeruntime.Request
	for _, r := range reqs {
		if r.Method == "POST" && strings.HasPrefix(r.Path, invocationPath) {
			out = append(out, r)
		}
	}
	return out
}

// waitPosts waits until n POSTs for id have been answered and returns them.
func waitPosts(t *testing.T, s *fakeruntime.Server, id string, n int) []fakeruntime.Request {
	t.Helper()
	reqs := s.WaitFor(t, fmt.Sprintf("%d answered POSTs for %s", n, id), func(reqs []fakeruntime.Request) bool {
		got := 0
		for _, r := range reqs {
			if r.Method == "POST" && strings.HasPrefix(r.Path, invocationPath+id+"/") && r.Status != 0 {
				got++
			}
		}
		return got >= n
	})
	return postsFor(reqs, id)
}

// wantResponse checks that res is the accepted response body want for id.
func wantResponse(t *testing.T, res fakeruntime.Result, id string, want []byte) {
	t.Helper()
	if res.Error {
		t.Fatalf("POST %s: an error (%s), want a response", res.Path, res.Body)
	}
	if wantPath := invocationPath + id + "/response"; res.Path != wantPath {
		t.Errorf("path %q, want %q", res.Path, wantPath)
	}
	if res.Status != 202 {
		t.Errorf("the fake answered the response %d, want 202", res.Status)
	}
	if !bytes.Equal(res.Body, want) {
		t.Errorf("response body of %d bytes %.60q, want %d bytes %.60q", len(res.Body), res.Body, len(want), want)
	}
}

// pattern returns n bytes that differ from their neighbours, so that a
// body cut, shifted or reordered does not compare equal.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8 + i>>16)
	}
	return b
}

// TestResponseAndContext: the handler's bytes are posted as they are, and
// its context carries what aws-lambda-go's invoke loop puts there: the
// deadline of Lambda-Runtime-Deadline-Ms, a lambdacontext.LambdaContext
// with the request id, function ARN, tenant id, client context and Cognito
// identity, the trace header under "x-amzn-trace-id", and
// _X_AMZN_TRACE_ID when the process runs one invocation at a time.
func TestResponseAndContext(t *testing.T) {
	const (
		traceID       = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
		clientContext = `{"Client":{"installation_id":"inst-1","app_title":"Orders","app_version_code":"42","app_package_name":"com.example.orders"},` +
			`"env":{"platform":"Android"},"custom":{"plain":"v","nested":{"a":[1,2]}}}`
		cognito  = `{"cognitoIdentityId":"us-east-1:identity-1","cognitoIdentityPoolId":"us-east-1:pool-1"}`
		tenantID = "tenant-7"
		sentinel = "set by the test"
	)
	wantLC := lambdacontext.LambdaContext{
		InvokedFunctionArn: fakeruntime.FunctionARN,
		TenantID:           tenantID,
		Identity:           lambdacontext.CognitoIdentity{CognitoIdentityID: "us-east-1:identity-1", CognitoIdentityPoolID: "us-east-1:pool-1"},
		ClientContext: lambdacontext.ClientContext{
			Client: lambdacontext.ClientApplication{InstallationID: "inst-1", AppTitle: "Orders", AppVersionCode: "42", AppPackageName: "com.example.orders"},
			Env:    map[string]string{"platform": "Android"},
			Custom: map[string]string{"plain": "v", "nested": `{"a":[1,2]}`},
		},
	}
	// A response that is not JSON nor UTF-8: the loop must not touch it.
	response := []byte("{\"ok\":true}\x00\xff\r\n\r\nHTTP/1.1 200 OK\r\n")

	tests := []struct {
		concurrency int
		wantEnv     string // _X_AMZN_TRACE_ID during the call
	}{
		{concurrency: 1, wantEnv: traceID},
		{concurrency: 2, wantEnv: sentinel}, // several loops: aws-lambda-go leaves it alone
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("concurrency %d", tt.concurrency), func(t *testing.T) {
			t.Setenv("_X_AMZN_TRACE_ID", sentinel)
			type seen struct {
				deadline    time.Time
				hasDeadline bool
				ctxErr      error
				lc          *lambdacontext.LambdaContext
				trace       any
				env         string
				payload     []byte
			}
			seenc := make(chan seen, 1)
			h := handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
				var v seen
				v.deadline, v.hasDeadline = ctx.Deadline()
				v.ctxErr = ctx.Err()
				v.lc, _ = lambdacontext.FromContext(ctx)
				v.trace = ctx.Value("x-amzn-trace-id")
				v.env = os.Getenv("_X_AMZN_TRACE_ID")
				v.payload = payload
				seenc <- v
				return response, nil
			})
			s := fakeruntime.Start(t)
			r := startRun(t, s, h, runtimeapi.Config{Concurrency: tt.concurrency})

			deadline := time.UnixMilli(time.Now().Add(time.Hour).UnixMilli() + 7) // a ms that is not a whole second
			payload := []byte(`{"order":"o-1"}`)
			id := s.Enqueue(fakeruntime.Invocation{
				Payload:  payload,
				Deadline: deadline,
				Header: map[string]string{
					"Lambda-Runtime-Trace-Id":         traceID,
					"Lambda-Runtime-Client-Context":   clientContext,
					"Lambda-Runtime-Cognito-Identity": cognito,
					"Lambda-Runtime-Aws-Tenant-Id":    tenantID,
				},
			})
			res := s.Wait(t, id)
			wantResponse(t, res, id, response)
			if got := res.Header.Get("Content-Type"); got != "application/octet-stream" {
				t.Errorf("response Content-Type %q, want application/octet-stream (as aws-lambda-go)", got)
			}
			if got, want := res.Header.Get("User-Agent"), "funcify/"+runtime.Version(); got != want {
				t.Errorf("User-Agent %q, want %q", got, want)
			}
			if res.Chunked {
				t.Errorf("the response was chunked, want Content-Length")
			}
			if res.Proto != "HTTP/1.1" {
				t.Errorf("proto %q, want HTTP/1.1", res.Proto)
			}

			v := <-seenc
			if !bytes.Equal(v.payload, payload) {
				t.Errorf("payload %q, want %q", v.payload, payload)
			}
			if !v.hasDeadline || !v.deadline.Equal(deadline) {
				t.Errorf("ctx deadline %v (set: %v), want %v", v.deadline, v.hasDeadline, deadline)
			}
			if v.ctxErr != nil {
				t.Errorf("ctx.Err() %v during the call, want nil", v.ctxErr)
			}
			if v.lc == nil {
				t.Fatal("lambdacontext.FromContext found no LambdaContext")
			}
			want := wantLC
			want.AwsRequestID = id
			if got := fmt.Sprintf("%+v", *v.lc); got != fmt.Sprintf("%+v", want) {
				t.Errorf("LambdaContext\n got %s\nwant %+v", got, want)
			}
			if v.trace != traceID {
				t.Errorf(`ctx.Value("x-amzn-trace-id") = %#v, want %q`, v.trace, traceID)
			}
			if v.env != tt.wantEnv {
				t.Errorf("_X_AMZN_TRACE_ID %q during the call, want %q", v.env, tt.wantEnv)
			}
			if err := r.stop(); err != nil {
				t.Errorf("Run: %v, want nil after ctx is cancelled", err)
			}
		})
	}
}

// TestEmptyResponse: a handler that returns no bytes posts an empty body
// with Content-Length: 0, as aws-lambda-go does.
func TestEmptyResponse(t *testing.T) {
	t.Parallel()
	for _, out := range [][]byte{nil, {}} {
		t.Run(fmt.Sprintf("%#v", out), func(t *testing.T) {
			t.Parallel()
			s := fakeruntime.Start(t)
			startRun(t, s, handlerFunc(func(context.Context, []byte) ([]byte, error) { return out, nil }), runtimeapi.Config{})
			id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`{}`)})
			res := s.Wait(t, id)
			wantResponse(t, res, id, []byte{})
			if got := res.Header.Get("Content-Length"); got != "0" {
				t.Errorf("Content-Length %q, want 0", got)
			}
		})
	}
}

// TestPayloadIsTheHandlers: a payload the handler keeps is not changed by
// the invocations after it, whatever framed it.
func TestPayloadIsTheHandlers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		inv  fakeruntime.Invocation
	}{
		{"content-length", fakeruntime.Invocation{}},
		{"chunked", fakeruntime.Invocation{Chunked: true}},
		{"close-delimited", fakeruntime.Invocation{CloseDelimited: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kept := make(chan []byte, 2)
			h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
				kept <- payload
				return []byte(`"ok"`), nil
			})
			s := fakeruntime.Start(t)
			startRun(t, s, h, runtimeapi.Config{})
			first := bytes.Repeat([]byte("first-"), 1000)
			second := bytes.Repeat([]byte("SECOND"), 1000)
			inv1, inv2 := tt.inv, tt.inv
			inv1.Payload, inv2.Payload = bytes.Clone(first), second
			id1 := s.Enqueue(inv1)
			id2 := s.Enqueue(inv2)
			s.Wait(t, id1)
			got1 := <-kept
			s.Wait(t, id2)
			<-kept
			if !bytes.Equal(got1, first) {
				t.Errorf("the first payload, kept by the handler, changed after the second invocation: %.40q..., want %.40q...", got1, first)
			}
		})
	}
}

// TestNextBodies: payloads framed by Content-Length, chunks or the
// connection's close, small and up to Lambda's 6 MB, reach the handler
// byte for byte.
func TestNextBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		inv  fakeruntime.Invocation
	}{
		{"empty", fakeruntime.Invocation{Payload: []byte{}}},
		{"small", fakeruntime.Invocation{Payload: []byte(`{"a":1}`)}},
		{"chunked", fakeruntime.Invocation{Payload: []byte(`{"key":"value","n":12345}`), Chunked: true}},
		{"chunked empty", fakeruntime.Invocation{Payload: []byte{}, Chunked: true}},
		{"close-delimited", fakeruntime.Invocation{Payload: []byte(`{"key":"value"}`), CloseDelimited: true}},
		{"1 MB", fakeruntime.Invocation{Payload: pattern(1 << 20)}},
		{"6 MB", fakeruntime.Invocation{Payload: pattern(6 << 20)}},
		{"1 MB chunked", fakeruntime.Invocation{Payload: pattern(1 << 20), Chunked: true}},
		{"6 MB chunked", fakeruntime.Invocation{Payload: pattern(6 << 20), Chunked: true}},
		{"6 MB close-delimited", fakeruntime.Invocation{Payload: pattern(6 << 20), CloseDelimited: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fakeruntime.Start(t)
			startRun(t, s, echo, runtimeapi.Config{})
			id := s.Enqueue(tt.inv)
			wantResponse(t, s.Wait(t, id), id, tt.inv.Payload)
			// And the next invocation, on whatever connection is left.
			id2 := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"after"`)})
			wantResponse(t, s.Wait(t, id2), id2, []byte(`"after"`))
		})
	}
}

// TestKeepAlive: many invocations share one kept-alive connection.
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	s := fakeruntime.Start(t)
	startRun(t, s, echo, runtimeapi.Config{})
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = s.Enqueue(fakeruntime.Invocation{Payload: fmt.Appendf(nil, `{"i":%d}`, i)})
	}
	for i, id := range ids {
		wantResponse(t, s.Wait(t, id), id, fmt.Appendf(nil, `{"i":%d}`, i))
	}
	if got := s.Conns(); got != 1 {
		t.Errorf("%d connections for 20 invocations, want 1", got)
	}
}

// TestConnectionClosed: the Runtime API closing the connection, with or
// without saying so, loses no invocation and posts no result twice.
func TestConnectionClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		knob  func(*fakeruntime.Invocation)
		quiet bool // announced: the loop must not try the closed connection
	}{
		{"close after the result", func(inv *fakeruntime.Invocation) { inv.CloseAfterResult = true }, false},
		{"close after next", func(inv *fakeruntime.Invocation) { inv.CloseAfterNext = true }, false},
		{"next with Connection: close", func(inv *fakeruntime.Invocation) { inv.NextConnectionClose = true }, true},
		{"result with Connection: close", func(inv *fakeruntime.Invocation) { inv.ConnectionClose = true }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fakeruntime.Start(t)
			r := startRun(t, s, echo, runtimeapi.Config{})
			var ids []string
			for i := range 4 {
				inv := fakeruntime.Invocation{Payload: fmt.Appendf(nil, `{"i":%d}`, i)}
				if i < 3 {
					tt.knob(&inv)
				}
				ids = append(ids, s.Enqueue(inv))
			}
			for i, id := range ids {
				wantResponse(t, s.Wait(t, id), id, fmt.Appendf(nil, `{"i":%d}`, i))
			}
			// The fourth next is waiting: every result is in.
			reqs := s.WaitFor(t, "the fifth GET next", func(reqs []fakeruntime.Request) bool {
				n := 0
				for _, r := range reqs {
					if r.Path == nextPath {
						n++
					}
				}
				return n == 5
			})
			for _, id := range ids {
				if got := len(postsFor(reqs, id)); got != 1 {
					t.Errorf("%d POSTs for %s, want 1", got, id)
				}
			}
			for _, req := range reqs {
				if req.Status >= 300 || req.Err != "" {
					t.Errorf("%s %s on conn %d: status %d %s", req.Method, req.Path, req.Conn, req.Status, req.Err)
				}
			}
			// Three closes, three connections more: one each, no retry storm.
			if got := s.Conns(); got != 4 {
				t.Errorf("%d connections, want 4", got)
			}
			if err := r.stop(); err != nil {
				t.Errorf("Run: %v", err)
			}
			if tt.quiet && strings.Contains(r.log.String(), "retrying") {
				t.Errorf("the loop retried a request on a connection the Runtime API said it would close:\n%s", r.log)
			}
		})
	}
}

// TestSlowNext: an invocation enqueued while the loop waits in next is
// answered.
func TestSlowNext(t *testing.T) {
	t.Parallel()
	s := fakeruntime.Start(t)
	startRun(t, s, echo, runtimeapi.Config{})
	s.WaitNext(t, 1)
	id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"late"`)})
	wantResponse(t, s.Wait(t, id), id, []byte(`"late"`))
	if got := s.Conns(); got != 1 {
		t.Errorf("%d connections, want 1", got)
	}
}

// TestInvalidInvocationHeaders: an invocation whose deadline, client
// context or Cognito identity cannot be read is answered with an error,
// without calling the handler, and the loop goes on.
func TestInvalidInvocationHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		header   map[string]string
		wantType string
		wantIn   string // in the error message: the header at fault
	}{
		{"deadline missing", map[string]string{"Lambda-Runtime-Deadline-Ms": fakeruntime.Omit}, "Runtime.InvalidDeadline", "Lambda-Runtime-Deadline-Ms"},
		{"deadline empty", map[string]string{"Lambda-Runtime-Deadline-Ms": ""}, "Runtime.InvalidDeadline", "Lambda-Runtime-Deadline-Ms"},
		{"deadline abc", map[string]string{"Lambda-Runtime-Deadline-Ms": "abc"}, "Runtime.InvalidDeadline", "Lambda-Runtime-Deadline-Ms"},
		{"deadline -5", map[string]string{"Lambda-Runtime-Deadline-Ms": "-5"}, "Runtime.InvalidDeadline", "Lambda-Runtime-Deadline-Ms"},
		{"deadline 12x", map[string]string{"Lambda-Runtime-Deadline-Ms": "12x"}, "Runtime.InvalidDeadline", "Lambda-Runtime-Deadline-Ms"},
		{"deadline overflows", map[string]string{"Lambda-Runtime-Deadline-Ms": "99999999999999999999"}, "Runtime.InvalidDeadline", "Lambda-Runtime-Deadline-Ms"},
		{"client context not JSON", map[string]string{"Lambda-Runtime-Client-Context": "{not json"}, "Runtime.InvalidClientContext", "Lambda-Runtime-Client-Context"},
		{"client context wrong shape", map[string]string{"Lambda-Runtime-Client-Context": `{"env":["a"]}`}, "Runtime.InvalidClientContext", "Lambda-Runtime-Client-Context"},
		{"cognito identity not JSON", map[string]string{"Lambda-Runtime-Cognito-Identity": "identity"}, "Runtime.InvalidCognitoIdentity", "Lambda-Runtime-Cognito-Identity"},
		{"cognito identity wrong shape", map[string]string{"Lambda-Runtime-Cognito-Identity": `{"cognitoIdentityId":1}`}, "Runtime.InvalidCognitoIdentity", "Lambda-Runtime-Cognito-Identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var badCalls atomic.Int32
			h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
				if string(payload) == `"must not run"` {
					badCalls.Add(1)
				}
				return payload, nil
			})
			s := fakeruntime.Start(t)
			startRun(t, s, h, runtimeapi.Config{})
			bad := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"must not run"`), Header: tt.header})
			good := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fine"`)})

			res := s.Wait(t, bad)
			if !res.Error {
				t.Fatalf("POST %s with %q, want an error", res.Path, res.Body)
			}
			e := decodeError(t, res.Body)
			if e.Type != tt.wantType || !strings.Contains(e.Message, tt.wantIn) || e.StackTrace != nil {
				t.Errorf("error body %s, want errorType %q, a message naming %s, no stackTrace", res.Body, tt.wantType, tt.wantIn)
			}
			if got := res.Header.Get("Lambda-Runtime-Function-Error-Type"); got != tt.wantType {
				t.Errorf("Lambda-Runtime-Function-Error-Type %q, want %q", got, tt.wantType)
			}
			if got := res.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			wantResponse(t, s.Wait(t, good), good, []byte(`"fine"`))
			if n := badCalls.Load(); n != 0 {
				t.Errorf("the handler ran %d times for the invocation it could not be given, want 0", n)
			}
		})
	}
}

// TestUnusableRequestID: an invocation whose request id cannot go in a
// path gets no POST (there is nothing to post it to); the loop goes on.
func TestUnusableRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		inv  fakeruntime.Invocation
	}{
		{"slash", fakeruntime.Invocation{RequestID: "a/b"}},
		{"space", fakeruntime.Invocation{RequestID: "a b"}},
		{"query", fakeruntime.Invocation{RequestID: "a?b"}},
		{"dot", fakeruntime.Invocation{RequestID: "."}},
		{"dot dot", fakeruntime.Invocation{RequestID: ".."}},
		{"empty", fakeruntime.Invocation{Header: map[string]string{"Lambda-Runtime-Aws-Request-Id": ""}}},
		{"missing", fakeruntime.Invocation{Header: map[string]string{"Lambda-Runtime-Aws-Request-Id": fakeruntime.Omit}}},
		{"300 bytes", fakeruntime.Invocation{RequestID: strings.Repeat("a", 300)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
				calls.Add(1)
				return payload, nil
			})
			s := fakeruntime.Start(t)
			startRun(t, s, h, runtimeapi.Config{})
			tt.inv.Payload = []byte(`"unanswerable"`)
			s.Enqueue(tt.inv)
			good := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fine"`)})
			wantResponse(t, s.Wait(t, good), good, []byte(`"fine"`))
			all := posts(s.Requests())
			if len(all) != 1 {
				for _, p := range all {
					t.Errorf("POST %q", p.Path)
				}
				t.Errorf("%d POSTs, want 1 (the good invocation's)", len(all))
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the handler ran %d times, want 1", n)
			}
		})
	}
}

// TestUnusableRequestIDsInARow: five invocations in a row without a usable
// request id end Run; a good one between resets the count.
func TestUnusableRequestIDsInARow(t *testing.T) {
	t.Parallel()
	t.Run("five in a row", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		r := startRun(t, s, echo, runtimeapi.Config{})
		for i := range 5 {
			s.Enqueue(fakeruntime.Invocation{RequestID: fmt.Sprintf("bad/%d", i), Payload: []byte(`{}`)})
		}
		err := r.wait()
		if err == nil || !strings.Contains(err.Error(), "request id") {
			t.Errorf("Run: %v, want an error about the request ids", err)
		}
		if n := len(posts(s.Requests())); n != 0 {
			t.Errorf("%d POSTs, want 0", n)
		}
	})
	t.Run("four, a good one, four", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		r := startRun(t, s, echo, runtimeapi.Config{})
		var goods []string
		for round := range 2 {
			for i := range 4 {
				s.Enqueue(fakeruntime.Invocation{RequestID: fmt.Sprintf("bad/%d/%d", round, i), Payload: []byte(`{}`)})
			}
			goods = append(goods, s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"good"`)}))
		}
		for _, id := range goods {
			wantResponse(t, s.Wait(t, id), id, []byte(`"good"`))
		}
		if r.returned() {
			t.Fatalf("Run returned %v, want it still serving", r.wait())
		}
	})
}

// TestConcurrency: Config.Concurrency loops run that many invocations at
// once, each loop on a connection of its own.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	const n = 3
	var in atomic.Int32
	all := make(chan struct{}) // closed when n invocations are in the handler
	h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
		if in.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
			return payload, nil
		case <-time.After(fakeruntime.WaitTimeout):
			return nil, errors.New("the other invocations never came in")
		}
	})
	s := fakeruntime.Start(t)
	r := startRun(t, s, h, runtimeapi.Config{Concurrency: n})
	ids := make([]string, n)
	for i := range ids {
		ids[i] = s.Enqueue(fakeruntime.Invocation{Payload: fmt.Appendf(nil, `{"i":%d}`, i)})
	}
	for i, id := range ids {
		wantResponse(t, s.Wait(t, id), id, fmt.Appendf(nil, `{"i":%d}`, i))
	}
	if got := s.Conns(); got != n {
		t.Errorf("%d connections, want %d", got, n)
	}
	conns := map[int]bool{}
	for _, req := range s.Requests() {
		if req.Path == nextPath && req.Status == 200 {
			conns[req.Conn] = true
		}
	}
	if len(conns) != n {
		t.Errorf("the %d invocations came on %d connections, want %d", n, len(conns), n)
	}
	if err := r.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestConcurrentPanic: a panic in one of several loops is reported; the
// other loops finish the invocations they run and post their results; Run
// returns the panic's error.
func TestConcurrentPanic(t *testing.T) {
	t.Parallel()
	const n = 3
	var in atomic.Int32
	all := make(chan struct{})     // closed when n invocations are in the handler
	release := make(chan struct{}) // closed by the test once the panic is reported
	h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
		if in.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(fakeruntime.WaitTimeout):
			return nil, errors.New("the other invocations never came in")
		}
		if string(payload) == `"panic"` {
			panic("one loop fails")
		}
		select {
		case <-release:
			return payload, nil
		case <-time.After(fakeruntime.WaitTimeout):
			return nil, errors.New("never released")
		}
	})
	s := fakeruntime.Start(t)
	r := startRun(t, s, h, runtimeapi.Config{Concurrency: n})
	bad := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"panic"`)})
	good1 := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"one"`)})
	good2 := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"two"`)})

	res := s.Wait(t, bad)
	if !res.Error {
		t.Fatalf("the panic posted %s to %s, want an error", res.Body, res.Path)
	}
	close(release)
	err := r.wait()
	if err == nil || !strings.Contains(err.Error(), "one loop fails") {
		t.Errorf("Run: %v, want the panic's error", err)
	}
	// Run returned after the other loops had posted their results.
	reqs := s.Requests()
	for _, id := range []string{good1, good2} {
		if ps := postsFor(reqs, id); len(ps) != 1 || ps[0].Status != 202 {
			t.Errorf("when Run returned, %s had %d POSTs (%+v), want its response, accepted", id, len(ps), ps)
		}
	}
	wantResponse(t, s.Wait(t, good1), good1, []byte(`"one"`))
	wantResponse(t, s.Wait(t, good2), good2, []byte(`"two"`))
}

// TestCancel: cancelling Run's ctx lets the invocation in progress finish
// and post its result; in next, it ends Run at once. Run returns nil.
func TestCancel(t *testing.T) {
	t.Parallel()
	t.Run("during an invocation", func(t *testing.T) {
		t.Parallel()
		started := make(chan struct{})
		release := make(chan struct{})
		h := handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
			close(started)
			select {
			case <-release:
			case <-time.After(fakeruntime.WaitTimeout):
				return nil, errors.New("never released")
			}
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("the invocation's ctx ended with Run's: %w", err)
			}
			return payload, nil
		})
		s := fakeruntime.Start(t)
		r := startRun(t, s, h, runtimeapi.Config{})
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"in flight"`)})
		<-started
		r.cancel()
		close(release)
		wantResponse(t, s.Wait(t, id), id, []byte(`"in flight"`))
		if err := r.wait(); err != nil {
			t.Errorf("Run: %v, want nil", err)
		}
	})
	t.Run("in next", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		r := startRun(t, s, echo, runtimeapi.Config{})
		s.WaitNext(t, 1)
		if err := r.stop(); err != nil {
			t.Errorf("Run: %v, want nil", err)
		}
	})
	t.Run("in next, several loops", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		r := startRun(t, s, echo, runtimeapi.Config{Concurrency: 3})
		s.WaitNext(t, 3)
		if err := r.stop(); err != nil {
			t.Errorf("Run: %v, want nil", err)
		}
	})
}

// TestLoggerGetsWarningsNotPayloads: the Logger of Config gets the loop's
// warnings, and never a payload, a response or a function error's message.
func TestLoggerGetsWarningsNotPayloads(t *testing.T) {
	t.Parallel()
	const marker = "PAYLOAD-MARKER-5f1c"
	h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
		if bytes.Contains(payload, []byte("fail")) {
			return nil, errors.New("failed on " + string(payload))
		}
		return payload, nil
	})
	var log logBuffer
	s := fakeruntime.Start(t)
	r := startRun(t, s, h, runtimeapi.Config{Logger: slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	payload := func(s string) []byte { return []byte(`{"m":"` + marker + `","do":"` + s + `"}`) }
	invs := []fakeruntime.Invocation{
		{Payload: payload("reconnect"), CloseAfterNext: true},
		{Payload: payload("refused"), ResponseStatus: 413},
		{Payload: payload("fail"), ErrorStatus: 400},
		{Payload: payload("fail, refused as too large"), MaxErrorBody: 10},
		{Payload: payload("chunked"), Chunked: true},
	}
	var ids []string
	for _, inv := range invs {
		ids = append(ids, s.Enqueue(inv))
	}
	for _, id := range ids {
		s.Wait(t, id)
	}
	last := s.Enqueue(fakeruntime.Invocation{Payload: payload("last")})
	s.Wait(t, last)
	if err := r.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	got := log.String()
	if !strings.Contains(got, "retrying") || !strings.Contains(got, `"level":"WARN"`) {
		t.Errorf("no reconnection or no warning in the log:\n%s", got)
	}
	if strings.Contains(got, marker) {
		t.Errorf("the log holds a payload's bytes (%s):\n%s", marker, got)
	}
}

// errorDoc is the body of a POST .../error.
type errorDoc struct {
	Message    string `json:"errorMessage"`
	Type       string `json:"errorType"`
	StackTrace []struct {
		Path  string `json:"path"`
		Line  int    `json:"line"`
		Label string `json:"label"`
	} `json:"stackTrace"`
}

// TestRunClosesItsConnections: when Run returns, it has closed every
// connection it opened, whether it stopped for its ctx or for an error. (A
// row that fails does so after fakeruntime.WaitTimeout.) The garbage
// collector is off meanwhile: the finalizer of a connection Run dropped
// would close it, sometimes, and hide the leak.
func TestRunClosesItsConnections(t *testing.T) {
	gc := debug.SetGCPercent(-1) // not parallel: this is process-wide
	t.Cleanup(func() { debug.SetGCPercent(gc) })
	tests := []struct {
		name string
		// run enqueues what makes Run return, and returns once it has.
		run func(t *testing.T, s *fakeruntime.Server)
	}{
		{"ctx cancelled in next", func(t *testing.T, s *fakeruntime.Server) {
			r := startRun(t, s, echo, runtimeapi.Config{})
			s.WaitNext(t, 1)
			r.stop()
		}},
		{"ctx cancelled during an invocation", func(t *testing.T, s *fakeruntime.Server) {
			started := make(chan struct{})
			release := make(chan struct{})
			h := handlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
				close(started)
				<-release
				return payload, nil
			})
			r := startRun(t, s, h, runtimeapi.Config{})
			s.Enqueue(fakeruntime.Invocation{Payload: []byte(`{}`)})
			<-started
			r.cancel()
			close(release)
			r.wait()
		}},
		{"a panic", func(t *testing.T, s *fakeruntime.Server) {
			r := startRun(t, s, handlerFunc(func(context.Context, []byte) ([]byte, error) { panic("x") }), runtimeapi.Config{})
			s.Enqueue(fakeruntime.Invocation{Payload: []byte(`{}`)})
			r.wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fakeruntime.Start(t)
			tt.run(t, s)
			for n := 1; n <= s.Conns(); n++ {
				s.WaitConnClosed(t, n)
			}
		})
	}
}

// TestLongHeader: a header line longer than the loop's read buffer (a
// large client context) is read whole.
func TestLongHeader(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	h := handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		got <- lc.ClientContext.Custom["big"]
		return payload, nil
	})
	s := fakeruntime.Start(t)
	startRun(t, s, h, runtimeapi.Config{})
	big := strings.Repeat("0123456789", 4000)
	id := s.Enqueue(fakeruntime.Invocation{
		Payload: []byte(`{}`),
		Header:  map[string]string{"Lambda-Runtime-Client-Context": `{"custom":{"big":"` + big + `"}}`},
	})
	wantResponse(t, s.Wait(t, id), id, []byte(`{}`))
	if g := <-got; g != big {
		t.Errorf("the client context's value is %d bytes, want %d", len(g), len(big))
	}
}
