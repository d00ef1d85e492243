package logging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/observe"
)

// writes records each call to Write.
type writes struct {
	mu    sync.Mutex // guards calls
	calls [][]byte
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, bytes.Clone(p))
	return len(p), nil
}

// lines returns the lines written, in order, whatever the writes.
func (w *writes) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := string(bytes.Join(w.calls, nil))
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// messages returns the message of each line written.
func (w *writes) messages(t *testing.T) []string {
	t.Helper()
	var msgs []string
	for _, l := range w.lines() {
		msgs = append(msgs, decode(t, []byte(l))["message"].(string))
	}
	return msgs
}

// numWrites returns how many times Write was called.
func (w *writes) numWrites() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls)
}

// infoEnv is an environment that sets the level to INFO and no sampling.
func infoEnv(string) string { return "" }

// never is a random source that never samples.
func never() float64 { return 0.999 }

// newTestBuffer returns a Buffer writing New's JSON at level INFO to the
// writes it returns.
func newTestBuffer(s BufferSettings) (*Buffer, *writes) {
	w := new(writes)
	return newBuffer(w, s, infoEnv, never), w
}

// TestBufferDropsOnSuccess: the Debug lines of an invocation that ends well
// are dropped, the Info ones are written as they come.
func TestBufferDropsOnSuccess(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{})
	log := b.Logger()
	inv := &observe.Invocation{HTTP: true}
	ctx := b.Begin(invocationContext(), inv)
	log.DebugContext(ctx, "d1")
	log.InfoContext(ctx, "i1")
	log.DebugContext(ctx, "d2")
	inv.Status = 404
	b.End(ctx, inv)
	if got, want := w.messages(t), []string{"i1"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestBufferErrorLine: an Error line writes the held lines, then itself, in
// one write; the invocation's later lines are written as they come, Debug
// ones included, and End writes nothing more.
func TestBufferErrorLine(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelError, slog.LevelError + 2, LevelFatal} {
		t.Run(level.String(), func(t *testing.T) {
			b, w := newTestBuffer(BufferSettings{})
			log := b.Logger()
			inv := &observe.Invocation{}
			ctx := b.Begin(invocationContext(), inv)
			log.DebugContext(ctx, "d1")
			log.InfoContext(ctx, "i1")
			log.WarnContext(ctx, "w1")
			log.DebugContext(ctx, "d2")
			log.Log(ctx, level, "e1")
			log.DebugContext(ctx, "d3")
			log.ErrorContext(ctx, "e2")
			inv.Err = errors.New("failed")
			b.End(ctx, inv)
			if got, want := w.messages(t), []string{"i1", "w1", "d1", "d2", "e1", "d3", "e2"}; !slices.Equal(got, want) {
				t.Errorf("lines %q, want %q", got, want)
			}
			if got, want := w.numWrites(), 5; got != want {
				t.Errorf("%d writes, want %d (i1, w1, d1+d2+e1, d3, e2)", got, want)
			}
		})
	}
}

// TestBufferErrorWithNothingHeld: an Error line with nothing held is one
// line, written as without a Buffer.
func TestBufferErrorWithNothingHeld(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{})
	log := b.Logger()
	inv := &observe.Invocation{}
	ctx := b.Begin(invocationContext(), inv)
	log.ErrorContext(ctx, "e1")
	b.End(ctx, inv)
	if got, want := w.messages(t), []string{"e1"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestBufferEnd: End writes the held lines, in one write, when the
// invocation failed or answered 5xx, and drops them otherwise.
func TestBufferEnd(t *testing.T) {
	tests := []struct {
		name  string
		inv   observe.Invocation
		write bool
	}{
		{"event succeeded", observe.Invocation{}, false},
		{"event failed", observe.Invocation{Err: errors.New("downstream unavailable")}, true},
		{"panicked", observe.Invocation{Err: observe.ErrPanicked}, true},
		{"200", observe.Invocation{HTTP: true, Status: 200}, false},
		{"404", observe.Invocation{HTTP: true, Status: 404}, false},
		{"499", observe.Invocation{HTTP: true, Status: 499}, false},
		{"500", observe.Invocation{HTTP: true, Status: 500}, true},
		{"503", observe.Invocation{HTTP: true, Status: 503}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, w := newTestBuffer(BufferSettings{})
			log := b.Logger()
			inv := &observe.Invocation{HTTP: tt.inv.HTTP}
			ctx := b.Begin(invocationContext(), inv)
			log.DebugContext(ctx, "d1")
			log.DebugContext(ctx, "d2")
			*inv = tt.inv
			b.End(ctx, inv)
			b.End(ctx, inv) // a second End does nothing
			var want []string
			wantWrites := 0
			if tt.write {
				want, wantWrites = []string{"d1", "d2"}, 1
			}
			if got := w.messages(t); !slices.Equal(got, want) {
				t.Errorf("lines %q, want %q", got, want)
			}
			if got := w.numWrites(); got != wantWrites {
				t.Errorf("%d writes, want %d", got, wantWrites)
			}
		})
	}
}

// TestBufferAfterEnd: a line logged with the context of an ended
// invocation is not held: it is written as without a Buffer.
func TestBufferAfterEnd(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{})
	log := b.Logger()
	inv := &observe.Invocation{}
	ctx := b.Begin(invocationContext(), inv)
	log.DebugContext(ctx, "d1")
	b.End(ctx, inv)
	if log.Enabled(ctx, slog.LevelDebug) {
		t.Error("Debug enabled after End at level INFO")
	}
	log.DebugContext(ctx, "d2")
	_ = log.Handler().Handle(ctx, slog.NewRecord(time.Now(), slog.LevelDebug, "d3", 0)) // bypassing Enabled
	log.InfoContext(ctx, "i1")
	log.ErrorContext(ctx, "e1")
	if got, want := w.messages(t), []string{"i1", "e1"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestBufferInfo: with Info set, Info lines are held too; Warn lines are
// not.
func TestBufferInfo(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{Info: true})
	log := b.Logger()
	inv := &observe.Invocation{}
	ctx := b.Begin(invocationContext(), inv)
	log.DebugContext(ctx, "d1")
	log.InfoContext(ctx, "i1")
	log.Log(ctx, slog.LevelInfo+2, "i2")
	log.WarnContext(ctx, "w1")
	if got, want := w.messages(t), []string{"w1"}; !slices.Equal(got, want) {
		t.Fatalf("lines before End %q, want %q", got, want)
	}
	inv.Err = errors.New("failed")
	b.End(ctx, inv)
	if got, want := w.messages(t), []string{"w1", "d1", "i1", "i2"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestBufferTraceNotHeld: TRACE lines are neither enabled nor held.
func TestBufferTraceNotHeld(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{})
	log := b.Logger()
	inv := &observe.Invocation{}
	ctx := b.Begin(invocationContext(), inv)
	if log.Enabled(ctx, LevelTrace) {
		t.Error("TRACE enabled at level INFO")
	}
	log.Log(ctx, LevelTrace, "t1")
	log.ErrorContext(ctx, "e1")
	if got, want := w.messages(t), []string{"e1"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestBufferEnabled: Debug is enabled beyond the logger's level only for a
// context of an invocation the Buffer observes.
func TestBufferEnabled(t *testing.T) {
	b, _ := newTestBuffer(BufferSettings{})
	other, _ := newTestBuffer(BufferSettings{})
	log := b.Logger()
	inv := &observe.Invocation{}
	observed := b.Begin(invocationContext(), inv)
	tests := []struct {
		name  string
		ctx   context.Context
		level slog.Level
		want  bool
	}{
		{"no invocation, Debug", context.Background(), slog.LevelDebug, false},
		{"no invocation, Info", context.Background(), slog.LevelInfo, true},
		{"unobserved invocation, Debug", invocationContext(), slog.LevelDebug, false},
		{"another Buffer's invocation, Debug", other.Begin(invocationContext(), inv), slog.LevelDebug, false},
		{"observed, Trace", observed, LevelTrace, false},
		{"observed, Debug", observed, slog.LevelDebug, true},
		{"observed, Debug+2", observed, slog.LevelDebug + 2, true},
		{"observed, Info", observed, slog.LevelInfo, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := log.Enabled(tt.ctx, tt.level); got != tt.want {
				t.Errorf("Enabled(%v) = %v, want %v", tt.level, got, tt.want)
			}
		})
	}

	// At level WARN, Info lines are not held: not enabled either.
	w := new(writes)
	warn := newBuffer(w, BufferSettings{}, func(k string) string {
		if k == "AWS_LAMBDA_LOG_LEVEL" {
			return "WARN"
		}
		return ""
	}, never)
	ctx := warn.Begin(context.Background(), inv)
	if l := warn.Logger(); l.Enabled(ctx, slog.LevelInfo) || !l.Enabled(ctx, slog.LevelDebug) {
		t.Errorf("at WARN: Info enabled %v, Debug enabled %v; want false, true",
			l.Enabled(ctx, slog.LevelInfo), l.Enabled(ctx, slog.LevelDebug))
	}
	// After an Error line, everything from Debug up is.
	warn.Logger().ErrorContext(ctx, "e1")
	if !warn.Logger().Enabled(ctx, slog.LevelInfo) {
		t.Error("at WARN after an error: Info not enabled")
	}
}

// TestBufferNoInvocation: without an observed invocation, the logger is
// New's.
func TestBufferNoInvocation(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{})
	var want bytes.Buffer
	plain := New(&want)
	for _, ctx := range []context.Context{context.Background(), invocationContext()} {
		for _, l := range []*slog.Logger{b.Logger(), plain} {
			r := slog.NewRecord(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), slog.LevelInfo, "i1", 0)
			r.AddAttrs(slog.Int("n", 1))
			_ = l.Handler().Handle(ctx, r)
			l.DebugContext(ctx, "d1")
		}
	}
	if got := string(bytes.Join(w.calls, nil)); got != want.String() {
		t.Errorf("got\n%s\nwant New's\n%s", got, want.String())
	}
}

// TestBufferHeldLineAsWritten: a held line, once written, is byte for byte
// the line written as it comes (in a sampled invocation), with the
// attributes and groups of the logger, the invocation's attributes and the
// time it was logged at, not the time it was written.
func TestBufferHeldLineAsWritten(t *testing.T) {
	t.Run("formatted when written", func(t *testing.T) {
		testHeldLineAsWritten(t, func(l *slog.Logger) *slog.Logger { return l.With("service", "orders") }, "service", "items", "card")
	})
	t.Run("formatted when logged", func(t *testing.T) {
		// A logger with a group formats its lines when they are logged.
		testHeldLineAsWritten(t, func(l *slog.Logger) *slog.Logger {
			return l.With("service", "orders").WithGroup("order").With("id", "o-17")
		}, "service", "order")
	})
}

func testHeldLineAsWritten(t *testing.T, derive func(*slog.Logger) *slog.Logger, keys ...string) {
	logged := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	line := func(sampled bool) string {
		w := new(writes)
		random := never
		if sampled {
			random = func() float64 { return 0 }
		}
		b := newBuffer(w, BufferSettings{SampleRate: 0.5}, infoEnv, random)
		inv := &observe.Invocation{}
		ctx := b.Begin(invocationContext(), inv)
		h := derive(b.Logger()).Handler()
		r := slog.NewRecord(logged, slog.LevelDebug, "loaded", 0)
		r.AddAttrs(slog.Int("items", 3), slog.Any("card", Secret("4111")))
		if err := h.Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
		if !sampled && w.numWrites() != 0 {
			t.Fatalf("a held line was written at once: %q", w.lines())
		}
		inv.Status = 500
		b.End(ctx, inv)
		lines := w.lines()
		if len(lines) != 1 {
			t.Fatalf("lines %q, want one", lines)
		}
		return lines[0]
	}
	held, direct := line(false), line(true)
	if held != direct {
		t.Errorf("held line\n%s\nwritten at once\n%s", held, direct)
	}
	m := decode(t, []byte(held))
	if got, want := m["timestamp"], logged.Format(time.RFC3339Nano); got != want {
		t.Errorf("timestamp %v, want the time logged %v", got, want)
	}
	for _, key := range append([]string{RequestIDKey, ColdStartKey, TraceIDKey, SpanIDKey}, keys...) {
		if _, ok := m[key]; !ok {
			t.Errorf("held line has no %s: %s", key, held)
		}
	}
}

// TestBufferCap: the lines beyond MaxBytes are dropped, the first dropped
// one and all after it, and one line after the held ones says how many.
func TestBufferCap(t *testing.T) {
	// Lines without a time, so that they all have the same size.
	noTime := func(w io.Writer) slog.Handler {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: removeTime})
	}
	// Measure one line as held.
	b, w := newTestBuffer(BufferSettings{Handler: noTime})
	inv := &observe.Invocation{}
	ctx := b.Begin(invocationContext(), inv)
	b.Logger().DebugContext(ctx, "line", "n", 0)
	inv.Err = errors.New("failed")
	b.End(ctx, inv)
	size := len(w.lines()[0]) + 1

	for _, tt := range []struct {
		name          string
		maxBytes      int
		kept, dropped int
		byError       bool
	}{
		{"three fit exactly", 3 * size, 3, 7, false},
		{"almost four", 4*size - 1, 3, 7, false},
		{"none fits", size - 1, 0, 10, false},
		{"all fit", 10 * size, 10, 0, false},
		{"flushed by an error line", 2 * size, 2, 8, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, w := newTestBuffer(BufferSettings{MaxBytes: tt.maxBytes, Handler: noTime})
			log := b.Logger()
			inv := &observe.Invocation{}
			ctx := b.Begin(invocationContext(), inv)
			for i := range 10 {
				log.DebugContext(ctx, "line", "n", i) // all the same size
			}
			if tt.byError {
				log.ErrorContext(ctx, "e1")
			}
			inv.Err = errors.New("failed")
			b.End(ctx, inv)
			lines := w.lines()
			want := tt.kept
			if tt.dropped > 0 {
				want++
			}
			if tt.byError {
				want++
			}
			if len(lines) != want {
				t.Fatalf("%d lines, want %d: %q", len(lines), want, lines)
			}
			for i := range tt.kept {
				if n := decode(t, []byte(lines[i]))["n"]; n != float64(i) {
					t.Errorf("line %d has n %v, want %d", i, n, i)
				}
			}
			if tt.dropped > 0 {
				m := decode(t, []byte(lines[tt.kept]))
				if m["msg"] != "log lines dropped" || m["level"] != "WARN" ||
					m["dropped"] != float64(tt.dropped) || m["max_bytes"] != float64(tt.maxBytes) ||
					m[RequestIDKey] != testRequestID {
					t.Errorf("dropped line %s, want WARN \"log lines dropped\" dropped=%d max_bytes=%d with the request ID",
						lines[tt.kept], tt.dropped, tt.maxBytes)
				}
			}
			if tt.byError {
				if m := decode(t, []byte(lines[len(lines)-1])); m["msg"] != "e1" {
					t.Errorf("last line %s, want e1", lines[len(lines)-1])
				}
			}
			if w.numWrites() != 1 {
				t.Errorf("%d writes, want 1", w.numWrites())
			}
		})
	}
}

// TestBufferHoldNothing: a negative MaxBytes holds nothing (sampling alone).
func TestBufferHoldNothing(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{MaxBytes: -1, Info: true})
	log := b.Logger()
	inv := &observe.Invocation{}
	ctx := b.Begin(invocationContext(), inv)
	if log.Enabled(ctx, slog.LevelDebug) {
		t.Error("Debug enabled with nothing held")
	}
	log.DebugContext(ctx, "d1")
	log.InfoContext(ctx, "i1")
	log.ErrorContext(ctx, "e1")
	inv.Err = errors.New("failed")
	b.End(ctx, inv)
	if got, want := w.messages(t), []string{"i1", "e1"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestBufferSampling: a sampled invocation writes its lines from Debug up
// as they come; which ones are sampled is drawn at Begin.
func TestBufferSampling(t *testing.T) {
	draws := []float64{0.1, 0.6, 0.25, 0.9, 0.0, 0.3}
	tests := []struct {
		name    string
		rate    float64
		sampled []bool
	}{
		{"0", 0, []bool{false, false, false, false, false, false}},
		{"1", 1, []bool{true, true, true, true, true, true}},
		{"0.3", 0.3, []bool{true, false, true, false, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := 0
			random := func() float64 { d := draws[i%len(draws)]; i++; return d }
			w := new(writes)
			b := newBuffer(w, BufferSettings{SampleRate: tt.rate}, infoEnv, random)
			log := b.Logger()
			var want []string
			for n, sampled := range tt.sampled {
				inv := &observe.Invocation{}
				ctx := b.Begin(invocationContext(), inv)
				msg := fmt.Sprint("d", n)
				log.DebugContext(ctx, msg)
				if sampled {
					want = append(want, msg)
					if got := w.numWrites(); got != len(want) {
						t.Errorf("invocation %d: sampled Debug line not written at once", n)
					}
				}
				b.End(ctx, inv)
			}
			if got := w.messages(t); !slices.Equal(got, want) {
				t.Errorf("lines %q, want %q", got, want)
			}
		})
	}
}

// TestBufferSamplingAtWarn: at level WARN, a sampled invocation writes its
// Debug and Info lines.
func TestBufferSamplingAtWarn(t *testing.T) {
	w := new(writes)
	b := newBuffer(w, BufferSettings{SampleRate: 1}, func(k string) string {
		if k == "LOG_LEVEL" {
			return "WARN"
		}
		return ""
	}, never)
	log := b.Logger()
	ctx := b.Begin(context.Background(), &observe.Invocation{})
	log.DebugContext(ctx, "d1")
	log.InfoContext(ctx, "i1")
	log.Log(ctx, LevelTrace, "t1")
	log.InfoContext(context.Background(), "not in an invocation")
	if got, want := w.messages(t), []string{"d1", "i1"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

func TestSampleRateFrom(t *testing.T) {
	tests := []struct {
		value string
		want  float64
	}{
		{"", 0},
		{"0", 0},
		{"0.01", 0.01},
		{" 0.5\n", 0.5},
		{"1", 1},
		{"1.5", 0},
		{"-0.1", 0},
		{"NaN", 0},
		{"often", 0},
	}
	for _, tt := range tests {
		getenv := func(k string) string {
			if k == SampleRateEnv {
				return tt.value
			}
			return ""
		}
		if got := sampleRateFrom(getenv); got != tt.want {
			t.Errorf("%s=%q: rate %v, want %v", SampleRateEnv, tt.value, got, tt.want)
		}
		// The setting, when not zero, wins over the environment.
		if b := newBuffer(new(writes), BufferSettings{SampleRate: 0.2}, getenv, never); b.rate != 0.2 {
			t.Errorf("%s=%q with SampleRate 0.2: rate %v", SampleRateEnv, tt.value, b.rate)
		}
	}
	t.Setenv(SampleRateEnv, "0.75")
	if b := NewBuffer(new(writes), BufferSettings{}); b.rate != 0.75 {
		t.Errorf("NewBuffer with %s=0.75: rate %v", SampleRateEnv, b.rate)
	}
}

func TestNewBufferPanics(t *testing.T) {
	tests := []struct {
		name string
		w    *writes
		s    BufferSettings
	}{
		{"nil writer", nil, BufferSettings{}},
		{"rate below 0", new(writes), BufferSettings{SampleRate: -0.1}},
		{"rate above 1", new(writes), BufferSettings{SampleRate: 1.1}},
		{"rate NaN", new(writes), BufferSettings{SampleRate: math.NaN()}},
		{"nil handler", new(writes), BufferSettings{Handler: func(w io.Writer) slog.Handler { return nil }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			if tt.w == nil {
				NewBuffer(nil, tt.s)
			}
			NewBuffer(tt.w, tt.s)
		})
	}
}

// TestBufferConcurrentInvocations: invocations running at once each hold
// and write only their own lines, in order, in one write.
func TestBufferConcurrentInvocations(t *testing.T) {
	const invocations, lines = 32, 20
	b, w := newTestBuffer(BufferSettings{})
	log := b.Logger()
	var wg sync.WaitGroup
	for n := range invocations {
		wg.Go(func() {
			inv := &observe.Invocation{}
			ctx := b.Begin(context.Background(), inv)
			log := log.With("invocation", n)
			for i := range lines {
				log.DebugContext(ctx, "step", "i", i)
				if i == lines/2 && n%4 == 1 {
					log.ErrorContext(ctx, "failed", "i", i)
				}
			}
			if n%2 == 1 {
				inv.Err = errors.New("failed")
			}
			b.End(ctx, inv)
		})
	}
	wg.Wait()

	// Each write is one invocation's: n%4 == 3 writes all its lines at
	// End; n%4 == 1 its first half with the error line, then each of the
	// others on its own.
	next := map[float64]int{}
	for _, call := range w.calls {
		var first float64 = -1
		for _, l := range strings.Split(strings.TrimSuffix(string(call), "\n"), "\n") {
			m := decode(t, []byte(l))
			n := m["invocation"].(float64)
			if first == -1 {
				first = n
			}
			if n != first {
				t.Fatalf("a write has lines of invocations %v and %v", first, n)
			}
			if int(n)%2 == 0 {
				t.Fatalf("invocation %v succeeded, yet its line is written: %s", n, l)
			}
			if m["message"] == "failed" {
				continue
			}
			if i := m["i"].(float64); int(i) != next[n] {
				t.Fatalf("invocation %v: line %v, want %d", n, i, next[n])
			}
			next[n]++
		}
	}
	for n := 1; n < invocations; n += 2 {
		if next[float64(n)] != lines {
			t.Errorf("invocation %d: %d lines written, want %d", n, next[float64(n)], lines)
		}
	}
}

// TestBufferConcurrentLinesOfOneInvocation: goroutines of one invocation
// log at once; an error line writes every line held before it.
func TestBufferConcurrentLinesOfOneInvocation(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{})
	log := b.Logger()
	inv := &observe.Invocation{}
	ctx := b.Begin(context.Background(), inv)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				log.DebugContext(ctx, "step", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	log.ErrorContext(ctx, "failed")
	b.End(ctx, inv)
	if got := len(w.lines()); got != 8*50+1 {
		t.Errorf("%d lines, want %d", got, 8*50+1)
	}
}

// fakeTimer stands in for time.AfterFunc: it records the call and fires
// only when told.
type fakeTimer struct {
	calls   int
	d       time.Duration
	f       func()
	stopped bool
}

func (ft *fakeTimer) afterFunc(d time.Duration, f func()) func() bool {
	ft.calls++
	ft.d, ft.f = d, f
	return func() bool { ft.stopped = true; return true }
}

// TestBufferDeadline: the held lines of an invocation whose context has a
// deadline are written TimeoutMargin before it, since an invocation that
// times out never ends; its later lines are written as they come.
func TestBufferDeadline(t *testing.T) {
	const timeout = time.Hour
	deadline := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(invocationContext(), timeout)
		t.Cleanup(cancel)
		return ctx
	}

	t.Run("fires", func(t *testing.T) {
		b, w := newTestBuffer(BufferSettings{})
		ft := new(fakeTimer)
		b.afterFunc = ft.afterFunc
		log := b.Logger()
		inv := &observe.Invocation{}
		ctx := b.Begin(deadline(t), inv)
		if ft.calls != 1 {
			t.Fatalf("%d timers, want 1", ft.calls)
		}
		if ft.d > timeout-TimeoutMargin || ft.d < timeout-TimeoutMargin-time.Minute {
			t.Errorf("timer in %v, want the deadline less %v", ft.d, TimeoutMargin)
		}
		log.DebugContext(ctx, "d1")
		log.DebugContext(ctx, "d2")
		ft.f()
		if got, want := w.messages(t), []string{"d1", "d2"}; !slices.Equal(got, want) || w.numWrites() != 1 {
			t.Errorf("lines %q in %d writes, want %q in 1", got, w.numWrites(), want)
		}
		log.DebugContext(ctx, "d3")
		b.End(ctx, inv)
		if got, want := w.messages(t), []string{"d1", "d2", "d3"}; !slices.Equal(got, want) {
			t.Errorf("lines %q, want %q", got, want)
		}
		if !ft.stopped {
			t.Error("End did not stop the timer")
		}
	})
	t.Run("begun within the margin", func(t *testing.T) {
		// An invocation that begins less than TimeoutMargin before its
		// deadline holds nothing: a timer set in the past would race
		// with its End, and usually lose.
		b, w := newTestBuffer(BufferSettings{})
		ft := new(fakeTimer)
		b.afterFunc = ft.afterFunc
		ctx, cancel := context.WithTimeout(invocationContext(), TimeoutMargin/2)
		defer cancel()
		inv := &observe.Invocation{}
		ctx = b.Begin(ctx, inv)
		b.Logger().DebugContext(ctx, "d1")
		b.End(ctx, inv)
		if ft.calls != 0 {
			t.Errorf("%d timers, want none", ft.calls)
		}
		if got, want := w.messages(t), []string{"d1"}; !slices.Equal(got, want) {
			t.Errorf("lines %q, want %q", got, want)
		}
	})
	t.Run("ended first", func(t *testing.T) {
		b, w := newTestBuffer(BufferSettings{})
		ft := new(fakeTimer)
		b.afterFunc = ft.afterFunc
		inv := &observe.Invocation{}
		ctx := b.Begin(deadline(t), inv)
		b.Logger().DebugContext(ctx, "d1")
		b.End(ctx, inv)
		if !ft.stopped {
			t.Error("End did not stop the timer")
		}
		ft.f() // a timer that fires as it is stopped
		if got := w.lines(); len(got) != 0 {
			t.Errorf("lines %q, want none", got)
		}
	})
	for _, tt := range []struct {
		name string
		s    BufferSettings
		ctx  func(t *testing.T) context.Context
	}{
		{"no deadline", BufferSettings{}, func(*testing.T) context.Context { return invocationContext() }},
		{"sampled", BufferSettings{SampleRate: 1}, deadline},
		{"nothing held", BufferSettings{MaxBytes: -1}, deadline},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBuffer(tt.s)
			ft := new(fakeTimer)
			b.afterFunc = ft.afterFunc
			inv := &observe.Invocation{}
			b.End(b.Begin(tt.ctx(t), inv), inv)
			if ft.calls != 0 {
				t.Errorf("%d timers, want none", ft.calls)
			}
		})
	}
}

// TestBufferDeadlinePassed: with a real timer that fires at once, while the
// invocation logs, each line is written once, in order, whether the timer
// or End writes it.
func TestBufferDeadlinePassed(t *testing.T) {
	for range 20 {
		b, w := newTestBuffer(BufferSettings{})
		ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
		inv := &observe.Invocation{}
		ctx = b.Begin(ctx, inv)
		for i := range 50 {
			b.Logger().DebugContext(ctx, "step", "i", i)
		}
		inv.Err = context.DeadlineExceeded
		b.End(ctx, inv)
		cancel()
		lines := w.lines()
		if len(lines) != 50 {
			t.Fatalf("%d lines, want 50", len(lines))
		}
		for i, l := range lines {
			if n := decode(t, []byte(l))["i"]; n != float64(i) {
				t.Fatalf("line %d has i %v", i, n)
			}
		}
	}
}

// current is a slog.LogValuer whose value is what *c is when it is logged.
type current struct{ c *int }

func (c current) LogValue() slog.Value { return slog.IntValue(*c.c) }

// TestBufferValuesAsLogged: a held line shows its values as they were when
// it was logged, not when it is written, also for values that refer to
// memory the program changes later and for LogValuers; lines formatted
// when logged and lines formatted when written keep their order.
func TestBufferValuesAsLogged(t *testing.T) {
	b, w := newTestBuffer(BufferSettings{})
	log := b.Logger()
	inv := &observe.Invocation{}
	ctx := b.Begin(invocationContext(), inv)
	items := []string{"a", "b"}
	m := map[string]int{"n": 1}
	n := 1
	type order struct{ ID *string }
	id := "o-17"
	log.DebugContext(ctx, "slice", "items", items)
	log.DebugContext(ctx, "plain", "n", n)
	log.DebugContext(ctx, "map", "m", m)
	log.DebugContext(ctx, "pointer", "order", order{&id})
	log.DebugContext(ctx, "logvaluer", "n", current{&n})
	log.DebugContext(ctx, "group", slog.Group("g", "items", items))
	log.DebugContext(ctx, "error", "err", errors.New("boom"))
	items[0], m["n"], n, id = "changed", 2, 2, "changed"
	log.ErrorContext(ctx, "failed")
	b.End(ctx, inv)

	want := []string{
		`"message":"slice","items":["a","b"]`,
		`"message":"plain","n":1`,
		`"message":"map","m":{"n":1}`,
		`"message":"pointer","order":{"ID":"o-17"}`,
		`"message":"logvaluer","n":1`,
		`"message":"group","g":{"items":["a","b"]}`,
		`"message":"error","err":"boom"`,
		`"message":"failed"`,
	}
	lines := w.lines()
	if len(lines) != len(want) {
		t.Fatalf("lines %q, want %d", lines, len(want))
	}
	for i, l := range lines {
		if !strings.Contains(l, want[i]) {
			t.Errorf("line %d: %s\nwant it to have %s", i, l, want[i])
		}
	}
}

// TestBufferCapByText: the lines held are counted by their text once
// formatted, however long their values make it: numbers here.
func TestBufferCapByText(t *testing.T) {
	noTime := func(w io.Writer) slog.Handler {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: removeTime})
	}
	logLines := func(b *Buffer, inv *observe.Invocation) context.Context {
		ctx := b.Begin(invocationContext(), inv)
		for i := range 10 {
			b.Logger().DebugContext(ctx, "x", "a", 1e15+i, "b", 2e15+i, "c", 3e15+i, "d", 4e15+i)
		}
		return ctx
	}
	b, w := newTestBuffer(BufferSettings{Handler: noTime})
	inv := &observe.Invocation{Err: errors.New("failed")}
	b.End(logLines(b, inv), inv)
	size := len(w.lines()[0]) + 1

	b, w = newTestBuffer(BufferSettings{Handler: noTime, MaxBytes: 3 * size})
	b.End(logLines(b, inv), inv)
	lines := w.lines()
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 3 and the dropped line: %q", len(lines), lines)
	}
	if m := decode(t, []byte(lines[3])); m["dropped"] != float64(7) {
		t.Errorf("dropped line %s, want dropped=7", lines[3])
	}
}
