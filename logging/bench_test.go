package logging_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/funcify/funcify/logging"
)

// BenchmarkInfo logs one line with three attributes with a full invocation
// context through New, the path every log line of a function takes.
func BenchmarkInfo(b *testing.B) {
	ctx := invocation()
	b.Run("New", func(b *testing.B) {
		logger := logging.New(io.Discard)
		b.ReportAllocs()
		for b.Loop() {
			logger.InfoContext(ctx, "order placed", "order_id", 42, "currency", "EUR", "express", true)
		}
	})
	b.Run("New/LogAttrs", func(b *testing.B) {
		logger := logging.New(io.Discard)
		b.ReportAllocs()
		for b.Loop() {
			logger.LogAttrs(ctx, slog.LevelInfo, "order placed",
				slog.Int("order_id", 42), slog.String("currency", "EUR"), slog.Bool("express", true))
		}
	})
	b.Run("New/WithGroup", func(b *testing.B) {
		logger := logging.New(io.Discard).WithGroup("order")
		b.ReportAllocs()
		for b.Loop() {
			logger.InfoContext(ctx, "order placed", "order_id", 42, "currency", "EUR", "express", true)
		}
	})
	b.Run("New/no invocation", func(b *testing.B) {
		logger := logging.New(io.Discard)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			logger.InfoContext(ctx, "order placed", "order_id", 42, "currency", "EUR", "express", true)
		}
	})
	b.Run("New/disabled", func(b *testing.B) {
		logger := logging.New(io.Discard)
		b.ReportAllocs()
		for b.Loop() {
			logger.DebugContext(ctx, "order placed", "order_id", 42, "currency", "EUR", "express", true)
		}
	})
	// The JSON handler alone, for comparison.
	b.Run("slog.JSONHandler", func(b *testing.B) {
		logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			logger.InfoContext(ctx, "order placed", "order_id", 42, "currency", "EUR", "express", true)
		}
	})
}
