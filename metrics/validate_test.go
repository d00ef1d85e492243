package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/funcify/funcify/metrics"
	"github.com/funcify/funcify/observe"
)

// TestAddRefuses: each call that would break CloudWatch's or EMF's rules
// returns ErrInvalid and records nothing; the invocation's other metrics
// are written as they were.
func TestAddRefuses(t *testing.T) {
	type call func(ctx context.Context) error
	add := func(name string, v float64, u metrics.Unit, res ...metrics.Resolution) call {
		return func(ctx context.Context) error { return metrics.Add(ctx, name, v, u, res...) }
	}
	dim := func(name, value string) call {
		return func(ctx context.Context) error { return metrics.AddDimension(ctx, name, value) }
	}
	meta := func(key string, value any) call {
		return func(ctx context.Context) error { return metrics.AddMetadata(ctx, key, value) }
	}
	dims := func(n int) call { // n dimensions besides service
		return func(ctx context.Context) error {
			for i := range n {
				if err := metrics.AddDimension(ctx, fmt.Sprintf("d%02d", i), "v"); err != nil {
					return err
				}
			}
			return nil
		}
	}
	long := strings.Repeat("x", 256)
	tests := []struct {
		name   string
		before call // succeeds
		call   call // fails
		want   string
	}{
		{"empty name", nil, add("", 1, metrics.Count), "empty metric name"},
		{"name of 256 characters", nil, add(long, 1, metrics.Count), "longer than 255"},
		{"name of 256 runes", nil, add(strings.Repeat("é", 256), 1, metrics.Count), "longer than 255"},
		{"name not UTF-8", nil, add("bad\xff", 1, metrics.Count), "not valid UTF-8"},
		{"name with a newline", nil, add("a\nb", 1, metrics.Count), "control character"},
		{"blank name", nil, add("   ", 1, metrics.Count), "blank"},
		{"name _aws", nil, add("_aws", 1, metrics.Count), "EMF's own"},
		{"name of a dimension", nil, add("service", 1, metrics.Count), "dimension"},
		{"name of an added dimension", dim("route", "r"), add("route", 1, metrics.Count), "dimension"},
		{"name of metadata", meta("request_id", "r"), add("request_id", 1, metrics.Count), "metadata"},
		{"unknown unit", nil, add("m", 1, metrics.Unit("Requests")), "not one of CloudWatch's"},
		{"unit in lower case", nil, add("m", 1, metrics.Unit("count")), "not one of CloudWatch's"},
		{"empty unit", nil, add("m", 1, ""), "not one of CloudWatch's"},
		{"NaN", nil, add("m", math.NaN(), metrics.Count), "finite"},
		{"+Inf", nil, add("m", math.Inf(1), metrics.Count), "finite"},
		{"-Inf", nil, add("m", math.Inf(-1), metrics.Count), "finite"},
		{"2^360", nil, add("m", 0x1p360, metrics.Count), "finite"},
		{"beyond 1.174271e+108", nil, add("m", -1.1742711e+108, metrics.Count), "finite"},
		{"below 8.515920e-109", nil, add("m", 8.5159199e-109, metrics.Count), "finite"},
		{"subnormal", nil, add("m", -5e-324, metrics.Count), "finite"},
		{"resolution 5", nil, add("m", 1, metrics.Count, 5), "resolution 5"},
		{"two resolutions", nil, add("m", 1, metrics.Count, metrics.High, metrics.High), "at most one"},
		{"another unit", add("m", 1, metrics.Count), add("m", 1, metrics.Seconds), "earlier"},
		{"another resolution", add("m", 1, metrics.Count), add("m", 1, metrics.Count, metrics.High), "earlier"},
		{"another resolution, standard", add("m", 1, metrics.Count, metrics.High), add("m", 1, metrics.Count), "earlier"},
		{"31st dimension", dims(29), dim("d29", "v"), "at most 30"},
		{"empty dimension name", nil, dim("", "v"), "empty dimension name"},
		{"dimension name of 256", nil, dim(long, "v"), "longer than 255"},
		{"dimension name not ASCII", nil, dim("région", "v"), "not ASCII"},
		{"dimension name with a colon first", nil, dim(":d", "v"), "colon"},
		{"dimension name _aws", nil, dim("_aws", "v"), "EMF's own"},
		{"blank dimension name", nil, dim(" ", "v"), "blank"},
		{"empty dimension value", nil, dim("d", ""), "empty value"},
		{"dimension value of 1025", nil, dim("d", strings.Repeat("v", 1025)), "longer than 1024"},
		{"dimension value with a tab", nil, dim("d", "a\tb"), "control character"},
		{"dimension of a metric's name", add("m", 1, metrics.Count), dim("m", "v"), "metric"},
		{"empty metadata key", nil, meta("", "v"), "metadata key"},
		{"metadata key _aws", nil, meta("_aws", "v"), "metadata key"},
		{"metadata of a metric's name", add("m", 1, metrics.Count), meta("m", "v"), "metric"},
		{"metadata of a dimension's name", nil, meta("service", "v"), "dimension"},
		{"metadata NaN", nil, meta("k", math.NaN()), "no JSON form"},
		{"metadata channel", nil, meta("k", make(chan int)), "metadata"},
		{"metadata whose MarshalJSON panics", nil, meta("k", panicky{}), "panicked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, w := newEmitter(t)
			var err error
			invocation(e, false, func(ctx context.Context) {
				if tt.before != nil {
					if err := tt.before(ctx); err != nil {
						t.Fatalf("before: %v", err)
					}
				}
				mustAdd(t, ctx, "Kept", 3, metrics.Count)
				err = tt.call(ctx)
			})
			if !errors.Is(err, metrics.ErrInvalid) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "metrics: ") {
				t.Errorf("got %v, want ErrInvalid saying %q", err, tt.want)
			}
			out, _ := w.take()
			docs := parseOutput(t, out)
			if len(docs) != 1 || docs[0].Values["Kept"][0] != 3 {
				t.Fatalf("got %s", out)
			}
			if len(docs[0].Dimensions) > 30 {
				t.Errorf("%d dimensions", len(docs[0].Dimensions))
			}
		})
	}
}

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

// TestLimitsAccepted: the largest names, values and dimension counts
// CloudWatch takes are written, and valid.
func TestLimitsAccepted(t *testing.T) {
	e, w := newEmitter(t)
	name := strings.Repeat("n", 254) + "é"
	invocation(e, false, func(ctx context.Context) {
		for i := range 29 {
			if err := metrics.AddDimension(ctx, fmt.Sprintf("%0255d", i), strings.Repeat("v", 1024)); err != nil {
				t.Fatal(err)
			}
		}
		if err := metrics.AddDimension(ctx, "service", "other"); err != nil { // replaces service's value
			t.Fatal(err)
		}
		mustAdd(t, ctx, name, 1.174271e+108, metrics.CountPerSecond)
		mustAdd(t, ctx, `quote " and \ backslash`, -1.174271e+108, metrics.None)
		mustAdd(t, ctx, "Tiny", -8.515920e-109, metrics.Percent)
	})
	out, _ := w.take()
	docs := parseOutput(t, out)
	if len(docs) != 1 || len(docs[0].Dimensions) != 30 || docs[0].DimValues["service"] != "other" {
		t.Fatalf("got %d documents: %s", len(docs), out)
	}
	d := docs[0]
	if d.Values[name][0] != 1.174271e+108 || d.Values[`quote " and \ backslash`][0] != -1.174271e+108 || d.Values["Tiny"][0] != -8.515920e-109 {
		t.Errorf("values %v", d.Values)
	}
}

// TestEveryUnit: each constant is spelled as CloudWatch spells it.
func TestEveryUnit(t *testing.T) {
	units := []metrics.Unit{
		metrics.Seconds, metrics.Microseconds, metrics.Milliseconds, metrics.Bytes, metrics.Kilobytes,
		metrics.Megabytes, metrics.Gigabytes, metrics.Terabytes, metrics.Bits, metrics.Kilobits,
		metrics.Megabits, metrics.Gigabits, metrics.Terabits, metrics.Percent, metrics.Count,
		metrics.BytesPerSecond, metrics.KilobytesPerSecond, metrics.MegabytesPerSecond,
		metrics.GigabytesPerSecond, metrics.TerabytesPerSecond, metrics.BitsPerSecond,
		metrics.KilobitsPerSecond, metrics.MegabitsPerSecond, metrics.GigabitsPerSecond,
		metrics.TerabitsPerSecond, metrics.CountPerSecond, metrics.None,
	}
	if len(units) != len(cloudWatchUnits) {
		t.Fatalf("%d units, CloudWatch has %d", len(units), len(cloudWatchUnits))
	}
	e, w := newEmitter(t)
	invocation(e, false, func(ctx context.Context) {
		for i, u := range units {
			if string(u) != cloudWatchUnits[i] || !u.Valid() {
				t.Errorf("unit %q, CloudWatch's %q", u, cloudWatchUnits[i])
			}
			mustAdd(t, ctx, "m"+string(u), 1, u)
		}
	})
	out, _ := w.take()
	for _, d := range parseOutput(t, out) {
		for _, m := range d.Metrics {
			if "m"+m.Unit != m.Name {
				t.Errorf("metric %s has unit %s", m.Name, m.Unit)
			}
		}
	}
}

// TestNew: the namespace and service from options or the environment, an
// option winning; New's errors.
func TestNew(t *testing.T) {
	t.Setenv(metrics.NamespaceEnv, "")
	t.Setenv(metrics.ServiceEnv, "")
	if _, err := metrics.New(); !errors.Is(err, metrics.ErrInvalid) || !strings.Contains(err.Error(), "POWERTOOLS_METRICS_NAMESPACE") {
		t.Errorf("New without a namespace: %v", err)
	}

	doc := func(t *testing.T, opts ...metrics.Option) *emfDoc {
		t.Helper()
		w := &writes{}
		e, err := metrics.New(append(opts, metrics.WithWriter(w))...)
		if err != nil {
			t.Fatal(err)
		}
		invocation(e, false, func(ctx context.Context) { mustAdd(t, ctx, "m", 1, metrics.Count) })
		out, _ := w.take()
		docs := parseOutput(t, out)
		if len(docs) != 1 {
			t.Fatalf("%d documents", len(docs))
		}
		return docs[0]
	}
	if d := doc(t, metrics.WithNamespace("Opt")); d.Namespace != "Opt" || d.DimValues["service"] != "service_undefined" {
		t.Errorf("options alone: namespace %q, service %q", d.Namespace, d.DimValues["service"])
	}
	t.Setenv(metrics.NamespaceEnv, "EnvNS")
	t.Setenv(metrics.ServiceEnv, "env-service")
	if d := doc(t); d.Namespace != "EnvNS" || d.DimValues["service"] != "env-service" {
		t.Errorf("environment: namespace %q, service %q", d.Namespace, d.DimValues["service"])
	}
	if d := doc(t, metrics.WithNamespace("Opt"), metrics.WithService("opt-service")); d.Namespace != "Opt" || d.DimValues["service"] != "opt-service" {
		t.Errorf("options over the environment: namespace %q, service %q", d.Namespace, d.DimValues["service"])
	}
	if d := doc(t, metrics.WithDimension("environment", "prod")); len(d.Dimensions) != 2 || d.DimValues["environment"] != "prod" {
		t.Errorf("WithDimension: %q", d.Dimensions)
	}

	var thirty []metrics.Option
	for i := range 30 {
		thirty = append(thirty, metrics.WithDimension(fmt.Sprint("d", i), "v"))
	}
	for name, opts := range map[string][]metrics.Option{
		"namespace not ASCII":        {metrics.WithNamespace("Bestellungen/Größe")},
		"namespace AWS/":             {metrics.WithNamespace("AWS/Lambda")},
		"namespace too long":         {metrics.WithNamespace(strings.Repeat("n", 256))},
		"service with a newline":     {metrics.WithService("a\nb")},
		"dimension service":          {metrics.WithDimension("service", "x")},
		"dimension twice":            {metrics.WithDimension("a", "1"), metrics.WithDimension("a", "2")},
		"empty dimension value":      {metrics.WithDimension("a", "")},
		"31 dimensions with service": thirty,
	} {
		if _, err := metrics.New(opts...); !errors.Is(err, metrics.ErrInvalid) {
			t.Errorf("%s: New: %v", name, err)
		}
	}
	if _, err := metrics.New(thirty[1:]...); err != nil {
		t.Errorf("New with 30 dimensions: %v", err)
	}
}

// TestColdStart: with WithColdStart the cold invocation writes a ColdStart
// document of its own, with service and function_name, in the same write
// as its metrics; warm invocations and Emitters without the option do
// not.
func TestColdStart(t *testing.T) {
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "orders-fn")
	e, w := newEmitter(t, metrics.WithColdStart(), metrics.WithDimension("environment", "prod"))
	invocation(e, true, func(ctx context.Context) {
		mustAdd(t, ctx, "OrdersCreated", 1, metrics.Count)
		metrics.AddMetadata(ctx, "request_id", "r")
	})
	out, n := w.take()
	if n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
	docs := parseOutput(t, out)
	if len(docs) != 2 {
		t.Fatalf("%d documents:\n%s", len(docs), out)
	}
	cold := docs[0]
	if len(cold.Metrics) != 1 || cold.Metrics[0] != (emfMetric{"ColdStart", "Count", 0}) || cold.Values["ColdStart"][0] != 1 {
		t.Errorf("cold-start metrics %+v %v", cold.Metrics, cold.Values)
	}
	if len(cold.Dimensions) != 2 || cold.DimValues["service"] != "orders" || cold.DimValues["function_name"] != "orders-fn" || len(cold.Others) != 0 {
		t.Errorf("cold-start document %s", out)
	}
	if _, ok := docs[1].Values["ColdStart"]; ok || docs[1].Values["OrdersCreated"] == nil {
		t.Errorf("second document %+v", docs[1])
	}

	// The cold document comes even without other metrics; warm
	// invocations write none.
	e, w = newEmitter(t, metrics.WithColdStart())
	invocation(e, true, func(ctx context.Context) {})
	invocation(e, false, func(ctx context.Context) {})
	out, n = w.take()
	if docs := parseOutput(t, out); n != 1 || len(docs) != 1 || docs[0].Values["ColdStart"] == nil {
		t.Errorf("%d writes: %s", n, out)
	}

	e, w = newEmitter(t)
	invocation(e, true, func(ctx context.Context) { mustAdd(t, ctx, "m", 1, metrics.Count) })
	out, _ = w.take()
	if docs := parseOutput(t, out); len(docs) != 1 || docs[0].Values["ColdStart"] != nil {
		t.Errorf("without WithColdStart: %s", out)
	}
}

// TestShutdown: Shutdown writes the metrics of an invocation that began
// and has not ended (one cut short by its timeout), and its End, if it
// still comes, writes only what was added since.
func TestShutdown(t *testing.T) {
	e, w := newEmitter(t, metrics.WithColdStart())
	inv := &observe.Invocation{Start: start, ColdStart: true}
	ctx := e.Begin(context.Background(), inv)
	mustAdd(t, ctx, "Before", 1, metrics.Count)
	mustAdd(t, ctx, "Both", 1, metrics.Count)
	metrics.AddDimension(ctx, "route", "r")

	ended := e.Begin(context.Background(), &observe.Invocation{Start: start})
	e.End(ended, nil)
	idle := e.Begin(context.Background(), &observe.Invocation{Start: start}) // nothing added

	e.Shutdown(context.Background())
	out, n := w.take()
	docs := parseOutput(t, out)
	if n != 1 || len(docs) != 2 || docs[0].Values["ColdStart"] == nil || docs[1].Values["Before"] == nil || docs[1].DimValues["route"] != "r" {
		t.Fatalf("Shutdown: %d writes: %s", n, out)
	}

	mustAdd(t, ctx, "Both", 2, metrics.Count)
	if err := metrics.Add(ctx, "Both", 2, metrics.Seconds); !errors.Is(err, metrics.ErrInvalid) {
		t.Errorf("the unit is forgotten after Shutdown: %v", err)
	}
	e.End(ctx, inv)
	e.End(idle, nil)
	out, _ = w.take()
	docs = parseOutput(t, out)
	if len(docs) != 1 || len(docs[0].Values) != 1 || docs[0].Values["Both"][0] != 2 || docs[0].DimValues["route"] != "r" {
		t.Fatalf("End after Shutdown: %s", out)
	}

	// A done context: nothing written, nothing lost.
	inv = &observe.Invocation{Start: start}
	ctx = e.Begin(context.Background(), inv)
	mustAdd(t, ctx, "Kept", 1, metrics.Count)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	e.Shutdown(done)
	if out, _ := w.take(); len(out) != 0 {
		t.Errorf("Shutdown with a done context wrote %s", out)
	}
	e.End(ctx, inv)
	out, _ = w.take()
	if docs := parseOutput(t, out); len(docs) != 1 || docs[0].Values["Kept"] == nil {
		t.Errorf("End: %s", out)
	}
}

// TestShutdownConcurrent: Shutdown while invocations add and end loses
// and doubles no value.
func TestShutdownConcurrent(t *testing.T) {
	e, w := newEmitter(t)
	const invocations, adds = 8, 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			e.Shutdown(context.Background())
		}
	}()
	var wg sync.WaitGroup
	for range invocations {
		wg.Go(func() {
			invocation(e, false, func(ctx context.Context) {
				for k := range adds {
					mustAdd(t, ctx, "N", float64(k), metrics.Count)
				}
			})
		})
	}
	wg.Wait()
	<-done
	out, _ := w.take()
	var got []float64
	for _, d := range parseOutput(t, out) {
		got = append(got, d.Values["N"]...)
	}
	var want []float64
	for range invocations {
		for k := range adds {
			want = append(want, float64(k))
		}
	}
	if !sameValues(got, want) {
		t.Errorf("%d values, want %d", len(got), len(want))
	}
}
