package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funcify/funcify/event"
)

// recordingObserver records what it is told, under name, into a shared log.
type recordingObserver struct {
	name string
	mu   *sync.Mutex
	log  *[]string
	ends []Invocation
}

type observerKey string

func (o *recordingObserver) Begin(ctx context.Context, inv *Invocation) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	*o.log = append(*o.log, "begin "+o.name)
	return context.WithValue(ctx, observerKey(o.name), o.name+"-state")
}

func (o *recordingObserver) End(ctx context.Context, inv *Invocation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	*o.log = append(*o.log, "end "+o.name)
	if ctx.Value(observerKey(o.name)) == nil {
		*o.log = append(*o.log, "end "+o.name+" without its state")
	}
	o.ends = append(o.ends, *inv)
}

func newObservers(names ...string) ([]*recordingObserver, *[]string) {
	var mu sync.Mutex
	var log []string
	var obs []*recordingObserver
	for _, n := range names {
		obs = append(obs, &recordingObserver{name: n, mu: &mu, log: &log})
	}
	return obs, &log
}

func httpV2(method, path, body string) []byte {
	return fmt.Appendf(nil, `{"version":"2.0","rawPath":%q,"body":%q,"requestContext":{"http":{"method":%q}}}`, path, body, method)
}

// TestObserverHTTP: observers begin in order and end in reverse, the
// handler runs with the context Begin returned, and End learns the
// method, path, routing pattern and status; a miss has no route.
func TestObserverHTTP(t *testing.T) {
	obs, log := newObservers("outer", "inner")
	a := quietApp(nil, WithObserver(obs[0], obs[1]))
	a.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(observerKey("outer")) == nil || r.Context().Value(observerKey("inner")) == nil {
			t.Error("the handler's context lacks what Begin put in it")
		}
		w.WriteHeader(http.StatusCreated)
	})
	if r := invoke(t, a, httpV2("POST", "/orders/42", "{}")); r.StatusCode != 201 {
		t.Fatalf("status %d", r.StatusCode)
	}
	if r := invoke(t, a, httpV2("GET", "/nowhere", "")); r.StatusCode != 404 {
		t.Fatalf("status %d", r.StatusCode)
	}
	want := "begin outer,begin inner,end inner,end outer,begin outer,begin inner,end inner,end outer"
	if got := strings.Join(*log, ","); got != want {
		t.Errorf("calls %s\nwant %s", got, want)
	}
	ends := obs[0].ends
	if len(ends) != 2 {
		t.Fatalf("%d ends", len(ends))
	}
	e := ends[0]
	if !e.HTTP || e.Kind != event.APIGatewayV2 || e.Event == nil || e.Method != "POST" || e.Path != "/orders/42" ||
		e.Route != "POST /orders/{id}" || e.Status != 201 || e.Err != nil || e.Start.IsZero() {
		t.Errorf("first End %+v", e)
	}
	if e := ends[1]; e.Route != "" || e.Status != 404 || e.Method != "GET" || e.Err != nil {
		t.Errorf("a miss's End: route %q, status %d, method %q, err %v", e.Route, e.Status, e.Method, e.Err)
	}
}

// TestObserverEvents: End learns a keyed event's route key and its
// handler's error, a direct invoke's event, and a rejected payload's
// error.
func TestObserverEvents(t *testing.T) {
	obs, _ := newObservers("o")
	a := quietApp(nil, WithObserver(obs[0]))
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		if ctx.Value(observerKey("o")) == nil {
			t.Error("the S3 handler's context lacks what Begin put in it")
		}
		return "ok", nil
	})
	failure := errors.New("downstream unavailable")
	a.HandleS3("failing", func(ctx context.Context, e events.S3Event) (any, error) { return nil, failure })
	HandleInvoke(a, func(ctx context.Context, in map[string]int) (int, error) { return in["n"], nil })

	if _, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"invoices", "a.pdf"})); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Invoke(invokeCtx(), s3Event(t, [2]string{"failing", "a.pdf"})); !errors.Is(err, failure) {
		t.Fatalf("Invoke: %v", err)
	}
	if _, err := a.Invoke(invokeCtx(), []byte(`{"n":3}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Invoke(invokeCtx(), []byte(`not json`)); err == nil {
		t.Fatal("Invoke of a payload that is not JSON: no error")
	}
	ends := obs[0].ends
	if len(ends) != 4 {
		t.Fatalf("%d ends", len(ends))
	}
	if e := ends[0]; e.Kind != event.S3 || e.HTTP || e.Route != "invoices" || e.Err != nil || e.Status != 0 {
		t.Errorf("S3 End %+v", e)
	}
	if e := ends[1]; e.Route != "failing" || !errors.Is(e.Err, failure) {
		t.Errorf("failing S3 End: route %q, err %v", e.Route, e.Err)
	}
	if e := ends[2]; e.Kind != event.Unknown || e.Event == nil || e.Err != nil {
		t.Errorf("direct invoke End %+v", e)
	}
	if e := ends[3]; e.Kind != event.Unknown || e.Event != nil || e.Err == nil {
		t.Errorf("rejected payload End %+v", e)
	}
}

// TestObserverEndsWhenTheInvocationDoesNotReturn: a handler that ends its
// goroutine (runtime.Goexit, which no recover stops, as a panic that
// escaped would) still gets End called, with ErrPanicked.
func TestObserverEndsWhenTheInvocationDoesNotReturn(t *testing.T) {
	obs, _ := newObservers("o")
	a := quietApp(nil, WithObserver(obs[0]))
	a.HandleS3("exits", func(ctx context.Context, e events.S3Event) (any, error) {
		runtime.Goexit()
		return nil, nil
	})
	payload := s3Event(t, [2]string{"exits", "a.pdf"})
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Invoke(invokeCtx(), payload)
	}()
	<-done
	if len(obs[0].ends) != 1 || !errors.Is(obs[0].ends[0].Err, ErrPanicked) {
		t.Errorf("ends %+v, want one with ErrPanicked", obs[0].ends)
	}
}

// TestObserverServeHTTP: ServeHTTP runs the observers too.
func TestObserverServeHTTP(t *testing.T) {
	obs, _ := newObservers("o")
	a := quietApp(nil, WithObserver(obs[0]))
	a.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(observerKey("o")) == nil {
			t.Error("the handler's context lacks what Begin put in it")
		}
	})
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if len(obs[0].ends) != 1 {
		t.Fatalf("%d ends", len(obs[0].ends))
	}
	if e := obs[0].ends[0]; !e.HTTP || e.Kind != event.Unknown || e.Route != "GET /health" || e.Status != 200 || e.Method != "GET" || e.Path != "/health" {
		t.Errorf("End %+v", e)
	}
}

type shutdownObserver struct {
	recordingObserver
	shut int
}

func (o *shutdownObserver) Shutdown(context.Context) { o.shut++ }

// TestObserverShutdown: an observer with a Shutdown method is a shutdown
// hook.
func TestObserverShutdown(t *testing.T) {
	o := &shutdownObserver{}
	a := quietApp(nil, WithObserver(o))
	a.runShutdown()
	if o.shut != 1 {
		t.Errorf("Shutdown called %d times, want 1", o.shut)
	}
	if b := quietApp(nil); len(b.shutdown) != 0 {
		t.Errorf("an app without observers has %d shutdown hooks", len(b.shutdown))
	}
}

// TestObserverConcurrent: concurrent invocations each see their own
// Invocation (run with -race).
func TestObserverConcurrent(t *testing.T) {
	var mu sync.Mutex
	routes := map[string]int{}
	a := quietApp(nil, WithObserver(observerFunc(func(inv *Invocation) {
		mu.Lock()
		routes[inv.Path+" "+inv.Route]++
		mu.Unlock()
	})))
	a.HandleFunc("GET /a/{n}", func(w http.ResponseWriter, r *http.Request) {})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() { invoke(t, a, httpV2("GET", fmt.Sprintf("/a/%d", i%4), "")) })
	}
	wg.Wait()
	for i := range 4 {
		if n := routes[fmt.Sprintf("/a/%d GET /a/{n}", i)]; n != 10 {
			t.Errorf("/a/%d: %d ends, want 10 (%v)", i, n, routes)
		}
	}
}

// observerFunc is an Observer that only ends.
type observerFunc func(inv *Invocation)

func (f observerFunc) Begin(ctx context.Context, inv *Invocation) context.Context { return ctx }
func (f observerFunc) End(ctx context.Context, inv *Invocation)                   { f(inv) }

// TestObserverStatusOfSilentHandler: a handler that writes nothing answers
// 200, and the observers and the end line say 200, not 0.
func TestObserverStatusOfSilentHandler(t *testing.T) {
	obs, _ := newObservers("o")
	var logs bytes.Buffer
	a := quietApp(&logs, WithObserver(obs[0]))
	a.HandleFunc("GET /silent", func(w http.ResponseWriter, r *http.Request) {})
	if r := invoke(t, a, httpV2("GET", "/silent", "")); r.StatusCode != 200 {
		t.Fatalf("status %d", r.StatusCode)
	}
	if e := obs[0].ends[0]; e.Status != 200 {
		t.Errorf("End status %d, want 200", e.Status)
	}
	if !strings.Contains(logs.String(), `"status":200`) {
		t.Errorf("the end line does not say status 200:\n%s", logs.String())
	}
}
