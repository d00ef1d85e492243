package httpclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/internal/breakerclock"
	"github.com/funcify/funcify/retry"
)

// script serves answers in turn, the last one for good, and records what it
// received.
type script struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter, r *http.Request)
	bodies  []string
	hits    atomic.Int64
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.hits.Add(1)) - 1
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	s.answers[min(n, len(s.answers)-1)](w, r)
}

func status(code int, headers ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, `{"ok":`+map[bool]string{true: "true", false: "false"}[code < 300]+`}`)
	}
}

// reset closes the connection without answering.
func reset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func serve(t *testing.T, answers ...func(http.ResponseWriter, *http.Request)) (*script, string) {
	s := &script{answers: answers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func client(tr *Transport) *http.Client {
	if tr.Logger == nil {
		tr.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &http.Client{Transport: tr}
}

type answer struct {
	OK bool `json:"ok"`
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		answers  []func(http.ResponseWriter, *http.Request)
		hits     int64
		wantErr  int // the HTTPError status, or 0 for success
		maxTries int
	}{
		{"503 then 200", []func(http.ResponseWriter, *http.Request){status(503), status(200)}, 2, 0, 0},
		{"reset then 200", []func(http.ResponseWriter, *http.Request){reset, status(200)}, 2, 0, 0},
		{"429 then 200", []func(http.ResponseWriter, *http.Request){status(429), status(200)}, 2, 0, 0},
		{"400 is final", []func(http.ResponseWriter, *http.Request){status(400), status(200)}, 1, 400, 0},
		{"404 is final", []func(http.ResponseWriter, *http.Request){status(404)}, 1, 404, 0},
		{"tries run out on 500", []func(http.ResponseWriter, *http.Request){status(500)}, 2, 500, 0},
		{"three tries", []func(http.ResponseWriter, *http.Request){status(502), status(503), status(200)}, 3, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, u := serve(t, tt.answers...)
			tr := &Transport{Retry: []retry.Option{retry.WithBackoff(time.Millisecond, 5*time.Millisecond)}}
			if tt.maxTries > 0 {
				tr.Retry = append(tr.Retry, retry.WithMaxTries(tt.maxTries))
			}
			a, err := GetJSON[answer](context.Background(), client(tr), u+"/x")
			if got := s.hits.Load(); got != tt.hits {
				t.Errorf("got %d requests, want %d", got, tt.hits)
			}
			var he *HTTPError
			switch {
			case tt.wantErr == 0 && (err != nil || !a.OK):
				t.Errorf("got %+v, %v", a, err)
			case tt.wantErr != 0 && (!errors.As(err, &he) || he.Status != tt.wantErr):
				t.Errorf("got %v, want an HTTPError %d", err, tt.wantErr)
			}
		})
	}
}

// TestBodyReplayed: a request that may be retried is sent again with its
// whole body.
func TestBodyReplayed(t *testing.T) {
	fast := &Transport{Retry: []retry.Option{retry.WithBackoff(-1, 0)}}
	s, u := serve(t, status(503), status(200))
	in, _ := json.Marshal(map[string]any{"item": "book", "note": strings.Repeat("é", 3000)})
	req, _ := http.NewRequest("PUT", u, bytes.NewReader(in))
	resp, err := client(fast).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(s.bodies) != 2 || s.bodies[0] != string(in) || s.bodies[1] != string(in) {
		t.Fatalf("PUT bodies differ or are missing: %d bodies", len(s.bodies))
	}

	s, u = serve(t, status(503), status(200))
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"a b"}}
	req, _ = http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Idempotency-Key", "grant-1")
	resp, err = client(fast).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(s.bodies) != 2 || s.bodies[0] != form.Encode() || s.bodies[1] != form.Encode() {
		t.Fatalf("POST with Idempotency-Key: bodies %q", s.bodies)
	}
}

// TestPostHelpersNotRetried: PostJSON and PostForm send a POST without a
// key: a 503 is the answer, not a reason to send it again.
func TestPostHelpersNotRetried(t *testing.T) {
	fast := &Transport{Retry: []retry.Option{retry.WithBackoff(-1, 0)}}
	s, u := serve(t, status(503), status(200))
	_, err := PostJSON[answer](context.Background(), client(fast), u, map[string]string{"item": "book"})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 503 || s.hits.Load() != 1 {
		t.Errorf("PostJSON: got %v after %d requests, want the 503 after 1", err, s.hits.Load())
	}
	s, u = serve(t, status(502), status(200))
	_, err = PostForm[answer](context.Background(), client(fast), u, url.Values{"a": {"b"}})
	if !errors.As(err, &he) || he.Status != 502 || s.hits.Load() != 1 {
		t.Errorf("PostForm: got %v after %d requests, want the 502 after 1", err, s.hits.Load())
	}
}

func TestUnreplayableBodyNotRetried(t *testing.T) {
	s, u := serve(t, status(503), status(200))
	req, _ := http.NewRequest("POST", u, io.NopCloser(strings.NewReader("once")))
	resp, err := client(&Transport{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || s.hits.Load() != 1 {
		t.Fatalf("got %d after %d requests, want 503 after 1", resp.StatusCode, s.hits.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	t.Run("honoured", func(t *testing.T) {
		s, u := serve(t, status(503, "Retry-After", "1"), status(200))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := GetJSON[answer](ctx, client(&Transport{}), u); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second || s.hits.Load() != 2 {
			t.Fatalf("retried after %v with %d requests, want after 1s", d, s.hits.Load())
		}
	})
	t.Run("past the deadline", func(t *testing.T) {
		s, u := serve(t, status(503, "Retry-After", "30"), status(200))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := GetJSON[answer](ctx, client(&Transport{}), u)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != 503 {
			t.Fatalf("got %v, want the 503", err)
		}
		if d := time.Since(start); d > time.Second || s.hits.Load() != 1 {
			t.Fatalf("gave up after %v and %d requests, want at once after 1", d, s.hits.Load())
		}
	})
}

func TestBreakerOpens(t *testing.T) {
	s, u := serve(t, status(500))
	b := breaker.New(breaker.Settings{Name: "downstream"})
	c := client(&Transport{Breaker: b, Retry: []retry.Option{retry.WithMaxTries(1)}})
	for i := range 3 {
		if _, err := GetJSON[answer](context.Background(), c, u); err == nil {
			t.Fatalf("call %d: no error", i)
		}
	}
	_, err := GetJSON[answer](context.Background(), c, u)
	if !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after 3 failures: got %v, want ErrOpen", err)
	}
	if s.hits.Load() != 3 {
		t.Fatalf("the open circuit let a request through: %d requests", s.hits.Load())
	}
}

func TestBreakerIgnores4xx(t *testing.T) {
	_, u := serve(t, status(404))
	b := breaker.New(breaker.Settings{Name: "downstream"})
	c := client(&Transport{Breaker: b})
	for range 5 {
		GetJSON[answer](context.Background(), c, u)
	}
	if s := b.State(context.Background()); s != breaker.Closed {
		t.Fatalf("404s opened the circuit: %v", s)
	}
}

func TestLogLine(t *testing.T) {
	_, u := serve(t, status(503), status(200))
	var logs bytes.Buffer
	tr := &Transport{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Retry: []retry.Option{retry.WithBackoff(time.Millisecond, time.Millisecond)}}
	req, _ := http.NewRequest("GET", u+"/orders?token=querysecret", nil)
	req.Header.Set("Authorization", "Bearer headersecret")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %s", len(lines), logs.String())
	}
	for _, want := range []string{`"method":"GET"`, `"status":200`, `"attempts":2`, `"host":"127.0.0.1:`, `"duration_ms":`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %s lacks %s", lines[0], want)
		}
	}
	for _, secret := range []string{"querysecret", "headersecret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("%s reached the log", secret)
		}
	}
}

func TestErrorsHideQuery(t *testing.T) {
	_, u := serve(t, status(403))
	_, err := GetJSON[answer](context.Background(), client(&Transport{}), u+"/x?api_key=querysecret")
	var he *HTTPError
	if !errors.As(err, &he) || he.DownstreamStatus() != 403 || he.Body != `{"ok":false}` {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "querysecret") {
		t.Errorf("the query reached the error: %v", err)
	}
	_, err = GetJSON[answer](context.Background(), client(&Transport{}), "http://127.0.0.1:1/x?api_key=querysecret")
	if err == nil || strings.Contains(err.Error(), "querysecret") {
		t.Errorf("transport error: %v", err)
	}
}

// hang answers nothing until the client gives up or the test ends.
func hang(t *testing.T) func(http.ResponseWriter, *http.Request) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

// TestHangingDownstreamOpensBreaker: a try to a downstream that never
// answers ends on its own AttemptTimeout while the caller still has time, so
// the breaker counts it, and three such calls open the circuit. The caller's
// minute is far beyond the tries' 50 ms: only the tries' own bound ends them.
func TestHangingDownstreamOpensBreaker(t *testing.T) {
	s, u := serve(t, hang(t))
	b := breaker.New(breaker.Settings{Name: "hanging"})
	c := client(&Transport{Breaker: b, AttemptTimeout: 50 * time.Millisecond, Retry: []retry.Option{retry.WithMaxTries(1)}})
	hangingCalls(t, c, u, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := GetJSON[answer](ctx, c, u); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after 3 hanging calls: got %v, want ErrOpen", err)
	}
	if got := s.hits.Load(); got != 3 {
		t.Errorf("got %d requests, want 3", got)
	}
}

// TestDefaultBoundOpensBreaker: under the default AttemptTimeout, a try
// bounded by three quarters of the caller's time left (here 1.2 s, as the
// Transport's clock tells, so the floor of 1 s) that runs out counts, so a
// hanging downstream opens the circuit for callers with a Lambda's usual
// deadlines. The callers' real deadline is a minute away: only the tries' own
// bound ends them.
func TestDefaultBoundOpensBreaker(t *testing.T) {
	s, u := serve(t, hang(t))
	b := breaker.New(breaker.Settings{Name: "hanging"})
	deadline := time.Now().Add(time.Minute)
	c := client(&Transport{Breaker: b, Retry: []retry.Option{retry.WithMaxTries(1)},
		now: func() time.Time { return deadline.Add(-1200 * time.Millisecond) }})
	hangingCalls(t, c, u, 3)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := GetJSON[answer](ctx, c, u); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after 3 hanging calls: got %v, want ErrOpen", err)
	}
	if got := s.hits.Load(); got != 3 {
		t.Errorf("got %d requests, want 3", got)
	}
}

// hangingCalls makes n concurrent GETs to u, each with a minute to run, and
// checks that each ends on its try's own deadline, not the caller's.
func hangingCalls(t *testing.T, c *http.Client, u string, n int) {
	t.Helper()
	type outcome struct {
		err        error
		callerDone bool
	}
	outcomes := make(chan outcome, n)
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := GetJSON[answer](ctx, c, u)
			outcomes <- outcome{err, ctx.Err() != nil}
		}()
	}
	for range n {
		if o := <-outcomes; o.callerDone || !errors.Is(o.err, context.DeadlineExceeded) {
			t.Errorf("hanging call: got %v, caller's deadline reached %v; want the try's own deadline, before the caller's", o.err, o.callerDone)
		}
	}
}

// answerAfter answers 200 after d, or gives up when the client does.
func answerAfter(d time.Duration) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			status(200)(w, r)
		case <-r.Context().Done():
		}
	}
}

// TestShortOnTimeNotCut: a caller with 1 s left (a Lambda late in its
// invocation, as the Transport's clock tells) calling a healthy downstream
// that answers in 850 ms gets its answer: the default bound would be 750 ms,
// below the 1 s floor, so the try runs to the caller's deadline instead of
// failing, and the breaker, which would count the cut tries against the
// downstream, stays closed for everyone. The callers' real deadline is a
// minute away.
func TestShortOnTimeNotCut(t *testing.T) {
	s, u := serve(t, answerAfter(850*time.Millisecond))
	b := breaker.New(breaker.Settings{Name: "slow-but-healthy"})
	deadline := time.Now().Add(time.Minute)
	c := client(&Transport{Breaker: b, now: func() time.Time { return deadline.Add(-time.Second) }})
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			_, err := GetJSON[answer](ctx, c, u)
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("a call the downstream answers before the caller's deadline failed: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := GetJSON[answer](ctx, c, u); errors.Is(err, breaker.ErrOpen) {
		t.Errorf("a caller with time is refused: %v (circuit %v after %d requests to a healthy downstream)", err, b.State(ctx), s.hits.Load())
	}
}

// TestShortOnTimeNotCounted: callers with less than the 1 s floor left, whose
// calls to a hanging downstream end on their own deadline, do not open the
// circuit: that deadline says nothing of the downstream.
func TestShortOnTimeNotCounted(t *testing.T) {
	_, u := serve(t, hang(t))
	b := breaker.New(breaker.Settings{Name: "late-callers"})
	c := client(&Transport{Breaker: b})
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := GetJSON[answer](ctx, c, u)
		callerDone := ctx.Err() != nil
		cancel()
		if err == nil || !callerDone {
			t.Fatalf("call %d: got %v, caller's deadline reached %v; want the caller's deadline to end it", i+1, err, callerDone)
		}
	}
	if st := b.State(context.Background()); st != breaker.Closed {
		t.Errorf("3 callers short of time opened the circuit: %v", st)
	}
}

// stallAfterHeaders answers 200 with its headers and the start of a JSON
// body, then sends nothing more until the client gives up (or the test
// ends): a downstream that hangs after its headers.
func stallAfterHeaders(t *testing.T) func(http.ResponseWriter, *http.Request) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"ok":`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

// TestBodyStallCounts: a downstream that sends its headers and then stalls
// makes every try of the helpers run out of AttemptTimeout while the caller
// still has time; the helpers read the body inside the try the breaker
// guards, so each counts as a failure and the circuit opens, and a half-open
// trial that gets headers and then stalls opens it again instead of closing
// it.
func TestBodyStallCounts(t *testing.T) {
	s, u := serve(t, stallAfterHeaders(t))
	var mu sync.Mutex
	now := time.Now()
	b := newBreaker("stalling", func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c := client(&Transport{Breaker: b, AttemptTimeout: 200 * time.Millisecond})
	call := func() (err error, callerDone bool) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err = GetJSON[answer](ctx, c, u)
		return err, ctx.Err() != nil
	}
	for i := range 3 {
		if err, callerDone := call(); err == nil || callerDone {
			t.Fatalf("call %d: got %v (caller's deadline reached %v); want the try's own timeout", i+1, err, callerDone)
		}
	}
	if err, _ := call(); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after 3 tries that ran out of AttemptTimeout: got %v, want breaker.ErrOpen (requests sent: %d, circuit %v)",
			err, s.hits.Load(), b.State(context.Background()))
	}

	mu.Lock()
	now = now.Add(time.Hour) // past OpenFor: the next call is a trial
	mu.Unlock()
	before := s.hits.Load()
	if err, callerDone := call(); err == nil || callerDone {
		t.Fatalf("trial: got %v (caller's deadline reached %v); want the try's own timeout", err, callerDone)
	}
	if s.hits.Load() == before {
		t.Fatal("no trial was sent")
	}
	if st := b.State(context.Background()); st != breaker.Open {
		t.Errorf("after a trial whose body stalled: circuit %v, want open", st)
	}
}

// TestIdempotency: only idempotent requests, and those with an
// Idempotency-Key, are sent again after the server may have acted on them.
func TestIdempotency(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		key      string // the header carrying a key, if any
		first    func(http.ResponseWriter, *http.Request)
		wantHits int64
	}{
		{"POST 502", "POST", "", status(502), 1},
		{"POST 504", "POST", "", status(504), 1},
		{"POST 503 Retry-After 0", "POST", "", status(503, "Retry-After", "0"), 1},
		{"POST 429", "POST", "", status(429), 1},
		{"PATCH 503", "PATCH", "", status(503), 1},
		{"POST reset after the request was written", "POST", "", reset, 1},
		{"PATCH reset", "PATCH", "", reset, 1},
		{"POST with Idempotency-Key 502", "POST", "Idempotency-Key", status(502), 2},
		{"POST with X-Idempotency-Key 504", "POST", "X-Idempotency-Key", status(504), 2},
		{"POST with Idempotency-Key reset", "POST", "Idempotency-Key", reset, 2},
		{"GET 502", "GET", "", status(502), 2},
		{"HEAD 503", "HEAD", "", status(503), 2},
		{"OPTIONS 502", "OPTIONS", "", status(502), 2},
		{"PUT 502", "PUT", "", status(502), 2},
		{"PUT reset", "PUT", "", reset, 2},
		{"DELETE 504", "DELETE", "", status(504), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, u := serve(t, tt.first, status(200))
			tr := &Transport{Retry: []retry.Option{retry.WithBackoff(-1, 0)}}
			req, _ := http.NewRequest(tt.method, u, strings.NewReader(`{"n":1}`))
			if tt.key != "" {
				req.Header.Set(tt.key, "order-7")
			}
			resp, err := client(tr).Do(req)
			if err == nil {
				resp.Body.Close()
			}
			if got := s.hits.Load(); got != tt.wantHits {
				t.Errorf("got %d requests, want %d (err %v)", got, tt.wantHits, err)
			}
			if tt.wantHits == 2 && (err != nil || resp.StatusCode != 200) {
				t.Errorf("got %v, %v, want the 200 of the retry", resp, err)
			}
		})
	}
}

// refusedOnce dials an address that refuses the connection on its first
// dial, and the one asked for afterwards.
func refusedOnce(t *testing.T) (*http.Transport, *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	var dials atomic.Int64
	var d net.Dialer
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			addr = refused
		}
		return d.DialContext(ctx, network, addr)
	}}, &dials
}

// TestPostRetriedBeforeWritten: a POST whose connection was refused was
// never sent, so it is sent again, with its body.
func TestPostRetriedBeforeWritten(t *testing.T) {
	s, u := serve(t, status(200))
	base, dials := refusedOnce(t)
	t.Cleanup(base.CloseIdleConnections)
	c := client(&Transport{Base: base, Retry: []retry.Option{retry.WithBackoff(-1, 0)}})
	a, err := PostJSON[answer](context.Background(), c, u, map[string]int{"n": 1})
	if err != nil || !a.OK {
		t.Fatalf("got %+v, %v", a, err)
	}
	if dials.Load() != 2 || s.hits.Load() != 1 || s.bodies[0] != `{"n":1}` {
		t.Fatalf("got %d dials, %d requests, bodies %q; want 2 dials, 1 request with the body", dials.Load(), s.hits.Load(), s.bodies)
	}
}

// TestRetryAfterCapped: a Retry-After longer than the cap ends the retries
// at once with the server's answer, with no deadline to stop a wait.
func TestRetryAfterCapped(t *testing.T) {
	day := time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)
	for _, tt := range []struct {
		name, after string
		deadline    time.Duration
	}{
		{"seconds, no deadline", "86400", 0},
		{"date, no deadline", day, 0},
		{"seconds, within a far deadline", "600", time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, u := serve(t, status(503, "Retry-After", tt.after), status(200))
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			done := make(chan error, 1)
			go func() {
				_, err := GetJSON[answer](ctx, client(&Transport{}), u)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second): // a bound, so the test fails instead of hanging
				t.Fatalf("RoundTrip still waits after 30s for Retry-After: %s", tt.after)
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != 503 {
				t.Errorf("got %v, want the server's 503", err)
			}
			if got := s.hits.Load(); got != 1 {
				t.Errorf("got %d requests, want 1", got)
			}
		})
	}
}

// TestCallerCancelLoggedAsInfo: a call cut short by the caller's own
// context is not a downstream failure: it is logged at Info, with the
// caller's context.
func TestCallerCancelLoggedAsInfo(t *testing.T) {
	_, u := serve(t, hang(t))
	var logs bytes.Buffer
	tr := &Transport{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", u+"/x?sig=querysecret", nil)
	go cancel()
	if _, err := tr.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if line := logs.String(); !strings.Contains(line, `"level":"INFO"`) || strings.Contains(line, "querysecret") {
		t.Errorf("log line %s: want level INFO and no query", line)
	}
}

// TestBadURLHidesQuery: a URL that does not parse is not repeated, query
// and all, in the error.
func TestBadURLHidesQuery(t *testing.T) {
	_, err := GetJSON[answer](context.Background(), nil, "http://exa mple.com/x?api_key=querysecret")
	if err == nil || strings.Contains(err.Error(), "querysecret") {
		t.Errorf("got %v, want an error without the query", err)
	}
}

func TestAttemptTimeout(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := time.Second
	tests := []struct {
		name  string
		field time.Duration
		left  time.Duration // before the deadline; 0: no deadline
		want  time.Duration
	}{
		{"default, no deadline", 0, 0, DefaultAttemptTimeout},
		{"default, a Lambda's 3 s", 0, 3 * s, 2250 * time.Millisecond},
		{"default, API Gateway's 29 s", 0, 29 * s, DefaultAttemptTimeout},
		{"default, just under the crossover", 0, 13 * s, 9750 * time.Millisecond},
		{"default, 15 minutes", 0, 15 * time.Minute, DefaultAttemptTimeout},
		{"default, 2 s: three quarters", 0, 2 * s, 1500 * time.Millisecond},
		{"default, 1.2 s: the floor", 0, 1200 * time.Millisecond, s},
		{"default, just over the floor", 0, s + time.Millisecond, s},
		{"default, 1 s: none", 0, s, 0},
		{"default, 750 ms: none", 0, 750 * time.Millisecond, 0},
		{"default, deadline passed: none", 0, -s, 0},
		{"set, no deadline", 30 * s, 0, 30 * s},
		{"set, used as given", 2 * s, 3 * s, 2 * s},
		{"set below the floor, used as given", 100 * time.Millisecond, 500 * time.Millisecond, 100 * time.Millisecond},
		{"set beyond the deadline", 5 * s, 3 * s, 5 * s},
		{"negative: none", -1, 3 * s, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.left != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, now.Add(tt.left))
				defer cancel()
			}
			tr := &Transport{AttemptTimeout: tt.field}
			if got := tr.attemptTimeout(ctx, now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPreread: the body read ahead within the try reads the same bytes as
// the original, whether it fits the limit or not, and the try ends (cancel
// is called) once the body is read or, past the limit, closed; a read that
// fails on the try's context fails with that context's error.
func TestPreread(t *testing.T) {
	for _, body := range []string{"", "short", "exactly10", "0123456789", "longer than the limit of ten"} {
		t.Run(fmt.Sprintf("%d bytes", len(body)), func(t *testing.T) {
			cancelled := 0
			resp := &http.Response{Body: io.NopCloser(strings.NewReader(body))}
			if err := preread(context.Background(), resp, 10, func() { cancelled++ }); err != nil {
				t.Fatal(err)
			}
			if len(body) <= 10 && cancelled != 1 {
				t.Errorf("whole body read: cancel called %d times, want 1", cancelled)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(got) != body {
				t.Errorf("got %q, %v; want %q", got, err, body)
			}
			if cancelled != 1 {
				t.Errorf("after Close: cancel called %d times, want 1", cancelled)
			}
		})
	}
	t.Run("downstream broke off", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp := &http.Response{Body: io.NopCloser(iotest.ErrReader(io.ErrUnexpectedEOF))}
		err := preread(ctx, resp, 10, cancel)
		if errors.Is(err, context.Canceled) || !errors.Is(err, io.ErrUnexpectedEOF) || !breaker.IsDownstreamFailure(err) {
			t.Errorf("got %v, want the read's error, a downstream failure, not the try's cancellation", err)
		}
		if ctx.Err() == nil {
			t.Error("the try was not ended")
		}
	})
	t.Run("try ran out", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		resp := &http.Response{Body: io.NopCloser(iotest.ErrReader(errors.New("net/http: request canceled")))}
		err := preread(ctx, resp, 10, nil)
		if !errors.Is(err, context.DeadlineExceeded) || !breaker.IsDownstreamFailure(err) {
			t.Errorf("got %v, want the try's deadline, a downstream failure", err)
		}
	})
}

func TestNotSent(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"dial refused", dial, true},
		{"dial wrapped", fmt.Errorf("breaker: %w", &url.Error{Op: "Post", URL: "http://x", Err: dial}), true},
		{"DNS lookup", &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, true},
		{"reset while reading", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, false},
		{"write", &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, false},
		{"EOF", io.EOF, false},
		{"try's timeout", context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notSent(tt.err); got != tt.want {
				t.Errorf("notSent(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// truncated answers 200 with a Content-Length of 100 and only the first
// bytes of the body, then closes the connection: a downstream (or a proxy in
// front of it) that dies mid-answer.
func truncated(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ok\":")
	buf.Flush()
	conn.Close()
}

// resetMidBody answers 200 with part of its body, then resets the
// connection (RST): a downstream that crashes mid-answer.
func resetMidBody(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ok\":")
	buf.Flush()
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// TestTruncatedTrialKeepsCircuitOpen: a half-open trial whose answer is cut
// short (io.ErrUnexpectedEOF while the helpers read the body inside the try)
// fails the call and counts as the downstream's failure: the body never
// arrived, so the circuit does not close.
func TestTruncatedTrialKeepsCircuitOpen(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	b := newBreaker("truncating", func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	s, u := serve(t, status(500), status(500), status(500), truncated)
	c := client(&Transport{Breaker: b, Retry: []retry.Option{retry.WithMaxTries(1)}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 {
		GetJSON[answer](ctx, c, u)
	}
	if _, err := GetJSON[answer](ctx, c, u); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after 3 answers 500: got %v, want breaker.ErrOpen", err)
	}
	mu.Lock()
	now = now.Add(time.Hour) // past OpenFor: the next call is a trial
	mu.Unlock()
	_, err := GetJSON[answer](ctx, c, u)
	if err == nil {
		t.Fatal("a truncated answer was decoded")
	}
	if s.hits.Load() != 4 {
		t.Fatalf("got %d requests, want 4 (the trial sent)", s.hits.Load())
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("trial error %v: want io.ErrUnexpectedEOF in its chain", err)
	}
	if st := b.State(ctx); st == breaker.Closed {
		t.Errorf("after a trial whose body was cut short: circuit %v, want it not closed (the body never arrived)", st)
	}
}

// TestResetMidBodyCounts: a connection reset mid-body is a downstream
// failure: the error says what happened, not "context canceled", and three
// such answers open the circuit.
func TestResetMidBodyCounts(t *testing.T) {
	_, u := serve(t, resetMidBody)
	b := breaker.New(breaker.Settings{Name: "resetting"})
	c := client(&Transport{Breaker: b, Retry: []retry.Option{retry.WithMaxTries(1)}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last error
	for range 3 {
		_, last = GetJSON[answer](ctx, c, u)
	}
	if errors.Is(last, context.Canceled) {
		t.Errorf("a body cut by the downstream fails with %v: the caller cancelled nothing", last)
	}
	if st := b.State(ctx); st != breaker.Open {
		t.Errorf("after 3 answers whose bodies were reset: circuit %v, want open (last error %v)", st, last)
	}
}

// TestTrialCutByCauseLeavesCircuit: a half-open trial cut off by a caller
// whose context was cancelled with a cause (net/http then returns the cause,
// not ctx.Err()) is the caller's doing: it neither closes nor opens the
// circuit, although the downstream still hangs.
func TestTrialCutByCauseLeavesCircuit(t *testing.T) {
	_, u := serve(t, status(500), status(500), status(500), hang(t))
	var mu sync.Mutex
	now := time.Now()
	b := newBreaker("hanging-after-outage", func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c := client(&Transport{Breaker: b, Retry: []retry.Option{retry.WithMaxTries(1)}})
	bg, cancelBg := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelBg()
	for range 3 {
		GetJSON[answer](bg, c, u)
	}
	if _, err := GetJSON[answer](bg, c, u); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after 3 answers 500: got %v, want breaker.ErrOpen", err)
	}
	mu.Lock()
	now = now.Add(time.Hour) // past OpenFor: the next call is a trial
	mu.Unlock()

	errBudget := errors.New("the caller's budget for this call ran out")
	ctx, cancel := context.WithCancelCause(bg)
	timer := time.AfterFunc(200*time.Millisecond, func() { cancel(errBudget) })
	defer timer.Stop()
	_, err := GetJSON[answer](ctx, c, u)
	if err == nil {
		t.Fatal("the hanging trial succeeded")
	}
	if st := b.State(bg); st == breaker.Closed {
		t.Errorf("a trial cut off by its caller (%v) closed the circuit; the downstream still hangs", err)
	}
}

// newBreaker returns a breaker named name that reads the time from now, so
// that a test moves it past OpenFor without sleeping. breaker.Settings has
// no exported clock: funcify's packages set it through internal/breakerclock.
func newBreaker(name string, now func() time.Time) *breaker.Breaker {
	s := breaker.Settings{Name: name}
	breakerclock.Set(&s, now)
	return breaker.New(s)
}
