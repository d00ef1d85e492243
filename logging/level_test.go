package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLevelFrom(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want slog.Level
	}{
		{"unset", nil, slog.LevelInfo},
		{"empty", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "", "LOG_LEVEL": ""}, slog.LevelInfo},
		{"TRACE", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, LevelTrace},
		{"DEBUG", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "DEBUG"}, slog.LevelDebug},
		{"INFO", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "INFO"}, slog.LevelInfo},
		{"WARN", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "WARN"}, slog.LevelWarn},
		{"WARNING", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "WARNING"}, slog.LevelWarn},
		{"ERROR", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "ERROR"}, slog.LevelError},
		{"FATAL", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, LevelFatal},
		{"lower case", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "debug"}, slog.LevelDebug},
		{"mixed case", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "Warning"}, slog.LevelWarn},
		{"spaces", map[string]string{"AWS_LAMBDA_LOG_LEVEL": " error\n"}, slog.LevelError},
		{"unknown", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "VERBOSE"}, slog.LevelInfo},
		{"slog syntax is unknown", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "DEBUG+2"}, slog.LevelInfo},
		{"LOG_LEVEL", map[string]string{"LOG_LEVEL": "error"}, slog.LevelError},
		{"AWS_LAMBDA_LOG_LEVEL first", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "WARN", "LOG_LEVEL": "DEBUG"}, slog.LevelWarn},
		{"empty AWS_LAMBDA_LOG_LEVEL skipped", map[string]string{"AWS_LAMBDA_LOG_LEVEL": " ", "LOG_LEVEL": "DEBUG"}, slog.LevelDebug},
		{"unknown AWS_LAMBDA_LOG_LEVEL not skipped", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "LOUD", "LOG_LEVEL": "DEBUG"}, slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(key string) string { return tt.env[key] }
			if got := levelFrom(getenv); got != tt.want {
				t.Errorf("levelFrom(%v) = %v, want %v", tt.env, got, tt.want)
			}
		})
	}
}

func TestLevelFromEnv(t *testing.T) {
	t.Setenv("AWS_LAMBDA_LOG_LEVEL", "")
	t.Setenv("LOG_LEVEL", "trace")
	if got := LevelFromEnv(); got != LevelTrace {
		t.Errorf("LevelFromEnv() with LOG_LEVEL=trace = %v, want %v", got, LevelTrace)
	}
	t.Setenv("AWS_LAMBDA_LOG_LEVEL", "ERROR")
	if got := LevelFromEnv(); got != slog.LevelError {
		t.Errorf("LevelFromEnv() with AWS_LAMBDA_LOG_LEVEL=ERROR = %v, want %v", got, slog.LevelError)
	}
}

func TestLevelName(t *testing.T) {
	tests := []struct {
		level slog.Level
		want  string
	}{
		{LevelTrace - 1, "TRACE"},
		{LevelTrace, "TRACE"},
		{slog.LevelDebug - 1, "TRACE"},
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelDebug + 2, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelInfo + 3, "INFO"},
		{slog.LevelWarn, "WARN"},
		{slog.LevelError, "ERROR"},
		{slog.LevelError + 2, "ERROR"},
		{LevelFatal, "FATAL"},
		{LevelFatal + 10, "FATAL"},
	}
	for _, tt := range tests {
		if got := levelName(tt.level); got != tt.want {
			t.Errorf("levelName(%v) = %q, want %q", tt.level, got, tt.want)
		}
	}
}

func TestReplaceAttr(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		groups []string
		in     slog.Attr
		want   slog.Attr
	}{
		{"time", nil, slog.Time(slog.TimeKey, now), slog.Time("timestamp", now)},
		{"time that is not a time", nil, slog.String(slog.TimeKey, "noon"), slog.String(slog.TimeKey, "noon")},
		{"message", nil, slog.String(slog.MessageKey, "hi"), slog.String("message", "hi")},
		{"level", nil, slog.Any(slog.LevelKey, slog.LevelWarn), slog.String(slog.LevelKey, "WARN")},
		{"trace level", nil, slog.Any(slog.LevelKey, LevelTrace), slog.String(slog.LevelKey, "TRACE")},
		{"level that is not a Level", nil, slog.String(slog.LevelKey, "high"), slog.String(slog.LevelKey, "high")},
		{"other", nil, slog.Int("n", 1), slog.Int("n", 1)},
		{"in a group", []string{"g"}, slog.String(slog.MessageKey, "hi"), slog.String(slog.MessageKey, "hi")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReplaceAttr(tt.groups, tt.in); !got.Equal(tt.want) {
				t.Errorf("ReplaceAttr(%v, %v) = %v, want %v", tt.groups, tt.in, got, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Setenv("AWS_LAMBDA_LOG_LEVEL", "warn")
	var buf bytes.Buffer
	logger := New(&buf)
	ctx := invocationContext()

	logger.InfoContext(ctx, "filtered out")
	if buf.Len() != 0 {
		t.Fatalf("INFO logged at level WARN: %s", buf.Bytes())
	}
	logger.Log(ctx, LevelFatal, "disk full", "free", 0)
	m := decode(t, buf.Bytes())

	ts, ok := m["timestamp"].(string)
	if !ok {
		t.Fatalf("no timestamp in %s", buf.Bytes())
	}
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("timestamp %q is not RFC 3339: %v", ts, err)
	}
	want := map[string]any{
		"level":      "FATAL",
		"message":    "disk full",
		"free":       float64(0),
		RequestIDKey: testRequestID,
		ColdStartKey: true,
		TraceIDKey:   testTraceID,
		SpanIDKey:    testSpanID,
	}
	for key, w := range want {
		if got := m[key]; got != w {
			t.Errorf("%s = %v, want %v", key, got, w)
		}
	}
	for _, key := range []string{slog.TimeKey, slog.MessageKey} {
		if _, ok := m[key]; ok {
			t.Errorf("output has %q, want it renamed: %s", key, buf.Bytes())
		}
	}
	if got := strings.Count(buf.String(), "\n"); got != 1 {
		t.Errorf("output has %d lines, want 1", got)
	}
}

func TestNewLevelIsReadOnce(t *testing.T) {
	t.Setenv("AWS_LAMBDA_LOG_LEVEL", "ERROR")
	var buf bytes.Buffer
	logger := New(&buf)
	t.Setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
	if logger.Enabled(context.Background(), slog.LevelWarn) {
		t.Errorf("WARN enabled after the environment changed; want the level of when New was called")
	}
}
