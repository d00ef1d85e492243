package logging_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"testing/slogtest"

	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/observe"
)

// TestBufferSlogtest checks the handler of a Buffer's logger with
// testing/slogtest, for lines written as they come (no invocation, and a
// sampled one) and for lines held (Info held) and written at the end of a
// failed invocation.
func TestBufferSlogtest(t *testing.T) {
	for _, tt := range []struct {
		name    string
		s       logging.BufferSettings
		observe bool
	}{
		{"no invocation", logging.BufferSettings{}, false},
		{"sampled", logging.BufferSettings{SampleRate: 1}, true},
		{"held", logging.BufferSettings{Info: true}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var (
				buf  *bytes.Buffer
				logs *logging.Buffer
				ctx  context.Context
				inv  *observe.Invocation
			)
			slogtest.Run(t,
				func(*testing.T) slog.Handler {
					buf = new(bytes.Buffer)
					s := tt.s
					s.Handler = func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }
					logs = logging.NewBuffer(buf, s)
					ctx, inv = context.Background(), &observe.Invocation{}
					if tt.observe {
						ctx = logs.Begin(invocation(), inv)
					}
					return ctxHandler{ctx, logs.Logger().Handler()}
				},
				func(t *testing.T) map[string]any {
					if tt.observe {
						if tt.name == "held" && buf.Len() != 0 {
							t.Errorf("held line written before End: %s", buf.Bytes())
						}
						inv.Err = errors.New("failed")
						logs.End(ctx, inv)
					}
					return parseLine(t, buf)
				})
		})
	}
}
