package token_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/token"
)

const secret = "s3cr3t-client-secret"

// provider is a token endpoint that counts its grants.
type provider struct {
	*httptest.Server
	grants atomic.Int64

	mu       sync.Mutex
	reply    func(n int64, w http.ResponseWriter) // nil: a fresh bearer token for an hour
	form     url.Values
	user     string
	pass     string
	hasBasic bool
}

func newProvider(t testing.TB) *provider {
	p := &provider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.grants.Add(1)
		_ = r.ParseForm()
		p.mu.Lock()
		p.form = r.PostForm
		p.user, p.pass, p.hasBasic = r.BasicAuth()
		reply := p.reply
		p.mu.Unlock()
		if reply == nil {
			reply = fresh(3600)
		}
		reply(n, w)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *provider) set(reply func(n int64, w http.ResponseWriter)) {
	p.mu.Lock()
	p.reply = reply
	p.mu.Unlock()
}

func (p *provider) lastForm() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.form
}

// fresh answers with token "tok-N" that expires in secs.
func fresh(secs int) func(int64, http.ResponseWriter) {
	return func(n int64, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":%d,"scope":"a b"}`, n, secs)
	}
}

func status(code int, body string, header ...string) func(int64, http.ResponseWriter) {
	return func(_ int64, w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer captures every log line, at debug level.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// downStore is a store that fails every call.
type downStore struct{ calls atomic.Int64 }

var errDown = errors.New("connection refused")

func (d *downStore) Get(context.Context, string) (store.Item, error) {
	d.calls.Add(1)
	return store.Item{}, errDown
}

func (d *downStore) CompareAndSet(context.Context, string, int64, []byte, time.Duration) (int64, error) {
	d.calls.Add(1)
	return 0, errDown
}

func (d *downStore) Delete(context.Context, string, int64) error {
	d.calls.Add(1)
	return errDown
}

// idpFunc is an in-memory token endpoint: an http.RoundTripper that
// answers with reply, for tests that need no socket or that make
// thousands of grants.
type idpFunc func(req *http.Request) (*http.Response, error)

func (f idpFunc) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return f(req)
}

// answer returns a response with status code, body and header pairs.
func answer(req *http.Request, code int, body string, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}
}

// ctxKey is the type of a context key whose value ctxHandler records.
type ctxKey struct{}

// ctxHandler is a slog.Handler that records each record's message with the
// ctxKey value of the context it was logged with: the request id that a
// real handler adds to the line.
type ctxHandler struct {
	mu    *sync.Mutex
	lines *[]string
}

func newCtxHandler() ctxHandler { return ctxHandler{mu: &sync.Mutex{}, lines: &[]string{}} }

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

func (h ctxHandler) Lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), *h.lines...)
}

// clocked returns cfg with its clock set to now (token.SetClock).
func clocked(now func() time.Time, cfg token.Config) token.Config {
	token.SetClock(&cfg, now)
	return cfg
}

// drawing returns cfg with its random window drawn from rand
// (token.SetRand).
func drawing(rand func() float64, cfg token.Config) token.Config {
	token.SetRand(&cfg, rand)
	return cfg
}
