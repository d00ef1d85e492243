package logging

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// Levels that Lambda knows and log/slog does not name.
const (
	// LevelTrace is Lambda's TRACE level, below slog.LevelDebug.
	LevelTrace = slog.LevelDebug - 4
	// LevelFatal is Lambda's FATAL level, above slog.LevelError.
	LevelFatal = slog.LevelError + 4
)

// LevelFromEnv returns the minimum level to log, from the first of the
// environment variables AWS_LAMBDA_LOG_LEVEL (set by Lambda when the
// function's log level is configured) and LOG_LEVEL that is set and not
// empty.
//
// The value is one of TRACE, DEBUG, INFO, WARN (or WARNING), ERROR and FATAL,
// in any case; TRACE is [LevelTrace] and FATAL [LevelFatal]. An unknown value,
// or none, gives slog.LevelInfo.
func LevelFromEnv() slog.Level {
	return levelFrom(os.Getenv)
}

// levelFrom is LevelFromEnv reading the environment through getenv.
func levelFrom(getenv func(string) string) slog.Level {
	for _, key := range [...]string{"AWS_LAMBDA_LOG_LEVEL", "LOG_LEVEL"} {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return parseLevel(v)
		}
	}
	return slog.LevelInfo
}

// parseLevel returns the level named s, or slog.LevelInfo if s names none.
func parseLevel(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "TRACE":
		return LevelTrace
	case "DEBUG":
		return slog.LevelDebug
	case "WARN", "WARNING":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	case "FATAL":
		return LevelFatal
	}
	return slog.LevelInfo
}

// levelName returns the Lambda name of the band l falls in: TRACE below
// slog.LevelDebug, DEBUG below slog.LevelInfo, and so on up to FATAL from
// LevelFatal on.
func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "TRACE"
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARN"
	case l < LevelFatal:
		return "ERROR"
	}
	return "FATAL"
}

// ReplaceAttr, for [slog.HandlerOptions], writes the built-in attributes the
// way Lambda reads JSON logs: the time under the key "timestamp", the message
// under "message", and the level as one of TRACE, DEBUG, INFO, WARN, ERROR
// and FATAL.
//
// A level between two of these is written as the lower one (slog would write
// slog.LevelError+2 as "ERROR+2"), because Lambda takes a level it does not
// know for INFO and would then filter the record as INFO. Attributes in
// groups are left alone.
func ReplaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		if a.Value.Kind() == slog.KindTime {
			a.Key = "timestamp"
		}
	case slog.MessageKey:
		a.Key = "message"
	case slog.LevelKey:
		if l, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(levelName(l))
		}
	}
	return a
}

// New returns a logger for a Lambda function: JSON lines on w, written with
// [ReplaceAttr], at the level of [LevelFromEnv] when New is called, through
// a [Handler] that adds the invocation attributes.
//
// The logger is safe for concurrent use; each record is one call to
// w.Write.
func New(w io.Writer) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       LevelFromEnv(),
		ReplaceAttr: ReplaceAttr,
	})
	return slog.New(NewHandler(h))
}
