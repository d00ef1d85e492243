package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
	"github.com/funcify/funcify/store/memstore"
	"github.com/funcify/funcify/store/redisstore"
)

// The wrappers' tests run on each store, as the contract of Do does.

func TestWrappersMemstore(t *testing.T) {
	runWrappers(t, func(t *testing.T, now func() time.Time) store.Store {
		return memstore.New(memstore.WithClock(now))
	})
}

func TestWrappersRedis(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	runWrappers(t, func(t *testing.T, now func() time.Time) store.Store { return redisstore.New(c) })
}

func TestWrappersDynalite(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	runWrappers(t, func(t *testing.T, now func() time.Time) store.Store {
		return dynamostore.New(c, newTable(t, c))
	})
}

func runWrappers(t *testing.T, newStore newStoreFunc) {
	tests := []struct {
		name string
		test func(t *testing.T, e *env)
	}{
		{"FuncConcurrentWait", testFuncConcurrentWait},
		{"FuncInvoke", testFuncInvoke},
		{"BatchRedelivery", testBatchRedelivery},
		{"RecordInProgressElsewhere", testRecordInProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Now()}
			s := &faultyStore{Store: newStore(t, clk.Now)}
			tt.test(t, &env{t: t, clock: clk, store: s, scope: t.Name() + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)})
		})
	}
}

// quiet keeps an app's log lines out of the tests' output.
var quiet = app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))

type orderIn struct {
	ID  string `json:"id"`
	Qty int    `json:"qty"`
}

// testFuncConcurrentWait: 50 concurrent calls with the same input run the
// function once and all get its result; a later call replays it.
func testFuncConcurrentWait(t *testing.T, e *env) {
	const n = 50
	waiting := make(chan struct{}, n)
	cfg := idempotency.Config{Wait: true}
	idempotency.SetWaiting(&cfg, func() { waiting <- struct{}{} })
	g := e.guard(cfg)
	var runs atomic.Int64
	release := make(chan struct{})
	create := idempotency.Func(g, "create-order", nil, func(ctx context.Context, in orderIn) (order, error) {
		runs.Add(1)
		<-release
		return order{ID: in.ID, Total: int64(in.Qty) * 625}, nil
	})
	want := order{ID: "o-1", Total: 1250}
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range n {
		wg.Go(func() {
			o, err := create(context.Background(), orderIn{ID: "o-1", Qty: 2})
			if err != nil || o != want {
				t.Errorf("got %+v, %v; want %+v", o, err, want)
				return
			}
			ok.Add(1)
		})
	}
	for range n - 1 {
		<-waiting
	}
	close(release)
	wg.Wait()
	if runs.Load() != 1 || ok.Load() != n {
		t.Fatalf("runs %d, results %d; want 1, %d", runs.Load(), ok.Load(), n)
	}
	o, err := create(context.Background(), orderIn{ID: "o-1", Qty: 2})
	if err != nil || o != want || runs.Load() != 1 {
		t.Fatalf("replay: got %+v, %v after %d runs; want %+v, 1 run", o, err, runs.Load(), want)
	}
	o, err = create(context.Background(), orderIn{ID: "o-1", Qty: 3})
	if err != nil || o.Total != 1875 || runs.Load() != 2 {
		t.Fatalf("another input: got %+v, %v after %d runs; want it run", o, err, runs.Load())
	}
}

// testFuncInvoke: a direct invoke retried (the same payload, another
// member order and spacing) runs the handler once through app.HandleInvoke.
func testFuncInvoke(t *testing.T, e *env) {
	g := e.guard(idempotency.Config{})
	var runs atomic.Int64
	a := app.New(quiet)
	app.HandleInvoke(a, idempotency.Func(g, "invoke", nil, func(ctx context.Context, in orderIn) (order, error) {
		return order{ID: in.ID, Total: runs.Add(1)}, nil
	}))
	for i, payload := range []string{`{"id":"o-9","qty":1}`, ` { "qty": 1, "id": "o-9", "note": "retried" } `} {
		out, err := a.Invoke(context.Background(), []byte(payload))
		if got, want := string(out), `{"id":"o-9","total":1}`; err != nil || got != want {
			t.Fatalf("invoke %d: got %s, %v; want %s", i, got, err, want)
		}
	}
	if runs.Load() != 1 {
		t.Fatalf("runs: %d, want 1", runs.Load())
	}
}

func TestFuncKeys(t *testing.T) {
	byID := func(in orderIn) (string, error) { return in.ID, nil }
	tests := []struct {
		name    string
		check   bool
		id      func(orderIn) (string, error)
		first   orderIn
		second  orderIn
		runs    int    // the function's runs after both calls
		wantErr string // the second call's error
	}{
		{"whole input, equal", false, nil, orderIn{"o-1", 1}, orderIn{"o-1", 1}, 1, ""},
		{"whole input, another", false, nil, orderIn{"o-1", 1}, orderIn{"o-1", 2}, 2, ""},
		{"by id, same id", false, byID, orderIn{"o-1", 1}, orderIn{"o-1", 2}, 1, ""},
		{"by id, another id", false, byID, orderIn{"o-1", 1}, orderIn{"o-2", 1}, 2, ""},
		{"by id, payload checked", true, byID, orderIn{"o-1", 1}, orderIn{"o-1", 2}, 1, "another payload"},
		{"by id, same payload checked", true, byID, orderIn{"o-1", 1}, orderIn{"o-1", 1}, 1, ""},
		{"empty id", false, func(orderIn) (string, error) { return "", nil }, orderIn{"o-1", 1}, orderIn{"o-1", 1}, 0, "identity is empty"},
		{"id fails", false, func(orderIn) (string, error) { return "", errors.New("no tenant") }, orderIn{"o-1", 1}, orderIn{"o-1", 1}, 0, "identity: no tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := idempotency.New(idempotency.Config{Store: memstore.New(), CheckPayload: tt.check})
			if err != nil {
				t.Fatal(err)
			}
			runs := 0
			f := idempotency.Func(g, "r", tt.id, func(ctx context.Context, in orderIn) (int, error) {
				runs++
				return runs, nil
			})
			f(context.Background(), tt.first)
			_, err = f(context.Background(), tt.second)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("got %v, want an error saying %q", err, tt.wantErr)
			}
			if runs != tt.runs {
				t.Errorf("got %d runs, want %d", runs, tt.runs)
			}
		})
	}
}

// TestFuncInputNotJSON: an input that encoding/json cannot encode has no
// key: the call fails and the function does not run.
func TestFuncInputNotJSON(t *testing.T) {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	for _, id := range []func(chan int) (string, error){nil, func(chan int) (string, error) { return "c", nil }} {
		f := idempotency.Func(g, "r", id, func(ctx context.Context, in chan int) (int, error) {
			t.Fatal("ran without a key")
			return 0, nil
		})
		if _, err := f(context.Background(), make(chan int)); err == nil || !strings.Contains(err.Error(), "encode the input") {
			t.Errorf("got %v, want an error", err)
		}
	}
}

// TestFuncRawInput: a json.RawMessage input, as app.HandleInvoke hands it
// over, is keyed by its canonical form.
func TestFuncRawInput(t *testing.T) {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	runs := 0
	f := idempotency.Func(g, "r", nil, func(ctx context.Context, in json.RawMessage) (int, error) {
		runs++
		return runs, nil
	})
	for _, in := range []string{`{"a":1,"b":[true,null]}`, "{\"b\": [true, null],\n \"a\": 1e0}"} {
		if n, err := f(context.Background(), json.RawMessage(in)); n != 1 || err != nil {
			t.Fatalf("%s: got %d, %v; want 1, nil", in, n, err)
		}
	}
}

func TestWrappersPanicOnNil(t *testing.T) {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	tests := []struct {
		name string
		f    func()
	}{
		{"Func without a Guard", func() {
			idempotency.Func(nil, "r", nil, func(context.Context, int) (int, error) { return 0, nil })
		}},
		{"Func without a function", func() { idempotency.Func[int, int](g, "r", nil, nil) }},
		{"SQS without a handler", func() { idempotency.SQS(g, nil) }},
		{"Kinesis without a Guard", func() { idempotency.Kinesis(nil, nopKinesis) }},
		{"DynamoDBStream without a handler", func() { idempotency.DynamoDBStream(g, nil) }},
		{"DynamoDBStream by body", func() { idempotency.DynamoDBStream(g, nopDynamoDB, idempotency.KeyByBody()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("got no panic")
				}
			}()
			tt.f()
		})
	}
}
