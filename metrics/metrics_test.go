package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/metrics"
	"github.com/funcify/funcify/observe"
)

// start is the invocations' start in the tests: the documents' timestamp.
var start = time.UnixMilli(1767268800123)

// writes records what an Emitter writes, and in how many writes.
type writes struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	return w.buf.Write(p)
}

func (w *writes) take() ([]byte, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out, n := bytes.Clone(w.buf.Bytes()), w.n
	w.buf.Reset()
	w.n = 0
	return out, n
}

func newEmitter(t testing.TB, opts ...metrics.Option) (*metrics.Emitter, *writes) {
	t.Helper()
	w := &writes{}
	e, err := metrics.New(append([]metrics.Option{metrics.WithNamespace("Shop"), metrics.WithService("orders"), metrics.WithWriter(w)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e, w
}

// invocation runs f between e's Begin and End.
func invocation(e *metrics.Emitter, cold bool, f func(ctx context.Context)) {
	inv := &observe.Invocation{Start: start, ColdStart: cold}
	ctx := e.Begin(context.Background(), inv)
	f(ctx)
	e.End(ctx, inv)
}

// mustAdd adds or fails t.
func mustAdd(t testing.TB, ctx context.Context, name string, v float64, unit metrics.Unit, res ...metrics.Resolution) {
	t.Helper()
	if err := metrics.Add(ctx, name, v, unit, res...); err != nil {
		t.Fatalf("Add(%q, %v, %q): %v", name, v, unit, err)
	}
}

// valuesByName gathers the values of every document by metric name, and
// checks that each document has the dimensions want.
func valuesByName(t testing.TB, docs []*emfDoc, dims map[string]string) map[string][]float64 {
	t.Helper()
	got := map[string][]float64{}
	for _, d := range docs {
		if d.Namespace != "Shop" || d.Timestamp != start.UnixMilli() {
			t.Errorf("document namespace %q, timestamp %d", d.Namespace, d.Timestamp)
		}
		for k, v := range dims {
			if d.DimValues[k] != v {
				t.Errorf("document dimension %s = %q, want %q", k, d.DimValues[k], v)
			}
		}
		if len(d.Dimensions) != len(dims) {
			t.Errorf("document dimensions %q, want %d", d.Dimensions, len(dims))
		}
		for name, vs := range d.Values {
			got[name] = append(got[name], vs...)
		}
	}
	return got
}

// sameValues reports whether a and b hold the same float64s (bit for bit),
// in any order.
func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(vs []float64) []uint64 {
		k := make([]uint64, len(vs))
		for i, v := range vs {
			k[i] = math.Float64bits(v)
		}
		slices.Sort(k)
		return k
	}
	return slices.Equal(key(a), key(b))
}

func sum(vs []float64) (s float64) {
	for _, v := range vs {
		s += v
	}
	return s
}

// TestOneDocument: metrics, dimensions and metadata of one invocation in
// one document, the way EMF wants them.
func TestOneDocument(t *testing.T) {
	e, w := newEmitter(t, metrics.WithDimension("environment", "prod"))
	invocation(e, false, func(ctx context.Context) {
		mustAdd(t, ctx, "OrdersCreated", 1, metrics.Count)
		mustAdd(t, ctx, "Latency", 12.5, metrics.Milliseconds, metrics.High)
		mustAdd(t, ctx, "Latency", 7, metrics.Milliseconds, metrics.High)
		mustAdd(t, ctx, "Payload", 2048, metrics.Bytes, metrics.Standard)
		if err := metrics.AddDimension(ctx, "route", "POST /orders"); err != nil {
			t.Fatal(err)
		}
		if err := metrics.AddMetadata(ctx, "request_id", "req-1"); err != nil {
			t.Fatal(err)
		}
		if err := metrics.AddMetadata(ctx, "items", []int{1, 2}); err != nil {
			t.Fatal(err)
		}
	})
	out, n := w.take()
	if n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
	docs := parseOutput(t, out)
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1:\n%s", len(docs), out)
	}
	d := docs[0]
	if want := []string{"service", "environment", "route"}; !slices.Equal(d.Dimensions, want) {
		t.Errorf("dimensions %q, want %q", d.Dimensions, want)
	}
	wantMetrics := []emfMetric{{"OrdersCreated", "Count", 0}, {"Latency", "Milliseconds", 1}, {"Payload", "Bytes", 0}}
	if !slices.Equal(d.Metrics, wantMetrics) {
		t.Errorf("metrics %+v, want %+v", d.Metrics, wantMetrics)
	}
	if got := d.Values["Latency"]; !slices.Equal(got, []float64{12.5, 7}) {
		t.Errorf("Latency %v", got)
	}
	if !bytes.Contains(out, []byte(`"OrdersCreated":1,`)) || !bytes.Contains(out, []byte(`"Latency":[12.5,7]`)) {
		t.Errorf("one value is not a number, or several not an array: %s", out)
	}
	if len(d.Others) != 2 || string(d.Others["request_id"]) != `"req-1"` || string(d.Others["items"]) != `[1,2]` {
		t.Errorf("metadata %v", d.Others)
	}
	want := `{"_aws":{"Timestamp":1767268800123,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service","environment","route"]],` +
		`"Metrics":[{"Name":"OrdersCreated","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds","StorageResolution":1},{"Name":"Payload","Unit":"Bytes"}]}]},` +
		`"service":"orders","environment":"prod","route":"POST /orders","OrdersCreated":1,"Latency":[12.5,7],"Payload":2048,"request_id":"req-1","items":[1,2]}` + "\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestNothingAdded: an invocation that adds no metric writes nothing, even
// with dimensions and metadata.
func TestNothingAdded(t *testing.T) {
	e, w := newEmitter(t, metrics.WithColdStart())
	invocation(e, false, func(ctx context.Context) {})
	invocation(e, false, func(ctx context.Context) {
		metrics.AddDimension(ctx, "route", "GET /")
		metrics.AddMetadata(ctx, "request_id", "r")
		metrics.Add(ctx, "", 1, metrics.Count) // refused
	})
	if out, n := w.take(); n != 0 || len(out) != 0 {
		t.Errorf("%d writes: %q", n, out)
	}
	e.Shutdown(context.Background())
	if out, n := w.take(); n != 0 || len(out) != 0 {
		t.Errorf("Shutdown: %d writes: %q", n, out)
	}
}

// TestSplitMetrics: 250 metrics are split in documents of 100 at most,
// each with the dimensions and metadata, and every value survives.
func TestSplitMetrics(t *testing.T) {
	e, w := newEmitter(t)
	want := map[string][]float64{}
	invocation(e, false, func(ctx context.Context) {
		metrics.AddMetadata(ctx, "request_id", "r-1")
		for i := range 250 {
			name := fmt.Sprintf("m%03d", i)
			v := float64(i) + 0.1
			mustAdd(t, ctx, name, v, metrics.Count)
			want[name] = []float64{v}
		}
	})
	out, n := w.take()
	if n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
	docs := parseOutput(t, out)
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	for _, d := range docs {
		if string(d.Others["request_id"]) != `"r-1"` {
			t.Errorf("a document lacks the metadata: %v", d.Others)
		}
	}
	checkValues(t, valuesByName(t, docs, map[string]string{"service": "orders"}), want)
}

func checkValues(t *testing.T, got, want map[string][]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d metrics, want %d", len(got), len(want))
	}
	for name, w := range want {
		g := got[name]
		if !sameValues(g, w) || sum(g) != sum(w) {
			t.Errorf("%s: %d values summing to %v, want %d summing to %v", name, len(g), sum(g), len(w), sum(w))
		}
	}
}

// TestSplitValues: 1,000 values of one metric go in ten documents of 100,
// and values of metrics with various counts all survive.
func TestSplitValues(t *testing.T) {
	e, w := newEmitter(t)
	want := map[string][]float64{}
	invocation(e, false, func(ctx context.Context) {
		for i := range 1000 {
			v := float64(i) * 1.5
			mustAdd(t, ctx, "Latency", v, metrics.Milliseconds)
			want["Latency"] = append(want["Latency"], v)
		}
	})
	out, _ := w.take()
	docs := parseOutput(t, out)
	if len(docs) != 10 {
		t.Errorf("%d documents, want 10", len(docs))
	}
	checkValues(t, valuesByName(t, docs, map[string]string{"service": "orders"}), want)

	// 150 metrics of 0 to 350 values each, some values repeated, extreme
	// and tiny ones among them.
	r := rand.New(rand.NewPCG(1, 2))
	want = map[string][]float64{}
	special := []float64{0, math.Copysign(0, -1), 1.174271e+108, -1.174271e+108, 8.515920e-109, 1e21, 1e-7, 0.1, 123456789.123456789}
	invocation(e, false, func(ctx context.Context) {
		for i := range 150 {
			name := fmt.Sprintf("metric-%d", i)
			for k := range r.IntN(351) {
				v := r.NormFloat64() * 1e3
				if k%7 == 0 {
					v = special[r.IntN(len(special))]
				}
				if k%5 == 0 {
					v = 1
				}
				mustAdd(t, ctx, name, v, metrics.None)
				want[name] = append(want[name], v)
			}
		}
	})
	out, n := w.take()
	if n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
	docs = parseOutput(t, out)
	for _, d := range docs {
		for _, vs := range d.Values {
			if len(vs) > 100 {
				t.Fatalf("%d values in a document", len(vs))
			}
		}
	}
	checkValues(t, valuesByName(t, docs, map[string]string{"service": "orders"}), want)
}

// TestConcurrentInvocations: invocations running at once, each adding from
// several goroutines, write only their own metrics and dimensions.
func TestConcurrentInvocations(t *testing.T) {
	e, w := newEmitter(t)
	const invocations, goroutines, adds = 16, 4, 60
	var wg sync.WaitGroup
	for i := range invocations {
		wg.Go(func() {
			id := fmt.Sprint(i)
			invocation(e, false, func(ctx context.Context) {
				if err := metrics.AddDimension(ctx, "invocation", id); err != nil {
					t.Error(err)
				}
				if err := metrics.AddMetadata(ctx, "request_id", "req-"+id); err != nil {
					t.Error(err)
				}
				var inner sync.WaitGroup
				for g := range goroutines {
					inner.Go(func() {
						for k := range adds {
							if err := metrics.Add(ctx, "Work"+id, float64(i*1000+g*100+k), metrics.Count); err != nil {
								t.Error(err)
							}
							if err := metrics.Add(ctx, "Shared", float64(i), metrics.Count); err != nil {
								t.Error(err)
							}
						}
					})
				}
				inner.Wait()
			})
		})
	}
	wg.Wait()
	out, n := w.take()
	if n != invocations {
		t.Errorf("%d writes, want %d", n, invocations)
	}
	seen := map[string]int{}
	for _, d := range parseOutput(t, out) {
		id := d.DimValues["invocation"]
		if string(d.Others["request_id"]) != `"req-`+id+`"` {
			t.Errorf("invocation %s's document has metadata %s", id, d.Others["request_id"])
		}
		for name, vs := range d.Values {
			switch name {
			case "Work" + id:
				for _, v := range vs {
					if int(v)/1000 != mustAtoi(t, id) {
						t.Errorf("invocation %s has value %v", id, v)
					}
				}
			case "Shared":
				for _, v := range vs {
					if fmt.Sprint(v) != id {
						t.Errorf("invocation %s has Shared %v", id, v)
					}
				}
			default:
				t.Errorf("invocation %s has metric %s", id, name)
			}
			seen[id+"/"+name] += len(vs)
		}
	}
	for i := range invocations {
		for _, name := range []string{fmt.Sprintf("Work%d", i), "Shared"} {
			if got := seen[fmt.Sprintf("%d/%s", i, name)]; got != goroutines*adds {
				t.Errorf("invocation %d: %d values of %s, want %d", i, got, name, goroutines*adds)
			}
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNoMetrics: outside an invocation, and after its end, Add and its kin
// return ErrNoMetrics and do not panic.
func TestNoMetrics(t *testing.T) {
	var nilCtx context.Context
	for name, ctx := range map[string]context.Context{"background": context.Background(), "nil": nilCtx} {
		if err := metrics.Add(ctx, "m", 1, metrics.Count); !errors.Is(err, metrics.ErrNoMetrics) {
			t.Errorf("%s: Add: %v", name, err)
		}
		if err := metrics.AddDimension(ctx, "d", "v"); !errors.Is(err, metrics.ErrNoMetrics) {
			t.Errorf("%s: AddDimension: %v", name, err)
		}
		if err := metrics.AddMetadata(ctx, "k", "v"); !errors.Is(err, metrics.ErrNoMetrics) {
			t.Errorf("%s: AddMetadata: %v", name, err)
		}
	}

	// A goroutine that outlives its invocation cannot add to the next
	// invocation's set, which the pool may hand out again.
	e, w := newEmitter(t)
	var late context.Context
	invocation(e, false, func(ctx context.Context) { late = ctx })
	invocation(e, false, func(ctx context.Context) {
		mustAdd(t, ctx, "Current", 1, metrics.Count)
		if err := metrics.Add(late, "Late", 1, metrics.Count); !errors.Is(err, metrics.ErrNoMetrics) {
			t.Errorf("Add after End: %v", err)
		}
		if err := metrics.AddDimension(late, "late", "v"); !errors.Is(err, metrics.ErrNoMetrics) {
			t.Errorf("AddDimension after End: %v", err)
		}
	})
	out, _ := w.take()
	docs := parseOutput(t, out)
	if len(docs) != 1 || len(docs[0].Values) != 1 || docs[0].DimValues["late"] != "" {
		t.Errorf("got %s", out)
	}
	e.End(late, &observe.Invocation{}) // a second End does nothing
	if out, _ := w.take(); len(out) != 0 {
		t.Errorf("a second End wrote %s", out)
	}
}

// TestSetsAreNotShared: an invocation's set, reused from the pool, starts
// empty.
func TestSetsAreNotShared(t *testing.T) {
	e, w := newEmitter(t)
	for i := range 50 {
		invocation(e, false, func(ctx context.Context) {
			id := fmt.Sprint(i)
			metrics.AddDimension(ctx, "n", id)
			metrics.AddMetadata(ctx, "k"+id, id)
			for k := range i % 20 {
				mustAdd(t, ctx, fmt.Sprintf("i%d-%d", i, k), float64(i), metrics.Count)
			}
		})
		out, _ := w.take()
		docs := parseOutput(t, out)
		if i%20 == 0 {
			if len(docs) != 0 {
				t.Fatalf("invocation %d: %s", i, out)
			}
			continue
		}
		d := docs[0]
		if len(docs) != 1 || len(d.Values) != i%20 || d.DimValues["n"] != fmt.Sprint(i) || len(d.Others) != 1 {
			t.Fatalf("invocation %d: %s", i, out)
		}
		for name := range d.Values {
			if !strings.HasPrefix(name, fmt.Sprintf("i%d-", i)) {
				t.Fatalf("invocation %d has %s", i, name)
			}
		}
	}
}

// TestSplitBySize: 100 metrics of long names with 100 long values each
// would pass the 256 KB of a log event in one document; they are split
// further, every value kept.
func TestSplitBySize(t *testing.T) {
	e, w := newEmitter(t)
	want := map[string][]float64{}
	invocation(e, false, func(ctx context.Context) {
		for i := range 120 {
			name := fmt.Sprintf("%0255d", i)
			for k := range 150 {
				v := -1.2345678901234567e-100 * float64(k+1)
				mustAdd(t, ctx, name, v, metrics.Seconds)
				want[name] = append(want[name], v)
			}
		}
		if err := metrics.AddMetadata(ctx, "big", strings.Repeat("x", 60<<10)); err != nil {
			t.Fatal(err)
		}
		if err := metrics.AddMetadata(ctx, "more", strings.Repeat("x", 5<<10)); !errors.Is(err, metrics.ErrInvalid) {
			t.Errorf("metadata past 64 KiB: %v", err)
		}
	})
	out, n := w.take()
	docs := parseOutput(t, out) // each within 256 KB
	if n != 1 || len(docs) < 4 {
		t.Errorf("%d writes, %d documents", n, len(docs))
	}
	checkValues(t, valuesByName(t, docs, map[string]string{"service": "orders"}), want)
}
