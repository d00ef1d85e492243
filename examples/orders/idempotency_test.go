package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/internal/testenv"
)

// poster sends a POST /orders with body and headers to the app, and
// returns the answer as a client sees it. It runs on any goroutine.
type poster func(body string, header map[string]string) (seen, error)

// postViaLambda invokes a with the HTTP API 2.0 event of the POST.
func postViaLambda(a *app.App) poster {
	return func(body string, header map[string]string) (seen, error) {
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "test"})
		out, err := a.Invoke(ctx, v2Event(exchange{"POST", "/orders", body, header}))
		if err != nil {
			return seen{}, err
		}
		var r events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &r); err != nil {
			return seen{}, fmt.Errorf("response %s: %v", out, err)
		}
		s := seen{status: r.StatusCode, header: map[string]string{}, body: r.Body}
		for k, v := range r.Headers {
			s.header[http.CanonicalHeaderKey(k)] = v
		}
		return s, nil
	}
}

// postViaHTTP sends the POST over HTTP to a served by net/http.
func postViaHTTP(t *testing.T, a *app.App) poster {
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return func(body string, header map[string]string) (seen, error) {
		req, err := http.NewRequest("POST", srv.URL+"/orders", strings.NewReader(body))
		if err != nil {
			return seen{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			return seen{}, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return seen{}, err
		}
		s := seen{status: resp.StatusCode, header: map[string]string{}, body: string(b)}
		for k, vs := range resp.Header {
			s.header[k] = strings.Join(vs, ", ")
		}
		return s, nil
	}
}

// transports are the two ways a POST reaches the example.
var transports = []struct {
	name string
	post func(t *testing.T, a *app.App) poster
}{
	{"lambda", func(t *testing.T, a *app.App) poster { return postViaLambda(a) }},
	{"http", postViaHTTP},
}

func mustPost(t *testing.T, post poster, body string, header map[string]string) seen {
	t.Helper()
	s, err := post(body, header)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func key(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }

// TestPostIdempotencyKey: a POST retried with its Idempotency-Key creates
// one order and gets the first answer again; the key with another body is
// refused 422 and creates nothing; another key, or none, creates an order.
func TestPostIdempotencyKey(t *testing.T) {
	const book, pen = `{"item":"book","quantity":2}`, `{"item":"pen","quantity":1}`
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s := newStore()
			post := tr.post(t, newApp(s, app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))))

			first := mustPost(t, post, book, key("k1"))
			if first.status != 201 || first.header["Location"] != "/orders/1" || !strings.Contains(first.body, `"id":"1"`) {
				t.Fatalf("first POST: got %d Location %q %s, want 201 /orders/1", first.status, first.header["Location"], first.body)
			}
			if got := first.header["Idempotent-Replayed"]; got != "" {
				t.Errorf("first POST: got Idempotent-Replayed %q, want none", got)
			}
			retry := mustPost(t, post, book, key("k1"))
			if retry.status != first.status || retry.body != first.body || retry.header["Location"] != first.header["Location"] ||
				retry.header["Content-Type"] != first.header["Content-Type"] {
				t.Errorf("retry: got %d %v %s, want the first answer %d %v %s",
					retry.status, retry.header, retry.body, first.status, first.header, first.body)
			}
			if got := retry.header["Idempotent-Replayed"]; got != "true" {
				t.Errorf("retry: got Idempotent-Replayed %q, want true", got)
			}
			// The quoted form of the header (a Structured Field String) is
			// the same key.
			if quoted := mustPost(t, post, book, key(`"k1"`)); quoted.body != first.body {
				t.Errorf("retry with the quoted key: got %d %s, want the first answer", quoted.status, quoted.body)
			}

			other := mustPost(t, post, pen, key("k1"))
			if other.status != 422 || !strings.Contains(other.body, `"code":422`) {
				t.Errorf("same key, another body: got %d %s, want a 422 envelope", other.status, other.body)
			}
			if got := mustPost(t, post, pen, key("k2")); got.status != 201 || got.header["Location"] != "/orders/2" {
				t.Errorf("another key: got %d %q, want 201 /orders/2", got.status, got.header["Location"])
			}
			for i := range 2 {
				if got := mustPost(t, post, pen, nil); got.status != 201 {
					t.Errorf("POST %d without a key: got %d, want 201", i, got.status)
				}
			}
			if got := mustPost(t, post, book, key(strings.Repeat("k", 256))); got.status != 400 {
				t.Errorf("a key of 256 bytes: got %d, want 400", got.status)
			}

			var items []string
			for _, o := range s.list() {
				items = append(items, o.Item)
			}
			if want := []string{"book", "pen", "pen", "pen"}; !reflect.DeepEqual(items, want) {
				t.Errorf("orders: got %q, want %q", items, want)
			}
		})
	}
}

// TestPostIdempotencyKeyConcurrent: two POSTs with one key at once create
// one order: the one that takes the key runs, the other gets 409. The
// order store's lock is held so that the first cannot finish before the
// second has been answered.
func TestPostIdempotencyKeyConcurrent(t *testing.T) {
	const book = `{"item":"book","quantity":2}`
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s := newStore()
			post := tr.post(t, newApp(s, app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))))

			type result struct {
				s   seen
				err error
			}
			results := make(chan result, 2)
			s.mu.Lock()
			for range 2 {
				go func() {
					got, err := post(book, key("k1"))
					results <- result{got, err}
				}()
			}
			// Without the key, both requests would wait for the lock here, and the
			// test would time out.
			refused := <-results
			s.mu.Unlock()
			ran := <-results
			for _, r := range []result{refused, ran} {
				if r.err != nil {
					t.Fatal(r.err)
				}
			}
			if refused.s.status != 409 || !strings.Contains(refused.s.body, `"code":409`) {
				t.Errorf("concurrent repeat: got %d %s, want a 409 envelope", refused.s.status, refused.s.body)
			}
			if ran.s.status != 201 {
				t.Errorf("the request that took the key: got %d %s, want 201", ran.s.status, ran.s.body)
			}
			if got := mustPost(t, post, book, key("k1")); got.status != 201 || got.body != ran.s.body {
				t.Errorf("retry after both: got %d %s, want the first answer %s", got.status, got.body, ran.s.body)
			}
			if n := len(s.list()); n != 1 {
				t.Errorf("got %d orders, want 1", n)
			}
		})
	}
}

// TestPostIdempotencyKeyAuth: with tokens on, a request refused for its
// token takes no key: the same key with a valid token then creates the
// order, rather than replay the refusal.
func TestPostIdempotencyKeyAuth(t *testing.T) {
	idp := testenv.StartOIDC(t)
	write := idp.Token(t, "orders:order:read", "orders:order:write")
	read := idp.Token(t, "orders:order:read")
	t.Setenv(envIssuer, idp.Issuer)
	t.Setenv(envAudience, idp.Audience)
	t.Setenv(envJWKS, idp.JWKSURL)
	s := newStore()
	post := postViaLambda(newApp(s, app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))))
	const book = `{"item":"book","quantity":2}`
	with := func(tok string) map[string]string {
		return map[string]string{"Idempotency-Key": "k1", "Authorization": "Bearer " + tok}
	}
	for _, tt := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"no token", key("k1"), 401},
		{"without the activity", with(read), 403},
		{"with the activity", with(write), 201},
		{"retried", with(write), 201},
	} {
		if got := mustPost(t, post, book, tt.header); got.status != tt.status {
			t.Errorf("%s: got %d %s, want %d", tt.name, got.status, got.body, tt.status)
		}
	}
	if n := len(s.list()); n != 1 {
		t.Errorf("got %d orders, want 1", n)
	}
}

// TestOrderEventsRedelivered: a batch that comes back after a partial
// failure runs only the messages that failed: the updates that succeeded
// are not applied again. Between the deliveries the test sets the orders'
// statuses itself, and counts the messages that overwrite them.
func TestOrderEventsRedelivered(t *testing.T) {
	for _, tt := range []struct {
		queue string
		// failed are the items the first delivery reports, ran those it
		// applied.
		failed, ran []string
	}{
		{ordersQueueARN, []string{"m1", "m3"}, []string{"m0", "m2"}},
		// FIFO: the first failure stops the batch.
		{ordersFIFOARN, []string{"m1", "m2", "m3"}, []string{"m0"}},
	} {
		t.Run(tt.queue[strings.LastIndex(tt.queue, ":")+1:], func(t *testing.T) {
			s := newStore()
			a := newApp(s, app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
			one, two := s.add("book", 1), s.add("pen", 2)
			// m1 names order 3, which the store does not hold yet; m3 is
			// not JSON.
			batch := sqsBatch(tt.queue,
				`{"id":"`+one.ID+`","status":"shipped"}`,
				`{"id":"3","status":"shipped"}`,
				`{"id":"`+two.ID+`","status":"shipped"}`,
				`{"id":`,
			)
			if got := failures(t, invokeOrders(t, a, batch)); !reflect.DeepEqual(got, tt.failed) {
				t.Fatalf("first delivery: failed items %q, want %q", got, tt.failed)
			}
			// applied returns the messages whose update was applied, in
			// the orders' order, and resets the statuses.
			byOrder := map[string]string{"1": "m0", "2": "m2", "3": "m1"}
			applied := func() []string {
				var ids []string
				for _, o := range s.list() {
					if o.Status == "shipped" {
						ids = append(ids, byOrder[o.ID])
					}
					s.setStatus(o.ID, "reset")
				}
				return ids
			}
			if got := applied(); !reflect.DeepEqual(got, tt.ran) {
				t.Fatalf("first delivery: applied %q, want %q", got, tt.ran)
			}

			s.add("lamp", 3) // order 3: m1 succeeds now
			if got, want := failures(t, invokeOrders(t, a, batch)), []string{"m3"}; !reflect.DeepEqual(got, want) {
				t.Errorf("redelivery: failed items %q, want %q", got, want)
			}
			// The messages that failed the first time ran; the others did
			// not run again.
			var want []string
			for _, m := range []string{"m0", "m2", "m1"} {
				if !slices.Contains(tt.ran, m) {
					want = append(want, m)
				}
			}
			if got := applied(); !reflect.DeepEqual(got, want) {
				t.Errorf("redelivery: applied %q, want %q", got, want)
			}
		})
	}
}
