package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/logging"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the lines written, decoded.
func (b *lockedBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for l := range strings.Lines(b.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// messages returns the message of each line written.
func (b *lockedBuffer) messages(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range b.records(t) {
		out = append(out, m["message"].(string))
	}
	return out
}

// infoJSON writes New's JSON at level INFO, whatever the environment.
func infoJSON(w io.Writer) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: logging.ReplaceAttr})
}

// bufferedApp returns an app whose logger holds lines as s says, and what
// it writes.
func bufferedApp(s logging.BufferSettings) (*app.App, *lockedBuffer) {
	out := new(lockedBuffer)
	s.Handler = infoJSON
	logs := logging.NewBuffer(out, s)
	a := app.New(app.WithLogger(logs.Logger()), app.WithObserver(logs))
	log := logs.Logger()
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		log.DebugContext(r.Context(), "loading order", "id", r.PathValue("id"))
		switch r.PathValue("id") {
		case "broken":
			w.WriteHeader(http.StatusInternalServerError)
		case "panic":
			panic("nil map")
		}
	})
	a.HandleS3("invoices", func(ctx context.Context, e events.S3Event) (any, error) {
		log.DebugContext(ctx, "reading object", "key", e.Records[0].S3.Object.Key)
		return nil, errors.New("access denied")
	})
	return a, out
}

func lambdaCtx(requestID string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
}

func getOrder(id string) []byte {
	return fmt.Appendf(nil, `{"version":"2.0","rawPath":"/orders/%s","requestContext":{"http":{"method":"GET"}}}`, id)
}

// TestBufferApp: through an app, the Debug lines of an invocation are
// written when it answers 5xx, panics or fails, and dropped when it
// answers 200.
func TestBufferApp(t *testing.T) {
	s3 := []byte(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"invoices"},"object":{"key":"2026/01.pdf"}}}]}`)
	tests := []struct {
		name    string
		s       logging.BufferSettings
		payload []byte
		want    []string // messages, in order
	}{
		// Sampled at 1: every invocation logs at Debug as lines come.
		{"200 sampled", logging.BufferSettings{SampleRate: 1}, getOrder("o-17"),
			[]string{"invocation start", "loading order", "invocation end"}},
		{"200, Info held", logging.BufferSettings{Info: true}, getOrder("o-17"), nil},
		{"500, Info held", logging.BufferSettings{Info: true}, getOrder("broken"),
			[]string{"invocation start", "loading order", "invocation end"}},
		// Held lines are written at End, after the Info line.
		{"500", logging.BufferSettings{}, getOrder("broken"), []string{"invocation end", "invocation start", "loading order"}},
		{"200", logging.BufferSettings{}, getOrder("o-17"), []string{"invocation end"}},
		// The app logs the recovered panic at Error: the held lines come
		// first, then the error line.
		{"panic", logging.BufferSettings{}, getOrder("panic"), []string{"invocation start", "loading order", "panic", "invocation end"}},
		// The app logs the failure at Error.
		{"S3 handler fails", logging.BufferSettings{}, s3, []string{"invocation start", "reading object", "invocation end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, out := bufferedApp(tt.s)
			if _, err := a.Invoke(lambdaCtx("req-1"), tt.payload); err != nil && tt.name != "S3 handler fails" {
				t.Fatal(err)
			}
			if got := out.messages(t); !slices.Equal(got, tt.want) {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
			for _, m := range out.records(t) {
				if m[logging.RequestIDKey] != "req-1" {
					t.Errorf("line without the request ID: %v", m)
				}
			}
		})
	}
}

// TestBufferAppConcurrent: invocations of an app running at once write
// only their own held lines.
func TestBufferAppConcurrent(t *testing.T) {
	a, out := bufferedApp(logging.BufferSettings{})
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprint("o-", i)
			if i%2 == 1 {
				id = "broken"
			}
			if _, err := a.Invoke(lambdaCtx(fmt.Sprint("req-", i)), getOrder(id)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	loading := 0
	for _, m := range out.records(t) {
		if m["message"] != "loading order" {
			continue
		}
		loading++
		if m["id"] != "broken" {
			t.Errorf("a held line of an invocation that answered 200: %v", m)
		}
		var i int
		if _, err := fmt.Sscanf(m[logging.RequestIDKey].(string), "req-%d", &i); err != nil || i%2 != 1 {
			t.Errorf("held line %v of request %v", m, m[logging.RequestIDKey])
		}
	}
	if loading != n/2 {
		t.Errorf("%d held lines written, want %d", loading, n/2)
	}
}
