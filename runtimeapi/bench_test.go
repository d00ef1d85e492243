package runtimeapi

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// cannedAPI is a Runtime API that answers every next with the same
// invocation and every post with 202, from canned bytes and without
// allocating, so that a benchmark's allocations are the loop's. After
// limit posts it stops answering next until the connection closes.
type cannedAPI struct {
	ln    net.Listener
	next  []byte
	limit int64
	posts atomic.Int64
	done  chan struct{} // closed after limit posts
}

func startCannedAPI(tb testing.TB, payload []byte, limit int) *cannedAPI {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var h bytes.Buffer
	h.WriteString("HTTP/1.1 200 OK\r\n")
	h.WriteString("Content-Type: application/json\r\n")
	h.WriteString("Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n")
	h.WriteString("Lambda-Runtime-Deadline-Ms: 4102444800000\r\n") // 2100-01-01
	h.WriteString("Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n")
	h.WriteString("Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n")
	h.WriteString("Date: Wed, 02 Dec 2026 12:00:00 GMT\r\n")
	h.WriteString("Content-Length: " + strconv.Itoa(len(payload)) + "\r\n\r\n")
	h.Write(payload)
	a := &cannedAPI{ln: ln, next: h.Bytes(), limit: int64(limit), done: make(chan struct{})}
	go a.serve()
	tb.Cleanup(func() { ln.Close() })
	return a
}

func (a *cannedAPI) addr() string { return a.ln.Addr().String() }

var accepted = []byte("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n")

func (a *cannedAPI) serve() {
	for {
		conn, err := a.ln.Accept()
		if err != nil {
			return
		}
		go a.serveConn(conn)
	}
}

func (a *cannedAPI) serveConn(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	for {
		var length int
		get := false
		for first := true; ; first = false {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			if first {
				get = bytes.HasPrefix(line, []byte("GET "))
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if _, err := r.Discard(length); err != nil {
			return
		}
		if get {
			if a.posts.Load() >= a.limit {
				io.Copy(io.Discard, r) // hold next until the connection closes
				return
			}
			conn.Write(a.next)
			continue
		}
		conn.Write(accepted)
		if a.posts.Add(1) == a.limit {
			close(a.done)
		}
	}
}

type okHandler struct{ out []byte }

func (h okHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) { return h.out, nil }

// runCanned runs n invocations of h against a cannedAPI and returns when
// the last was posted.
func runCanned(tb testing.TB, payload []byte, n int, h Handler) {
	api := startCannedAPI(tb, payload, n)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, h, Config{Address: api.addr(), Concurrency: 1}) }()
	select {
	case <-api.done:
	case err := <-errc:
		cancel()
		tb.Fatalf("Run returned early: %v", err)
	}
	cancel()
	if err := <-errc; err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLoop measures one invocation through the loop: next, the
// invocation's context, a handler that answers at once, the response's
// post, against a Runtime API on loopback that answers from canned bytes.
// Its allocations are the loop's (the canned API allocates nothing per
// request).
func BenchmarkLoop(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 1024)
	b.ReportAllocs()
	runCanned(b, payload, b.N, okHandler{out: []byte(`"ok"`)})
}

// TestLoopAllocations: on the steady path (one kept-alive connection) an
// invocation allocates the payload, its request id and trace id strings,
// and what its context must hold, as aws-lambda-go builds it: the deadline
// (context, timer and cancel func), the LambdaContext and its context
// value, the trace id's context value and _X_AMZN_TRACE_ID: 13 in all,
// nothing for the reading and writing of the protocol itself.
func TestLoopAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("counts allocations over 2000 invocations")
	}
	const n = 2000
	payload := bytes.Repeat([]byte("x"), 1024)
	runCanned(t, payload, 10, okHandler{out: []byte(`"ok"`)}) // warm up what is built once
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	runCanned(t, payload, n, okHandler{out: []byte(`"ok"`)})
	runtime.ReadMemStats(&after)
	per := float64(after.Mallocs-before.Mallocs) / n
	if per > 13.5 {
		t.Errorf("an invocation allocates %.2f times, want at most 13", per)
	}
	t.Logf("%.2f allocations per invocation", per)
}
