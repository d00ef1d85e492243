package logging_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/observe"
)

// BenchmarkBuffer compares, per invocation of 10 Debug lines with three
// attributes, writing the lines as they come (at level DEBUG, one write each)
// with holding them and dropping them at the end, and holding them and
// writing them at the end (one write). Lambda writes each line to standard
// output with a system call, so the lines go to an *os.File: /dev/null (the
// system call alone) and a pipe drained by another goroutine (as Lambda's
// standard output is, at some 10-20 us a line).
func BenchmarkBuffer(b *testing.B) {
	const lines = 10
	sinks := []struct {
		name string
		open func(b *testing.B) *os.File
	}{
		{"devnull", func(b *testing.B) *os.File {
			f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.Close() })
			return f
		}},
		{"pipe", func(b *testing.B) *os.File {
			r, w, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() { io.Copy(io.Discard, r); close(done) }()
			b.Cleanup(func() { w.Close(); <-done; r.Close() })
			return w
		}},
	}
	debugJSON := func(w io.Writer) slog.Handler {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: logging.ReplaceAttr})
	}
	// An invocation's context has a deadline, as in Lambda: the Buffer
	// sets a timer for it.
	base, cancel := context.WithTimeout(invocation(), time.Hour)
	defer cancel()
	logLines := func(logger *slog.Logger, inv *observe.Invocation, o observe.Observer) {
		ctx := o.Begin(base, inv)
		for i := range lines {
			logger.DebugContext(ctx, "order step", "order_id", 42, "step", i, "currency", "EUR")
		}
		o.End(ctx, inv)
	}
	for _, sink := range sinks {
		b.Run(sink.name+"/written", func(b *testing.B) {
			// At level DEBUG, no Buffer: each line written as it comes.
			logger := slog.New(logging.NewHandler(debugJSON(sink.open(b))))
			inv := &observe.Invocation{HTTP: true, Status: 200}
			b.ReportAllocs()
			for b.Loop() {
				logLines(logger, inv, nopObserver{})
			}
		})
		b.Run(sink.name+"/held+dropped", func(b *testing.B) {
			logs := logging.NewBuffer(sink.open(b), logging.BufferSettings{Handler: infoJSON})
			logger := logs.Logger()
			inv := &observe.Invocation{HTTP: true, Status: 200}
			b.ReportAllocs()
			for b.Loop() {
				logLines(logger, inv, logs)
			}
		})
		b.Run(sink.name+"/held+written", func(b *testing.B) {
			logs := logging.NewBuffer(sink.open(b), logging.BufferSettings{Handler: infoJSON})
			logger := logs.Logger()
			inv := &observe.Invocation{HTTP: true, Status: 500}
			b.ReportAllocs()
			for b.Loop() {
				logLines(logger, inv, logs)
			}
		})
	}
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) Begin(ctx context.Context, _ *observe.Invocation) context.Context { return ctx }
func (nopObserver) End(context.Context, *observe.Invocation)                         {}

// BenchmarkBufferDisabled: a Debug line at level INFO with no invocation
// in its context, through New's logger and a Buffer's.
func BenchmarkBufferDisabled(b *testing.B) {
	ctx := invocation() // not observed
	b.Run("New", func(b *testing.B) {
		logger := slog.New(logging.NewHandler(infoJSON(io.Discard)))
		b.ReportAllocs()
		for b.Loop() {
			logger.DebugContext(ctx, "order step", "order_id", 42)
		}
	})
	b.Run("Buffer", func(b *testing.B) {
		logger := logging.NewBuffer(io.Discard, logging.BufferSettings{Handler: infoJSON}).Logger()
		b.ReportAllocs()
		for b.Loop() {
			logger.DebugContext(ctx, "order step", "order_id", 42)
		}
	})
}
