package runtimeapi

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/fakeruntime"
)

// wireServer is a Runtime API that the test drives request by request on
// raw connections, so that it sees what the loop wrote, on which
// connection and in which order, and answers in the order Lambda's Runtime
// API (a net/http server) would. Every read and accept is bounded by
// fakeruntime.WaitTimeout, as a guard against a test that would hang, not
// as an assertion.
type wireServer struct {
	t     *testing.T
	ln    net.Listener
	conns chan *wireConn

	mu  sync.Mutex // guards all
	all []net.Conn
}

// wireConn is one connection the loop opened.
type wireConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

// wireRequest is one request read from a wireConn.
type wireRequest struct {
	method, path string
	body         []byte
	err          error // io.EOF when the loop closed the connection instead
}

func startWire(t *testing.T) *wireServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &wireServer{t: t, ln: ln, conns: make(chan *wireConn, 16)}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			nc.SetDeadline(time.Now().Add(fakeruntime.WaitTimeout))
			s.mu.Lock()
			s.all = append(s.all, nc)
			s.mu.Unlock()
			s.conns <- &wireConn{t: t, nc: nc, r: bufio.NewReader(nc)}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *wireServer) addr() string { return s.ln.Addr().String() }

// close closes the listener and every connection.
func (s *wireServer) close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, nc := range s.all {
		nc.Close()
	}
}

// accept returns the next connection the loop opens.
func (s *wireServer) accept() *wireConn {
	s.t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(fakeruntime.WaitTimeout):
		s.t.Fatalf("the loop opened no connection within %v", fakeruntime.WaitTimeout)
		return nil
	}
}

// read reads the next request on c, its body included.
func (c *wireConn) read() wireRequest {
	req, err := http.ReadRequest(c.r)
	if err != nil {
		return wireRequest{err: err}
	}
	body, err := io.ReadAll(req.Body)
	return wireRequest{method: req.Method, path: req.URL.Path, body: body, err: err}
}

// must reads the next request on c and fails the test unless it is method
// path.
func (c *wireConn) must(method, path string) wireRequest {
	c.t.Helper()
	r := c.read()
	if r.err != nil || r.method != method || r.path != path {
		c.t.Fatalf("request %s %s (error %v), want %s %s", r.method, r.path, r.err, method, path)
	}
	return r
}

func (c *wireConn) write(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// invocationAnswer is the answer to next that hands out invocation id.
func invocationAnswer(id, payload string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
		"Lambda-Runtime-Aws-Request-Id: " + id + "\r\n" +
		"Lambda-Runtime-Deadline-Ms: 4102444800000\r\n" +
		"Content-Length: " + strconv.Itoa(len(payload)) + "\r\n\r\n" + payload
}

// statusAnswer is an answer with status and a JSON body.
func statusAnswer(status int, body string) string {
	return "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n" +
		"Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

const (
	wireNext     = "/2018-06-01/runtime/invocation/next"
	wireAccepted = `{"status":"OK"}`
	wire413      = `{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}`
)

func wirePost(id, kind string) string { return "/2018-06-01/runtime/invocation/" + id + "/" + kind }

// runWire runs Run(h) against s in a goroutine. The returned stop cancels
// its ctx, closes the server and waits for Run to return (a loop cut off
// in a post gives up after its retries); a cleanup calls it too.
func runWire(t *testing.T, s *wireServer, h Handler, log ...*slog.Logger) (stop func()) {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if len(log) > 0 {
		logger = log[0]
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, h, Config{Address: s.addr(), Concurrency: 1, Logger: logger})
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			s.close()
			select {
			case <-done:
			case <-time.After(fakeruntime.WaitTimeout):
				t.Errorf("Run did not return within %v of its ctx being cancelled", fakeruntime.WaitTimeout)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
