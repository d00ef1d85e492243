package idempotency_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/redis/go-redis/v9"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/store/redisstore"
)

// req is a request as the tests send it through every transport.
type req struct {
	method, path, query string
	keys                []string // Idempotency-Key field values, one header line each
	body                string
	caller              string // X-Caller, for CallerIdentity
}

func post(path, key, body string) req {
	return req{method: "POST", path: path, keys: []string{key}, body: body}
}

// resp is an answer as the tests compare it.
type resp struct {
	status int
	header http.Header
	body   string
}

// transport sends a request to an App and returns its answer.
type transport struct {
	name string
	send func(t *testing.T, f *fixture, r req) resp
}

var transports = []transport{
	{"RESTv1", sendREST},
	{"HTTPAPIv2", sendHTTPAPI},
	{"LocalServer", sendLocal},
}

func sendREST(t *testing.T, f *fixture, r req) resp {
	ev := events.APIGatewayProxyRequest{
		Resource: r.path, Path: r.path, HTTPMethod: r.method, Body: r.body,
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
		RequestContext:    events.APIGatewayProxyRequestContext{DomainName: "api.example.com", Stage: "prod"},
	}
	if len(r.keys) > 0 {
		ev.MultiValueHeaders["Idempotency-Key"] = r.keys
	}
	if r.caller != "" {
		ev.MultiValueHeaders["X-Caller"] = []string{r.caller}
	}
	if r.query != "" {
		ev.MultiValueQueryStringParameters = map[string][]string{}
		for _, kv := range strings.Split(r.query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			ev.MultiValueQueryStringParameters[k] = append(ev.MultiValueQueryStringParameters[k], v)
		}
	}
	var out events.APIGatewayProxyResponse
	invoke(t, f.app, ev, &out)
	h := http.Header{}
	for k, vs := range out.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return resp{out.StatusCode, h, out.Body}
}

func sendHTTPAPI(t *testing.T, f *fixture, r req) resp {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.path, RawQueryString: r.query, Body: r.body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "api.example.com",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.method, Path: r.path},
		},
	}
	if len(r.keys) > 0 {
		// An HTTP API joins repeated header lines with commas.
		ev.Headers["idempotency-key"] = strings.Join(r.keys, ",")
	}
	if r.caller != "" {
		ev.Headers["x-caller"] = r.caller
	}
	var out events.APIGatewayV2HTTPResponse
	invoke(t, f.app, ev, &out)
	h := http.Header{}
	for k, v := range out.Headers {
		h.Set(k, v)
	}
	for _, c := range out.Cookies {
		h.Add("Set-Cookie", c)
	}
	return resp{out.StatusCode, h, out.Body}
}

// invoke invokes a with ev and decodes its answer into out. Like the other
// senders, it reports a failure with t.Errorf, since concurrent requests
// send from goroutines of their own.
func invoke(t *testing.T, a *app.App, ev, out any) {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Errorf("event: %v", err)
		return
	}
	b, err := a.Invoke(context.Background(), payload)
	if err != nil {
		t.Errorf("Invoke: %v", err)
		return
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Errorf("response %s: %v", b, err)
	}
}

func sendLocal(t *testing.T, f *fixture, r req) resp {
	u := f.server.URL + r.path
	if r.query != "" {
		u += "?" + r.query
	}
	hr, err := http.NewRequest(r.method, u, strings.NewReader(r.body))
	if err != nil {
		t.Error(err)
		return resp{}
	}
	hr.Header.Set("Content-Type", "application/json")
	for _, k := range r.keys {
		hr.Header.Add("Idempotency-Key", k)
	}
	if r.caller != "" {
		hr.Header.Set("X-Caller", r.caller)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Error(err)
		return resp{}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Error(err)
	}
	return resp{res.StatusCode, res.Header, string(b)}
}

// fixture is an App whose routes run behind Middleware, counting the
// runs of each handler.
type fixture struct {
	app     *app.App
	server  *httptest.Server // serving app
	orders  atomic.Int64     // runs of POST /orders
	fails   atomic.Int64     // runs of POST /flaky
	gets    atomic.Int64     // runs of /any
	entered chan struct{}
	release chan struct{}
	logs    bytes.Buffer
	logMu   sync.Mutex
}

func (f *fixture) Write(b []byte) (int, error) {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logs.Write(b)
}

func newFixture(t *testing.T, s store.Store, cfg idempotency.Config, opts ...idempotency.HTTPOption) *fixture {
	t.Helper()
	f := &fixture{entered: make(chan struct{}, 100), release: make(chan struct{})}
	cfg.Store = s
	if cfg.Scope == "" {
		cfg.Scope = t.Name()
	}
	cfg.Logger = slog.New(slog.NewTextHandler(f, nil))
	g, err := idempotency.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mw := idempotency.Middleware(g, opts...)
	a := app.New(app.WithLogger(slog.New(slog.DiscardHandler)))
	a.Handle("POST /orders", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.orders.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", "/orders/"+strconv.FormatInt(n, 10))
		w.Header().Set("Content-Type", "application/vnd.order+json")
		w.Header().Set("X-Trace", strconv.FormatInt(n, 10)) // not replayed
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s" + strconv.FormatInt(n, 10)})
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"order":%d,"body":%q}`, n, body)
	})))
	a.Handle("POST /invalid", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.orders.Add(1)
		app.WriteError(w, r, app.NewError(http.StatusBadRequest, "qty must be positive"))
	})))
	a.Handle("POST /flaky", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.fails.Add(1) == 1 {
			app.WriteError(w, r, app.NewError(http.StatusServiceUnavailable, "try again"))
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ok":true}`)
	})))
	a.Handle("POST /slow", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.orders.Add(1)
		f.entered <- struct{}{}
		<-f.release
		fmt.Fprintf(w, `{"order":%d}`, n)
	})))
	a.Handle("POST /big", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.orders.Add(1)
		w.Write(bytes.Repeat([]byte("x"), 2500))
		w.(http.Flusher).Flush() // the recorder is a Flusher
		w.Write(bytes.Repeat([]byte("x"), 2500))
	})))
	a.Handle("POST /page", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.orders.Add(1)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(page)
	})))
	a.Handle("/any", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.gets.Add(1)
		io.WriteString(w, `{"method":"`+r.Method+`"}`)
	})))
	f.app = a
	f.server = httptest.NewServer(a)
	t.Cleanup(f.server.Close)
	return f
}

// page is a body of 3,000 bytes: printable ASCII, quotes, backslashes
// and 2-byte UTF-8 characters, none of them in a run.
var page = func() []byte {
	b := make([]byte, 0, 3000)
	for i := 0; len(b) < 3000; i++ {
		if i%10 == 9 {
			b = append(b, "é"...)
		} else {
			b = append(b, byte(' '+i%95))
		}
	}
	return b[:3000]
}()

func memStore(t *testing.T) store.Store { return memstore.New() }

// envelope decodes an error envelope.
func envelope(t *testing.T, r resp) (code int, step, msg string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
		Code  int    `json:"code"`
		Step  string `json:"step"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("answer %d %q is not an envelope: %v", r.status, r.body, err)
	}
	return e.Code, e.Step, e.Error
}

func TestHTTPMemstore(t *testing.T) { runHTTP(t, memStore) }

func TestHTTPRedis(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	runHTTP(t, func(t *testing.T) store.Store { return redisstore.New(c) })
}

// TestHTTPDynalite runs the cases on DynamoDB's API (dynalite), all in
// one table: each fixture has a Scope of its own.
func TestHTTPDynalite(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	table := newTable(t, c)
	runHTTP(t, func(t *testing.T) store.Store { return dynamostore.New(c, table) })
}

func runHTTP(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, tr transport, newStore func(t *testing.T) store.Store)
	}{
		{"Replay", testHTTPReplay},
		{"OtherRequest422", testHTTPMismatch},
		{"BadKey400", testHTTPBadKey},
		{"MethodsNotEnabled", testHTTPMethods},
		{"ServerErrorRetries", testHTTPServerError},
		{"ClientErrorReplayed", testHTTPClientError},
		{"Concurrent409", testHTTPConcurrent},
		{"Wait20", testHTTPWait},
		{"CallerIdentity", testHTTPIdentity},
		{"TooLargeToReplay", testHTTPTooLarge},
		{"Replay3000Bytes4KB", testHTTPReplay4KB},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.test(t, tr, newStore) })
			}
		})
	}
}

// testHTTPReplay: the first request runs; a repeat replays its status, its
// replayed headers and its body exactly, marked as a replay, without its
// cookie or other headers; the quoted and the bare form of a key are one key.
func testHTTPReplay(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{})
	first := tr.send(t, f, post("/orders", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{"qty":1}`))
	if first.status != http.StatusCreated {
		t.Fatalf("first: got %d %s, want 201", first.status, first.body)
	}
	if got := first.header.Get(idempotency.ReplayedHeader); got != "" {
		t.Errorf("first: got %s %q, want none", idempotency.ReplayedHeader, got)
	}
	if got := first.header.Get("Set-Cookie"); got == "" {
		t.Errorf("first: no Set-Cookie")
	}
	for _, key := range []string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `8e03978e-40d5-43e8-bc93-6894a57f9324`} {
		again := tr.send(t, f, post("/orders", key, `{"qty":1}`))
		if again.status != first.status || again.body != first.body {
			t.Errorf("repeat with %s: got %d %s, want %d %s", key, again.status, again.body, first.status, first.body)
		}
		for _, h := range []string{"Content-Type", "Location"} {
			if got, want := again.header.Get(h), first.header.Get(h); got != want {
				t.Errorf("repeat with %s: got %s %q, want %q", key, h, got, want)
			}
		}
		if got := again.header.Get(idempotency.ReplayedHeader); got != "true" {
			t.Errorf("repeat with %s: got %s %q, want true", key, idempotency.ReplayedHeader, got)
		}
		for _, h := range []string{"Set-Cookie", "X-Trace"} {
			if got := again.header.Get(h); got != "" {
				t.Errorf("repeat with %s: got %s %q, want none", key, h, got)
			}
		}
	}
	if got := f.orders.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
	// Another key is another request.
	if r := tr.send(t, f, post("/orders", `"k2"`, `{"qty":1}`)); r.status != http.StatusCreated || f.orders.Load() != 2 {
		t.Errorf("another key: got %d %s after %d runs, want 201 after 2", r.status, r.body, f.orders.Load())
	}
}

// testHTTPMismatch: the same key with another body (by its bytes) or query
// on the same route gets 422, and the handler does not run again.
func testHTTPMismatch(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{})
	if r := tr.send(t, f, post("/orders", `"k"`, `{"qty":1}`)); r.status != http.StatusCreated {
		t.Fatalf("first: got %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		name string
		r    req
	}{
		{"body", post("/orders", `"k"`, `{"qty":2}`)},
		{"body spacing", post("/orders", `"k"`, `{"qty": 1}`)}, // byte-exact
		{"query", req{method: "POST", path: "/orders", query: "dry=1", keys: []string{`"k"`}, body: `{"qty":1}`}},
	} {
		r := tr.send(t, f, tc.r)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: got %d %s, want 422", tc.name, r.status, r.body)
			continue
		}
		if code, _, _ := envelope(t, r); code != 422 {
			t.Errorf("%s: envelope code %d, want 422", tc.name, code)
		}
	}
	if got := f.orders.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
}

// testHTTPBadKey: a missing, empty, too long or malformed key answers 400
// in the envelope, at step "idempotency", and the handler does not run.
func testHTTPBadKey(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{})
	long := strings.Repeat("a", idempotency.MaxKeyBytes+1)
	tests := []struct {
		name string
		keys []string
	}{
		{"missing", nil},
		{"empty string", []string{`""`}},
		{"256 bytes", []string{long}},
		{"256 bytes quoted", []string{`"` + long + `"`}},
		{"unterminated", []string{`"abc`}},
		{"after the string", []string{`"abc"x`}},
		{"parameters", []string{`"abc";v=1`}},
		{"bad escape", []string{`"a\b"`}},
		{"space in bare key", []string{`a b`}},
		{"two fields", []string{`"a"`, `"b"`}},
	}
	for _, tt := range tests {
		r := tr.send(t, f, req{method: "POST", path: "/orders", keys: tt.keys, body: `{}`})
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: got %d %s, want 400", tt.name, r.status, r.body)
			continue
		}
		if code, step, _ := envelope(t, r); code != 400 || step != "idempotency" {
			t.Errorf("%s: envelope code %d step %q, want 400 idempotency", tt.name, code, step)
		}
	}
	if got := f.orders.Load(); got != 0 {
		t.Errorf("handler ran %d times, want 0", got)
	}
	// 255 bytes is a key, and so is an escaped quote.
	for _, key := range []string{long[1:], `"a\"b\\c"`} {
		if r := tr.send(t, f, post("/orders", key, `{}`)); r.status != http.StatusCreated {
			t.Errorf("key %s: got %d %s, want 201", key, r.status, r.body)
		}
	}
}

// testHTTPMethods: requests of methods not enabled pass through untouched,
// with or without a key, and run every time; the enabled ones are
// idempotent.
func testHTTPMethods(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{})
	for i, r := range []req{
		{method: "GET", path: "/any"},
		{method: "GET", path: "/any", keys: []string{`"k"`}},
		{method: "PUT", path: "/any", keys: []string{`"k"`}, body: "{}"},
		{method: "DELETE", path: "/any", keys: []string{"not a key"}},
	} {
		got := tr.send(t, f, r)
		if got.status != http.StatusOK || got.header.Get(idempotency.ReplayedHeader) != "" {
			t.Errorf("%s: got %d %s %v, want 200 and no replay", r.method, got.status, got.body, got.header)
		}
		if n := f.gets.Load(); n != int64(i+1) {
			t.Errorf("%s: handler ran %d times, want %d", r.method, n, i+1)
		}
	}
	// PATCH is enabled by default: a missing key answers 400.
	if got := tr.send(t, f, req{method: "PATCH", path: "/any", body: "{}"}); got.status != http.StatusBadRequest {
		t.Errorf("PATCH without a key: got %d %s, want 400", got.status, got.body)
	}

	// With HTTPMethods("PUT") and KeyOptional: PUT is idempotent, POST passes.
	g := newFixture(t, newStore(t), idempotency.Config{}, idempotency.HTTPMethods("PUT"), idempotency.KeyOptional())
	for range 2 {
		if got := tr.send(t, g, req{method: "PUT", path: "/any", keys: []string{`"k"`}, body: "{}"}); got.status != http.StatusOK {
			t.Errorf("PUT: got %d %s", got.status, got.body)
		}
		if got := tr.send(t, g, req{method: "PUT", path: "/any", body: "{}"}); got.status != http.StatusOK {
			t.Errorf("PUT without a key (optional): got %d %s", got.status, got.body)
		}
		if got := tr.send(t, g, post("/any", `"k"`, "{}")); got.status != http.StatusOK {
			t.Errorf("POST: got %d %s", got.status, got.body)
		}
	}
	if got := g.gets.Load(); got != 5 { // PUT with the key once, PUT without twice, POST twice
		t.Errorf("handler ran %d times, want 5", got)
	}
}

// testHTTPServerError: a 5xx answer is not stored, so the retry runs.
func testHTTPServerError(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{})
	if r := tr.send(t, f, post("/flaky", `"k"`, `{}`)); r.status != http.StatusServiceUnavailable {
		t.Fatalf("first: got %d %s, want 503", r.status, r.body)
	}
	r := tr.send(t, f, post("/flaky", `"k"`, `{}`))
	if r.status != http.StatusCreated || r.header.Get(idempotency.ReplayedHeader) != "" {
		t.Errorf("retry: got %d %s %v, want a fresh 201", r.status, r.body, r.header)
	}
	r = tr.send(t, f, post("/flaky", `"k"`, `{}`))
	if r.status != http.StatusCreated || r.header.Get(idempotency.ReplayedHeader) != "true" {
		t.Errorf("repeat of the success: got %d %s %v, want a replayed 201", r.status, r.body, r.header)
	}
	if got := f.fails.Load(); got != 2 {
		t.Errorf("handler ran %d times, want 2", got)
	}
}

// testHTTPClientError: a 4xx answer is the request's outcome: replayed.
func testHTTPClientError(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{})
	first := tr.send(t, f, post("/invalid", `"k"`, `{}`))
	again := tr.send(t, f, post("/invalid", `"k"`, `{}`))
	if first.status != 400 || again.status != 400 || again.body != first.body || again.header.Get(idempotency.ReplayedHeader) != "true" {
		t.Errorf("got %d %s then %d %s %v, want 400 replayed", first.status, first.body, again.status, again.body, again.header)
	}
	if got := f.orders.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
}

// testHTTPConcurrent: a repeat while the first request runs gets 409; after
// it, the repeat replays it.
func testHTTPConcurrent(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{})
	done := make(chan resp)
	go func() { done <- tr.send(t, f, post("/slow", `"k"`, `{}`)) }()
	<-f.entered
	r := tr.send(t, f, post("/slow", `"k"`, `{}`))
	if r.status != http.StatusConflict {
		t.Errorf("concurrent repeat: got %d %s, want 409", r.status, r.body)
	} else if code, _, _ := envelope(t, r); code != 409 {
		t.Errorf("concurrent repeat: envelope code %d, want 409", code)
	}
	close(f.release)
	first := <-done
	if first.status != http.StatusOK {
		t.Errorf("first: got %d %s, want 200", first.status, first.body)
	}
	r = tr.send(t, f, post("/slow", `"k"`, `{}`))
	if r.status != first.status || r.body != first.body {
		t.Errorf("repeat after: got %d %s, want %d %s", r.status, r.body, first.status, first.body)
	}
	if got := f.orders.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
}

// testHTTPWait: with Config.Wait, 20 concurrent requests with one key run
// the handler once and all get its answer.
func testHTTPWait(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	const n = 20
	var waiting sync.WaitGroup
	waiting.Add(n - 1)
	cfg := idempotency.Config{Wait: true}
	idempotency.SetWaiting(&cfg, waiting.Done)
	f := newFixture(t, newStore(t), cfg)
	answers := make(chan resp, n)
	for range n {
		go func() { answers <- tr.send(t, f, post("/slow", `"k"`, `{}`)) }()
	}
	<-f.entered
	waiting.Wait() // every other request waits for the first's answer
	close(f.release)
	var fresh int
	for range n {
		r := <-answers
		if r.status != http.StatusOK || r.body != `{"order":1}` {
			t.Errorf("got %d %s, want 200 {\"order\":1}", r.status, r.body)
		}
		if r.header.Get(idempotency.ReplayedHeader) == "" {
			fresh++
		}
	}
	if got := f.orders.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
	if fresh != 1 {
		t.Errorf("%d answers not marked as replays, want 1", fresh)
	}
}

// testHTTPIdentity: with CallerIdentity, two callers' equal keys are two
// keys; one caller's repeat is replayed.
func testHTTPIdentity(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{},
		idempotency.CallerIdentity(func(r *http.Request) string { return r.Header.Get("X-Caller") }))
	alice := post("/orders", `"k"`, `{"qty":1}`)
	alice.caller = "alice"
	bob := alice
	bob.caller = "bob"
	a1 := tr.send(t, f, alice)
	b1 := tr.send(t, f, bob)
	a2 := tr.send(t, f, alice)
	if a1.status != 201 || b1.status != 201 || a1.body == b1.body {
		t.Errorf("alice %d %s, bob %d %s: want two orders", a1.status, a1.body, b1.status, b1.body)
	}
	if a2.body != a1.body {
		t.Errorf("alice's repeat: got %s, want %s", a2.body, a1.body)
	}
	if got := f.orders.Load(); got != 2 {
		t.Errorf("handler ran %d times, want 2", got)
	}
}

// testHTTPTooLarge: an answer too large for the store reaches its caller;
// a repeat gets 500 without running the handler again, and the loss is
// logged.
func testHTTPTooLarge(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{MaxResultBytes: 4 << 10})
	first := tr.send(t, f, post("/big", `"k"`, `{}`))
	if first.status != http.StatusOK || len(first.body) != 5000 {
		t.Fatalf("first: got %d and %d bytes, want 200 and 5000", first.status, len(first.body))
	}
	r := tr.send(t, f, post("/big", `"k"`, `{}`))
	if r.status != http.StatusInternalServerError {
		t.Errorf("repeat: got %d and %d bytes, want 500", r.status, len(r.body))
	}
	if got := f.orders.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
	f.logMu.Lock()
	defer f.logMu.Unlock()
	if !strings.Contains(f.logs.String(), "answer too large to store") {
		t.Errorf("logs %q: want the loss logged", f.logs.String())
	}
}

// testHTTPReplay4KB: with MaxResultBytes 4096, an answer of 3,000 bytes
// is stored and replayed byte for byte (a JSON record, which reserved
// 4,096 bytes for all but the body, kept no body at all).
func testHTTPReplay4KB(t *testing.T, tr transport, newStore func(t *testing.T) store.Store) {
	f := newFixture(t, newStore(t), idempotency.Config{MaxResultBytes: 4096})
	first := tr.send(t, f, post("/page", `"k"`, `{}`))
	again := tr.send(t, f, post("/page", `"k"`, `{}`))
	for i, r := range []resp{first, again} {
		if r.status != http.StatusOK || r.body != string(page) || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("answer %d: got %d, %d bytes (equal: %t), %v; want 200 and the page", i, r.status, len(r.body), r.body == string(page), r.header)
		}
	}
	if got := again.header.Get(idempotency.ReplayedHeader); got != "true" {
		t.Errorf("repeat: got %s %q, want true", idempotency.ReplayedHeader, got)
	}
	if got := f.orders.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
}

// TestHTTPBodyLimit: a body over MaxBodyBytes answers 413 without running
// the handler; one of MaxBodyBytes runs it with the whole body.
func TestHTTPBodyLimit(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	var got int
	h := idempotency.Middleware(g)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = len(b)
	}))
	for _, tt := range []struct {
		size, status, read int
	}{
		{idempotency.MaxBodyBytes + 1, http.StatusRequestEntityTooLarge, -1},
		{idempotency.MaxBodyBytes, http.StatusOK, idempotency.MaxBodyBytes},
	} {
		got = -1
		r := httptest.NewRequest("POST", "/upload", bytes.NewReader(make([]byte, tt.size)))
		r.Header.Set("Idempotency-Key", `"k"`)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status || got != tt.read {
			t.Errorf("body of %d bytes: got %d, handler read %d; want %d, %d", tt.size, w.Code, got, tt.status, tt.read)
		}
	}
}

// TestHTTPRouteScope: wrapping a route's handler, the key's route is its
// pattern: one key on /orders/1 and /orders/2 of "POST /orders/{id}" is one
// key used with two requests (422). Wrapping the whole router, as App.Use
// does (before routing, so without a pattern), the route is the path: two
// paths are two keys.
func TestHTTPRouteScope(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.WriteHeader(http.StatusCreated)
	})
	perRoute := app.New(app.WithLogger(slog.New(slog.DiscardHandler)))
	perRoute.Handle("POST /orders/{id}", idempotency.Middleware(g)(h))
	global := app.New(app.WithLogger(slog.New(slog.DiscardHandler)))
	global.Use(idempotency.Middleware(g))
	global.Handle("POST /items/{id}", h)
	for _, tt := range []struct {
		name   string
		a      *app.App
		path   string
		status int
	}{
		{"pattern, first", perRoute, "/orders/1", 201},
		{"pattern, other path", perRoute, "/orders/2", 422},
		{"path, first", global, "/items/1", 201},
		{"path, other path", global, "/items/2", 201},
		{"path, repeat", global, "/items/2", 201},
	} {
		f := &fixture{app: tt.a}
		if r := sendHTTPAPI(t, f, post(tt.path, `"k"`, `{}`)); r.status != tt.status {
			t.Errorf("%s: got %d %s, want %d", tt.name, r.status, r.body, tt.status)
		}
	}
	if got := runs.Load(); got != 3 {
		t.Errorf("handler ran %d times, want 3", got)
	}
}

// TestHTTPStore: the store's round trips (a fresh request takes and
// completes the key with two compare-and-sets; a replay conflicts once and
// reads once), and its outage: 503 without the store's error text under
// FailClosed, the handler run without idempotency under RunWithout.
func TestHTTPStore(t *testing.T) {
	s := &faultyStore{Store: memstore.New()}
	f := newFixture(t, s, idempotency.Config{})
	sendHTTPAPI(t, f, post("/orders", `"k"`, `{}`))
	if gets, sets := s.gets.Load(), s.sets.Load(); gets != 0 || sets != 2 {
		t.Errorf("fresh request: %d reads, %d compare-and-sets; want 0, 2", gets, sets)
	}
	sendHTTPAPI(t, f, post("/orders", `"k"`, `{}`))
	if gets, sets := s.gets.Load(), s.sets.Load(); gets != 1 || sets != 3 {
		t.Errorf("after a replay: %d reads, %d compare-and-sets; want 1, 3", gets, sets)
	}

	s.fail.Store(true)
	r := sendHTTPAPI(t, f, post("/orders", `"k2"`, `{}`))
	if r.status != http.StatusServiceUnavailable || strings.Contains(r.body, errBoom.Error()) {
		t.Errorf("FailClosed: got %d %s, want 503 without the store's error", r.status, r.body)
	}
	if got := f.orders.Load(); got != 1 {
		t.Errorf("FailClosed: handler ran %d times, want 1", got)
	}
	w := newFixture(t, s, idempotency.Config{OnStoreError: idempotency.RunWithout})
	for range 2 {
		if r := sendHTTPAPI(t, w, post("/orders", `"k"`, `{}`)); r.status != http.StatusCreated {
			t.Errorf("RunWithout: got %d %s, want 201", r.status, r.body)
		}
	}
	if got := w.orders.Load(); got != 2 {
		t.Errorf("RunWithout: handler ran %d times, want 2", got)
	}
}

// TestHTTPPanic: a handler that panics leaves no record: the app answers
// 500, and the retry runs the handler.
func TestHTTPPanic(t *testing.T) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int64
	a := app.New(app.WithLogger(slog.New(slog.DiscardHandler)))
	a.Handle("POST /orders", idempotency.Middleware(g)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runs.Add(1) == 1 {
			panic("boom")
		}
		w.WriteHeader(http.StatusCreated)
	})))
	f := &fixture{app: a}
	for i, want := range []int{500, 201, 201} {
		if r := sendHTTPAPI(t, f, post("/orders", `"k"`, `{}`)); r.status != want {
			t.Errorf("request %d: got %d %s, want %d", i, r.status, r.body, want)
		}
	}
	if got := runs.Load(); got != 2 {
		t.Errorf("handler ran %d times, want 2", got)
	}
}

// BenchmarkMiddleware measures a request through Middleware on memstore,
// with a 1 KB body: a fresh key each time (take, run, complete), and a
// replay.
func BenchmarkMiddleware(b *testing.B) {
	g, err := idempotency.New(idempotency.Config{Store: memstore.New()})
	if err != nil {
		b.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"order":"o-1","status":"created"}`)
	})
	h := idempotency.Middleware(g)(next)
	body := bytes.Repeat([]byte("x"), 1024)
	// Without is the handler alone, and the recorder and request of each
	// run: subtract it.
	b.Run("Without", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("POST", "/orders", bytes.NewReader(body))
			r.Header.Set("Idempotency-Key", "k")
			next.ServeHTTP(httptest.NewRecorder(), r)
		}
	})
	serve := func(key string) {
		r := httptest.NewRequest("POST", "/orders", bytes.NewReader(body))
		r.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusCreated {
			b.Fatalf("got %d %s", w.Code, w.Body)
		}
	}
	b.Run("Fresh", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			serve(strconv.Itoa(i))
		}
	})
	b.Run("Replay", func(b *testing.B) {
		serve("replayed")
		b.ReportAllocs()
		for b.Loop() {
			serve("replayed")
		}
	})
}
