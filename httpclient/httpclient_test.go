package httpclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/breaker"
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

func TestPostBodyReplayed(t *testing.T) {
	s, u := serve(t, status(503), status(200))
	in := map[string]any{"item": "book", "note": strings.Repeat("é", 3000)}
	if _, err := PostJSON[answer](context.Background(), client(&Transport{Retry: []retry.Option{retry.WithBackoff(time.Millisecond, time.Millisecond)}}), u, in); err != nil {
		t.Fatal(err)
	}
	if len(s.bodies) != 2 || s.bodies[0] != s.bodies[1] || len(s.bodies[0]) < 6000 {
		t.Fatalf("bodies differ or are missing: %d bodies, lengths %d", len(s.bodies), len(s.bodies[0]))
	}

	s, u = serve(t, status(503), status(200))
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"a b"}}
	if _, err := PostForm[answer](context.Background(), client(&Transport{Retry: []retry.Option{retry.WithBackoff(time.Millisecond, time.Millisecond)}}), u, form); err != nil {
		t.Fatal(err)
	}
	if len(s.bodies) != 2 || s.bodies[0] != s.bodies[1] || s.bodies[0] != form.Encode() {
		t.Fatalf("form bodies: %q", s.bodies)
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
	if !errors.As(err, &he) || he.HTTPStatus() != 403 || he.Body != `{"ok":false}` {
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
