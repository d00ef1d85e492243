package fakeruntime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/testenv"
)

// rawConn is a client connection to the server that writes bytes as given.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, s *Server) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawConn) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one answer and its whole body.
func (c *rawConn) read() (*http.Response, []byte) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("reading the answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading the answer's body: %v", err)
	}
	return resp, body
}

// closed reports whether the server closed the connection: the next read
// ends without a byte.
func (c *rawConn) closed() bool {
	c.t.Helper()
	rest, err := io.ReadAll(c.br)
	return err == nil && len(rest) == 0
}

func getNext() string {
	return "GET " + pathNext + " HTTP/1.1\r\nHost: fake\r\n\r\n"
}

func post(id, kind, body string) string {
	return fmt.Sprintf("POST %s%s/%s HTTP/1.1\r\nHost: fake\r\nContent-Length: %d\r\n\r\n%s", pathInvocation, id, kind, len(body), body)
}

func TestNextHeaders(t *testing.T) {
	deadline := time.UnixMilli(1700000000123)
	tests := []struct {
		name    string
		inv     Invocation
		want    map[string]string // header -> value; "" means absent
		wantARN bool
	}{
		{
			name: "standard",
			inv:  Invocation{Payload: []byte(`{"a":1}`), RequestID: "req-1", Deadline: deadline},
			want: map[string]string{
				"Content-Type":                    "application/json",
				"Lambda-Runtime-Aws-Request-Id":   "req-1",
				"Lambda-Runtime-Deadline-Ms":      "1700000000123",
				"Lambda-Runtime-Client-Context":   "",
				"Lambda-Runtime-Cognito-Identity": "",
				"Lambda-Runtime-Aws-Tenant-Id":    "",
			},
			wantARN: true,
		},
		{
			name: "overridden, omitted and extra",
			inv: Invocation{Payload: []byte(`{}`), RequestID: "req-2", Deadline: deadline, Header: map[string]string{
				"lambda-runtime-deadline-ms":          "soon",
				"Lambda-Runtime-Trace-Id":             Omit,
				"Lambda-Runtime-Invoked-Function-Arn": Omit,
				"Lambda-Runtime-Client-Context":       `{"custom":{"k":"v"}}`,
				"Lambda-Runtime-Aws-Tenant-Id":        "tenant-7",
				"X-Unknown":                           Omit,
			}},
			want: map[string]string{
				"Lambda-Runtime-Aws-Request-Id":       "req-2",
				"Lambda-Runtime-Deadline-Ms":          "soon",
				"Lambda-Runtime-Trace-Id":             "",
				"Lambda-Runtime-Invoked-Function-Arn": "",
				"Lambda-Runtime-Client-Context":       `{"custom":{"k":"v"}}`,
				"Lambda-Runtime-Aws-Tenant-Id":        "tenant-7",
				"X-Unknown":                           "",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t)
			id := s.Enqueue(tt.inv)
			if id != tt.inv.RequestID {
				t.Errorf("Enqueue returned %q, want %q", id, tt.inv.RequestID)
			}
			resp, err := http.Get("http://" + s.Addr() + pathNext)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != string(tt.inv.Payload) {
				t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, tt.inv.Payload)
			}
			for k, v := range tt.want {
				if got := resp.Header.Get(k); got != v || (v == "" && len(resp.Header.Values(k)) > 0) {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			if tt.wantARN {
				if got := resp.Header.Get(headerFunctionARN); got != FunctionARN {
					t.Errorf("function ARN: got %q, want %q", got, FunctionARN)
				}
				if got := resp.Header.Get(headerTraceID); !strings.HasPrefix(got, "Root=1-") || !strings.Contains(got, ";Parent=") {
					t.Errorf("trace id: got %q, want Root=1-...;Parent=...", got)
				}
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Status != 200 || reqs[0].RequestID != id || reqs[0].Method != "GET" || reqs[0].Path != pathNext {
				t.Errorf("recorded %+v, want one GET next answered 200 with %s", reqs, id)
			}
		})
	}
}

// TestNextDeterministic: the same invocation, with its request id and
// deadline set, is answered byte for byte the same by two servers but for
// the Date header, as a differential test needs.
func TestNextDeterministic(t *testing.T) {
	inv := Invocation{Payload: []byte(`{"same":true}`), RequestID: "same-id", Deadline: time.UnixMilli(1700000000000), Chunked: true}
	var answers [2]string
	for i := range answers {
		s := Start(t)
		s.Enqueue(inv)
		c := dial(t, s)
		var wire bytes.Buffer
		c.br = bufio.NewReader(io.TeeReader(c.nc, &wire))
		c.send(getNext())
		c.read()
		var lines []string
		for line := range strings.SplitSeq(wire.String(), "\r\n") {
			if !strings.HasPrefix(line, "Date: ") {
				lines = append(lines, line)
			}
		}
		answers[i] = strings.Join(lines, "\r\n")
	}
	if answers[0] != answers[1] || !strings.Contains(answers[0], headerTraceID+": Root=1-") {
		t.Errorf("got answers\n%q\n%q\nwant the same, with a trace id", answers[0], answers[1])
	}
}

func TestNextDefaults(t *testing.T) {
	s := Start(t)
	before := time.Now()
	id := s.Enqueue(Invocation{})
	resp, err := http.Get("http://" + s.Addr() + pathNext)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	after := time.Now()
	if got := resp.Header.Get(headerRequestID); got != id || len(id) != 36 || id[14] != '4' {
		t.Errorf("request id: got %q, header %q, want the same random UUID v4", id, got)
	}
	ms, err := strconv.ParseInt(resp.Header.Get(headerDeadline), 10, 64)
	lo, hi := before.Add(30*time.Second).UnixMilli(), after.Add(30*time.Second).UnixMilli()
	if err != nil || ms < lo || ms > hi {
		t.Errorf("deadline: got %q, want between %d and %d", resp.Header.Get(headerDeadline), lo, hi)
	}
	if resp.ContentLength != 0 {
		t.Errorf("Content-Length: got %d, want 0", resp.ContentLength)
	}
}

func TestNextFraming(t *testing.T) {
	payload := []byte(`{"payload":"in several chunks"}`)
	tests := []struct {
		name       string
		inv        Invocation
		wantTE     []string
		wantLength int64
		wantClosed bool
		wantWire   []string // on the wire, after the header section
	}{
		{name: "length", inv: Invocation{Payload: payload}, wantLength: int64(len(payload))},
		{
			name: "chunked", inv: Invocation{Payload: payload, Chunked: true}, wantTE: []string{"chunked"}, wantLength: -1,
			wantWire: []string{"\r\n1;fake=ext\r\n{\r\n7\r\n\"payloa\r\n", "\r\n0\r\n" + chunkTrailer + ": 1\r\n\r\n"},
		},
		{name: "close-delimited", inv: Invocation{Payload: payload, CloseDelimited: true}, wantLength: -1, wantClosed: true},
		{name: "connection close", inv: Invocation{Payload: payload, NextConnectionClose: true}, wantLength: int64(len(payload)), wantClosed: true},
		{name: "closed after next", inv: Invocation{Payload: payload, CloseAfterNext: true}, wantLength: int64(len(payload)), wantClosed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t)
			s.Enqueue(tt.inv)
			c := dial(t, s)
			var wire bytes.Buffer
			c.br = bufio.NewReader(io.TeeReader(c.nc, &wire))
			c.send(getNext())
			resp, body := c.read()
			if !bytes.Equal(body, payload) {
				t.Errorf("body: got %q, want %q", body, payload)
			}
			if !slices.Equal(resp.TransferEncoding, tt.wantTE) || resp.ContentLength != tt.wantLength {
				t.Errorf("framing: got Transfer-Encoding %q, Content-Length %d; want %q, %d", resp.TransferEncoding, resp.ContentLength, tt.wantTE, tt.wantLength)
			}
			if tt.wantTE != nil && resp.Trailer.Get(chunkTrailer) != "1" {
				t.Errorf("trailer: got %q, want %s: 1", resp.Trailer, chunkTrailer)
			}
			for _, w := range tt.wantWire {
				if !strings.Contains(wire.String(), w) {
					t.Errorf("wire %q does not contain %q", wire.String(), w)
				}
			}
			// net/http reads Connection: close into resp.Close, as it does a
			// body without length.
			if want := tt.inv.NextConnectionClose || tt.inv.CloseDelimited; resp.Close != want {
				t.Errorf("Connection: close or no length: got %v, want %v", resp.Close, want)
			}
			if tt.wantClosed {
				if !c.closed() {
					t.Error("connection left open, want closed")
				}
				s.WaitConnClosed(t, 1)
			} else {
				// Still open: a second request on it is answered.
				c.send("GET /nowhere HTTP/1.1\r\nHost: fake\r\n\r\n")
				if resp, _ := c.read(); resp.StatusCode != 404 {
					t.Errorf("second request: got %d, want 404", resp.StatusCode)
				}
				if s.Conns() != 1 {
					t.Errorf("got %d connections, want 1", s.Conns())
				}
			}
		})
	}
}

// TestCloseAfterNextReconnect: the POST of an invocation whose connection
// closed after next comes on a new connection, and is matched to it.
func TestCloseAfterNextReconnect(t *testing.T) {
	s := Start(t)
	id := s.Enqueue(Invocation{Payload: []byte(`1`), CloseAfterNext: true})
	c1 := dial(t, s)
	c1.send(getNext())
	c1.read()
	if !c1.closed() {
		t.Fatal("connection left open after next, want closed")
	}
	c2 := dial(t, s)
	c2.send(post(id, "response", "ok"))
	if resp, _ := c2.read(); resp.StatusCode != 202 {
		t.Errorf("POST: got %d, want 202", resp.StatusCode)
	}
	res := s.Wait(t, id)
	if res.Conn != 2 || res.Error || string(res.Body) != "ok" || s.Conns() != 2 {
		t.Errorf("got result on conn %d (error %v, body %q) of %d conns, want a response ok on conn 2 of 2", res.Conn, res.Error, res.Body, s.Conns())
	}
}

func TestPostConnection(t *testing.T) {
	tests := []struct {
		name       string
		inv        Invocation
		wantHeader bool // Connection: close
		wantClosed bool
	}{
		{name: "kept alive", inv: Invocation{}},
		{name: "closed without header", inv: Invocation{CloseAfterResult: true}, wantClosed: true},
		{name: "Connection: close", inv: Invocation{ConnectionClose: true}, wantHeader: true, wantClosed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t)
			id := s.Enqueue(tt.inv)
			c := dial(t, s)
			c.send(getNext())
			c.read()
			c.send(post(id, "response", `"done"`))
			resp, body := c.read()
			if resp.StatusCode != 202 || string(body) != `{"status":"OK"}` {
				t.Errorf("POST: got %d %q, want 202 {\"status\":\"OK\"}", resp.StatusCode, body)
			}
			if resp.Close != tt.wantHeader {
				t.Errorf("Connection: close: got %v, want %v", resp.Close, tt.wantHeader)
			}
			if tt.wantClosed {
				if !c.closed() {
					t.Error("connection left open, want closed")
				}
				return
			}
			c.send("GET /nowhere HTTP/1.1\r\nHost: fake\r\n\r\n")
			if resp, _ := c.read(); resp.StatusCode != 404 {
				t.Errorf("second request: got %d, want 404", resp.StatusCode)
			}
		})
	}
}

func TestPostStatus(t *testing.T) {
	type post struct {
		kind, body string
		want       int
		wantType   string // errorType of the answer's JSON body
	}
	tests := []struct {
		name  string
		inv   Invocation
		posts []post
	}{
		{name: "response", posts: []post{{"response", `"r"`, 202, ""}}},
		{name: "error", posts: []post{{"error", `{"errorMessage":"m","errorType":"t"}`, 202, ""}}},
		{name: "second POST after an accepted one", posts: []post{{"response", `1`, 202, ""}, {"error", `{}`, 403, "InvalidStateTransition"}}},
		{name: "413 chosen", inv: Invocation{ResponseStatus: 413}, posts: []post{{"response", `"big"`, 413, "RequestEntityTooLarge"}}},
		{name: "response over its limit, then an error", inv: Invocation{MaxResponseBody: 4}, posts: []post{{"response", `"big"`, 413, "RequestEntityTooLarge"}, {"error", `{}`, 202, ""}}},
		{name: "response at its limit", inv: Invocation{MaxResponseBody: 4}, posts: []post{{"response", `"ab"`, 202, ""}}},
		{name: "error over its limit", inv: Invocation{MaxErrorBody: 10}, posts: []post{{"error", `{"m":"abcd"}`, 413, "RequestEntityTooLarge"}, {"error", `{}`, 202, ""}}},
		{name: "error limit leaves responses alone", inv: Invocation{MaxErrorBody: 1}, posts: []post{{"response", `"long response"`, 202, ""}}},
		{name: "error status", inv: Invocation{ErrorStatus: 500}, posts: []post{{"error", `{}`, 500, "InternalServerError"}}},
		{name: "error status leaves responses alone", inv: Invocation{ErrorStatus: 500}, posts: []post{{"response", `{}`, 202, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t)
			id := s.Enqueue(tt.inv)
			base := "http://" + s.Addr()
			resp, err := http.Get(base + pathNext)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for i, p := range tt.posts {
				resp, err := http.Post(base+pathInvocation+id+"/"+p.kind, "application/json", strings.NewReader(p.body))
				if err != nil {
					t.Fatal(err)
				}
				var answer struct{ ErrorType string }
				json.NewDecoder(resp.Body).Decode(&answer)
				resp.Body.Close()
				if resp.StatusCode != p.want || answer.ErrorType != p.wantType {
					t.Errorf("POST %d (%s): got %d %q, want %d %q", i, p.kind, resp.StatusCode, answer.ErrorType, p.want, p.wantType)
				}
			}
			res := s.Wait(t, id)
			first := tt.posts[0]
			if res.Error != (first.kind == "error") || string(res.Body) != first.body || res.Status != first.want || res.RequestID != id {
				t.Errorf("Wait: got error=%v body %q status %d id %q, want the first POST: error=%v %q %d %q",
					res.Error, res.Body, res.Status, res.RequestID, first.kind == "error", first.body, first.want, id)
			}
		})
	}
}

func TestPostUnknownID(t *testing.T) {
	s := Start(t)
	queued := s.Enqueue(Invocation{}) // enqueued but never handed out
	c := dial(t, s)
	for _, id := range []string{"never-enqueued", queued} {
		c.send(post(id, "response", "x"))
		resp, body := c.read()
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"errorType":"InvalidRequestID"`) {
			t.Errorf("POST for %s: got %d %s, want 400 InvalidRequestID", id, resp.StatusCode, body)
		}
		if res := s.Wait(t, id); res.Status != 400 {
			t.Errorf("Wait(%s): got status %d, want 400", id, res.Status)
		}
	}
}

func TestNextStatus(t *testing.T) {
	for _, tt := range []struct {
		status   int
		wantType string
	}{{500, "InternalServerError"}, {403, "InvalidStateTransition"}} {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			s := Start(t)
			id := s.Enqueue(Invocation{Payload: []byte(`{}`), NextStatus: tt.status})
			c := dial(t, s)
			c.send(getNext())
			resp, body := c.read()
			var answer struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal(body, &answer); err != nil || resp.StatusCode != tt.status || answer.ErrorType != tt.wantType || answer.ErrorMessage == "" {
				t.Errorf("got %d %s, want %d with errorType %s", resp.StatusCode, body, tt.status, tt.wantType)
			}
			if resp.Header.Get(headerRequestID) != "" {
				t.Errorf("got request id header %q on an error answer, want none", resp.Header.Get(headerRequestID))
			}
			c.send(post(id, "response", "x"))
			if resp, _ := c.read(); resp.StatusCode != 400 {
				t.Errorf("POST for the refused invocation: got %d, want 400", resp.StatusCode)
			}
		})
	}
}

// TestSlowNext: a next that arrives with nothing queued waits for Enqueue.
func TestSlowNext(t *testing.T) {
	s := Start(t)
	type got struct {
		id, body string
		err      error
	}
	done := make(chan got, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + pathNext)
		if err != nil {
			done <- got{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- got{resp.Header.Get(headerRequestID), string(body), err}
	}()
	s.WaitNext(t, 1)
	if reqs := s.Requests(); reqs[0].Status != 0 {
		t.Errorf("the waiting next's status: got %d, want 0", reqs[0].Status)
	}
	id := s.Enqueue(Invocation{Payload: []byte(`"late"`)})
	g := <-done
	if g.err != nil || g.id != id || g.body != `"late"` {
		t.Errorf("got %q %q (%v), want %q %q", g.id, g.body, g.err, id, `"late"`)
	}
}

// TestConcurrentNexts: nexts waiting on several connections get one
// invocation each.
func TestConcurrentNexts(t *testing.T) {
	const n = 4
	s := Start(t)
	conns := make([]*rawConn, n)
	for i := range conns {
		conns[i] = dial(t, s)
		conns[i].send(getNext())
	}
	s.WaitNext(t, n)
	var want []string
	for i := range n {
		want = append(want, s.Enqueue(Invocation{Payload: []byte(strconv.Itoa(i))}))
	}
	var got []string
	for _, c := range conns {
		resp, _ := c.read()
		got = append(got, resp.Header.Get(headerRequestID))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("handed out %q, want each of %q once", got, want)
	}
	seen := map[int]bool{}
	for _, r := range s.Requests() {
		seen[r.Conn] = true
	}
	if s.Conns() != n || len(seen) != n {
		t.Errorf("got %d connections, nexts on %d, want %d", s.Conns(), len(seen), n)
	}
}

// TestClientGoneNotHandedOut: an invocation is never handed to a next whose
// client closed its connection while it waited.
func TestClientGoneNotHandedOut(t *testing.T) {
	s := Start(t)
	c1 := dial(t, s)
	c1.send(getNext())
	s.WaitNext(t, 1)
	c1.nc.Close()
	s.WaitConnClosed(t, 1)
	id := s.Enqueue(Invocation{})
	c2 := dial(t, s)
	c2.send(getNext())
	if resp, _ := c2.read(); resp.Header.Get(headerRequestID) != id {
		t.Errorf("second connection got %q, want %q", resp.Header.Get(headerRequestID), id)
	}
	if r := s.Requests()[0]; r.Status != 0 || r.RequestID != "" {
		t.Errorf("abandoned next: got status %d id %q, want 0 and none", r.Status, r.RequestID)
	}
}

func TestCloseEndsWaitingNext(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	c.send(getNext())
	s.WaitNext(t, 1)
	s.Close()
	if !c.closed() {
		t.Error("the waiting next's connection: still open after Close, want closed without an answer")
	}
	s.Close() // again: no effect
}

// TestRecordsWire: requests are recorded byte for byte, pipelined ones too,
// and chunked bodies are decoded with their extensions and trailers.
func TestRecordsWire(t *testing.T) {
	s := Start(t)
	id := s.Enqueue(Invocation{})
	c := dial(t, s)
	c.send(getNext())
	c.read()
	chunked := "POST " + pathInvocation + id + "/error HTTP/1.1\r\nHost: fake\r\nUser-Agent: test\r\n" +
		"Transfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\n\r\n" +
		"3;a=b\r\n{\"e\r\n5 \r\nrror\"\r\n1\r\n}\r\n0\r\nlambda-runtime-function-error-type: Oops\r\n\r\n"
	plain := "POST " + pathInitError + " HTTP/1.1\r\nHost: fake\r\nContent-Length: 2\r\n\r\n{}"
	c.send(chunked + plain) // two requests in one write
	c.read()
	c.read()
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	r := reqs[1]
	if string(r.Raw) != chunked || !r.Chunked || string(r.Body) != `{"error"}` || r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "Oops" || r.Header.Get("Trailer") != "Lambda-Runtime-Function-Error-Type" || r.Proto != "HTTP/1.1" || r.Err != "" {
		t.Errorf("chunked request: got raw %q, chunked %v, body %q, trailer %q, header %q, err %q", r.Raw, r.Chunked, r.Body, r.Trailer, r.Header, r.Err)
	}
	if r := reqs[2]; string(r.Raw) != plain || r.Chunked || string(r.Body) != "{}" || r.Trailer != nil || r.Status != 202 {
		t.Errorf("plain request: got raw %q, chunked %v, body %q, trailer %q, status %d", r.Raw, r.Chunked, r.Body, r.Trailer, r.Status)
	}
	if got := s.InitError(t); string(got.Body) != "{}" {
		t.Errorf("InitError: got body %q, want {}", got.Body)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name, raw string
		want      int
		wantErr   string
	}{
		{"bare LF", "GET " + pathNext + " HTTP/1.1\nHost: fake\n\n", 400, "CRLF"},
		{"no Host", "GET " + pathNext + " HTTP/1.1\r\n\r\n", 400, "Host"},
		{"two Hosts", "GET " + pathNext + " HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host"},
		{"request line", "GET\r\n\r\n", 400, "request line"},
		{"protocol", "GET / HTTP/2.0\r\nHost: fake\r\n\r\n", 505, "protocol"},
		{"folded header", "GET / HTTP/1.1\r\nHost: fake\r\nX-A: 1\r\n 2\r\n\r\n", 400, "folding"},
		{"header name", "GET / HTTP/1.1\r\nHost: fake\r\nX A: 1\r\n\r\n", 400, "header line"},
		{"control character", "GET / HTTP/1.1\r\nHost: fake\r\nX-A: a\x01b\r\n\r\n", 400, "control"},
		{"Transfer-Encoding and Content-Length", "POST / HTTP/1.1\r\nHost: fake\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400, "both"},
		{"unknown coding", "POST / HTTP/1.1\r\nHost: fake\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Transfer-Encoding"},
		{"Content-Length", "POST / HTTP/1.1\r\nHost: fake\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"},
		{"conflicting Content-Length", "POST / HTTP/1.1\r\nHost: fake\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "Content-Length"},
		{"chunk size", "POST / HTTP/1.1\r\nHost: fake\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "chunk size"},
		{"chunk without CRLF", "POST / HTTP/1.1\r\nHost: fake\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n", 400, "CRLF"},
		{"too large", "POST / HTTP/1.1\r\nHost: fake\r\nContent-Length: 999999999999\r\n\r\n", 413, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t)
			c := dial(t, s)
			c.send(tt.raw)
			resp, body := c.read()
			if resp.StatusCode != tt.want || !strings.Contains(string(body), `"errorType":"InvalidRequest"`) || !resp.Close {
				t.Errorf("got %d %s (Connection: close %v), want %d with an error body and Connection: close", resp.StatusCode, body, resp.Close, tt.want)
			}
			if !c.closed() {
				t.Error("connection left open, want closed")
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Status != tt.want || !strings.Contains(reqs[0].Err, tt.wantErr) || len(reqs[0].Raw) == 0 {
				t.Errorf("recorded %+v, want one request answered %d with an error about %q", reqs, tt.want, tt.wantErr)
			}
		})
	}
}

// TestTruncated: a request cut short by its client is recorded, unanswered.
func TestTruncated(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	c.send("POST " + pathInitError + " HTTP/1.1\r\nHost: fake\r\nContent-Length: 10\r\n\r\nabc")
	c.nc.(*net.TCPConn).CloseWrite()
	s.WaitConnClosed(t, 1)
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Status != 0 || !strings.Contains(reqs[0].Err, "truncated") || !strings.HasSuffix(string(reqs[0].Raw), "\r\n\r\nabc") {
		t.Errorf("recorded %+v, want one truncated request, unanswered, raw ending in abc", reqs)
	}
}

func TestExpectContinue(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	c.send("POST " + pathInitError + " HTTP/1.1\r\nHost: fake\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
	if resp, _ := c.read(); resp.StatusCode != 100 {
		t.Fatalf("got %d, want 100 Continue before the body", resp.StatusCode)
	}
	c.send("{}")
	if resp, _ := c.read(); resp.StatusCode != 202 {
		t.Errorf("got %d, want 202", resp.StatusCode)
	}
	if got := s.InitError(t); string(got.Body) != "{}" {
		t.Errorf("body: got %q, want {}", got.Body)
	}
}

func TestClientClose(t *testing.T) {
	for _, tt := range []struct{ name, req string }{
		{"Connection: close", "GET /x HTTP/1.1\r\nHost: fake\r\nConnection: keep-alive, close\r\n\r\n"},
		{"HTTP/1.0", "GET /x HTTP/1.0\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t)
			c := dial(t, s)
			c.send(tt.req)
			resp, _ := c.read()
			if resp.StatusCode != 404 || !resp.Close || !c.closed() {
				t.Errorf("got %d, Connection: close %v, want 404 with Connection: close, then the connection closed", resp.StatusCode, resp.Close)
			}
		})
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/2018-06-01/runtime/invocation/id/other", 404},
		{"GET", "/2018-06-01/runtime/invocation//response", 404},
		{"GET", "/", 404},
		{"POST", pathNext, 405},
		{"GET", pathInvocation + "id/response", 405},
		{"GET", pathInitError, 405},
		{"GET", pathRegister, 405},
		{"POST", pathEventNext, 405},
	}
	s := Start(t)
	c := dial(t, s)
	for _, tt := range tests {
		c.send(tt.method + " " + tt.path + " HTTP/1.1\r\nHost: fake\r\nContent-Length: 0\r\n\r\n")
		if resp, _ := c.read(); resp.StatusCode != tt.want {
			t.Errorf("%s %s: got %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
	reqs := s.Requests()
	if len(reqs) != len(tests) {
		t.Fatalf("recorded %d requests, want %d", len(reqs), len(tests))
	}
	for i, r := range reqs {
		if r.Method != tests[i].method || r.Path != tests[i].path || r.Status != tests[i].want {
			t.Errorf("request %d: recorded %s %s %d, want %s %s %d", i, r.Method, r.Path, r.Status, tests[i].method, tests[i].path, tests[i].want)
		}
	}
}

func TestExtensions(t *testing.T) {
	s := Start(t)
	base := "http://" + s.Addr()
	register := func(name, events string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+pathRegister, strings.NewReader(`{"events":`+events+`}`))
		if name != "" {
			req.Header.Set(headerExtName, name)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp, resp.Header.Get(headerExtID)
	}
	resp, quiet := register("GoLangEnableSIGTERM", "[]")
	if resp.StatusCode != 200 || quiet == "" {
		t.Fatalf("register: got %d, identifier %q, want 200 and an identifier", resp.StatusCode, quiet)
	}
	_, listener := register("listener", `["SHUTDOWN"]`)
	if resp, _ := register("", "[]"); resp.StatusCode != 400 {
		t.Errorf("register without a name: got %d, want 400", resp.StatusCode)
	}

	// The quiet extension waits in event/next; the listener gets SHUTDOWN.
	cq := dial(t, s)
	cq.send("GET " + pathEventNext + " HTTP/1.1\r\nHost: fake\r\n" + headerExtID + ": " + quiet + "\r\n\r\n")
	cl := dial(t, s)
	cl.send("GET " + pathEventNext + " HTTP/1.1\r\nHost: fake\r\n" + headerExtID + ": " + listener + "\r\n\r\n")
	s.WaitFor(t, "two event/next", func(reqs []Request) bool {
		n := 0
		for _, r := range reqs {
			if r.Path == pathEventNext {
				n++
			}
		}
		return n == 2
	})
	s.Shutdown()
	resp, body := cl.read()
	var event struct {
		EventType  string
		DeadlineMs int64
	}
	if err := json.Unmarshal(body, &event); err != nil || resp.StatusCode != 200 || event.EventType != "SHUTDOWN" || event.DeadlineMs == 0 {
		t.Errorf("listener's event: got %d %s, want 200 with a SHUTDOWN event", resp.StatusCode, body)
	}

	cu := dial(t, s)
	cu.send("GET " + pathEventNext + " HTTP/1.1\r\nHost: fake\r\n" + headerExtID + ": nobody\r\n\r\n")
	if resp, _ := cu.read(); resp.StatusCode != 403 {
		t.Errorf("event/next of an unknown extension: got %d, want 403", resp.StatusCode)
	}

	s.SetRegisterStatus(500)
	if resp, id := register("late", "[]"); resp.StatusCode != 500 || id != "" {
		t.Errorf("register after SetRegisterStatus(500): got %d, identifier %q, want 500 and none", resp.StatusCode, id)
	}
	if regs := s.Registrations(); len(regs) != 4 || regs[0].Header.Get(headerExtName) != "GoLangEnableSIGTERM" || string(regs[1].Body) != `{"events":["SHUTDOWN"]}` {
		t.Errorf("Registrations: got %+v, want the 4 registrations in order", regs)
	}

	// The quiet extension is never answered: Close ends its wait with nothing.
	s.Close()
	if !cq.closed() {
		t.Error("quiet extension's event/next: got an answer, want none")
	}
}

// fatalTB records the message of Fatalf and ends the goroutine as
// testing.T's does.
type fatalTB struct {
	testing.TB
	msg chan string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestWaitFails: a wait for what never comes fails the test, naming it and
// listing the requests; it never hangs.
func TestWaitFails(t *testing.T) {
	s := Start(t)
	s.timeout = time.Millisecond
	c := dial(t, s)
	c.send("GET /x HTTP/1.1\r\nHost: fake\r\n\r\n")
	c.read()
	tb := &fatalTB{TB: t, msg: make(chan string, 1)}
	go func() {
		s.Wait(tb, "never")
		tb.msg <- "Wait returned"
	}()
	if got := <-tb.msg; !strings.Contains(got, "for never") || !strings.Contains(got, "GET /x -> 404") {
		t.Errorf("got %q, want a failure naming the wait and listing GET /x -> 404", got)
	}
}

func TestEnqueuePanics(t *testing.T) {
	s := Start(t)
	s.Enqueue(Invocation{RequestID: "dup"})
	for name, inv := range map[string]Invocation{
		"duplicate id":                {RequestID: "dup"},
		"chunked and close-delimited": {Chunked: true, CloseDelimited: true},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Enqueue did not panic")
				}
			}()
			s.Enqueue(inv)
		})
	}
}

// TestAWSLambdaGo runs a function on aws-lambda-go's own runtime loop
// against the server: it reuses one connection, posts chunked bodies with
// declared trailers, and reports an error as aws-lambda-go does.
func TestAWSLambdaGo(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("function binaries are built for Linux")
	}
	bin := testenv.BuildFunction(t, "./testdata/echo")
	s := Start(t)
	cmd := exec.Command(bin)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + s.Addr()}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("function output:\n%s", out.String())
		}
	})

	echo := s.Enqueue(Invocation{Payload: []byte(`{"echo":"hi"}`), Chunked: true})
	res := s.Wait(t, echo)
	if res.Error || string(res.Body) != `{"echo":"hi"}` || res.Status != 202 {
		t.Errorf("echo: got error=%v body %q status %d, want the payload, accepted", res.Error, res.Body, res.Status)
	}
	fail := s.Enqueue(Invocation{Payload: []byte(`{"fail":"boom"}`)})
	res = s.Wait(t, fail)
	if !res.Error || string(res.Body) != `{"errorMessage":"boom","errorType":"errorString"}` || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("fail: got error=%v body %q Content-Type %q, want aws-lambda-go's error body", res.Error, res.Body, res.Header.Get("Content-Type"))
	}
	if cause := res.Header.Get("Lambda-Runtime-Function-Xray-Error-Cause"); !strings.Contains(cause, `"message":"boom"`) {
		t.Errorf("X-Ray cause: got %q, want one with the message", cause)
	}
	s.WaitNext(t, 3)

	reqs := s.Requests()
	if len(reqs) != 5 {
		t.Fatalf("got %d requests, want next, response, next, error, next:\n%s", len(reqs), s.summary())
	}
	for i, r := range reqs {
		if r.Conn != 1 || r.Err != "" || !strings.HasPrefix(r.Header.Get("User-Agent"), "aws-lambda-go/") {
			t.Errorf("request %d: conn %d, err %q, User-Agent %q; want conn 1, well formed, from aws-lambda-go", i, r.Conn, r.Err, r.Header.Get("User-Agent"))
		}
		if r.Method != "POST" {
			continue
		}
		trailer := r.Header.Get("Trailer")
		if !r.Chunked || !strings.Contains(trailer, "Lambda-Runtime-Function-Error-Type") || !strings.Contains(trailer, "Lambda-Runtime-Function-Error-Body") || r.Trailer == nil || len(r.Trailer) != 0 {
			t.Errorf("POST %d: chunked %v, Trailer header %q, trailers %q; want chunked with both trailers declared and none sent", i, r.Chunked, trailer, r.Trailer)
		}
		if !bytes.Contains(r.Raw, []byte("Transfer-Encoding: chunked\r\n")) || !bytes.HasSuffix(r.Raw, []byte("\r\n0\r\n\r\n")) {
			t.Errorf("POST %d on the wire: %q, want chunked framing", i, r.Raw)
		}
	}
	if s.Conns() != 1 {
		t.Errorf("got %d connections, want 1 kept alive", s.Conns())
	}
}

// syncBuffer is a bytes.Buffer safe for the writes of a process's output
// and a read at the end.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FuzzReadRequest: the request parser never panics, records only bytes it
// was given, reads a request again the same from its recorded bytes alone,
// and agrees with net/http on the body of any request both accept.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte(getNext()))
	f.Add([]byte(post("id", "response", `{"a":1}`)))
	f.Add([]byte("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3;a=b\r\nabc\r\n1 \r\nd\r\n0\r\nX-T: 1\r\n\r\n"))
	f.Add([]byte("POST /p HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\nHost: h\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var req Request
		r := reader{br: bufio.NewReaderSize(bytes.NewReader(in), maxLine)}
		err := r.readRequest(&req, nil)
		if !bytes.HasPrefix(in, req.Raw) {
			t.Fatalf("recorded %q, not a prefix of the input %q", req.Raw, in)
		}
		if err != nil {
			return
		}
		var again Request
		r = reader{br: bufio.NewReaderSize(bytes.NewReader(req.Raw), maxLine)}
		if err := r.readRequest(&again, nil); err != nil || !bytes.Equal(again.Body, req.Body) ||
			!reflect.DeepEqual(again.Header, req.Header) || !reflect.DeepEqual(again.Trailer, req.Trailer) {
			t.Fatalf("read again from %q: got %+v (%v), want %+v", req.Raw, again, err, req)
		}
		hreq, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(req.Raw)))
		if err != nil {
			return
		}
		if body, err := io.ReadAll(hreq.Body); err == nil && !bytes.Equal(body, req.Body) {
			t.Fatalf("body of %q: got %q, net/http reads %q", req.Raw, req.Body, body)
		}
	})
}

// TestCloseAfterRegister: after CloseAfterRegister the registration is
// answered, then its connection closed, and a next pipelined after it on
// that connection is left unanswered (nothing is handed out to it).
func TestCloseAfterRegister(t *testing.T) {
	s := Start(t)
	s.CloseAfterRegister()
	id := s.Enqueue(Invocation{Payload: []byte(`1`)})
	c := dial(t, s)
	body := `{"events":[]}`
	c.send(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: fake\r\n%s: x\r\nContent-Length: %d\r\n\r\n%s", pathRegister, headerExtName, len(body), body) + getNext())
	resp, _ := c.read()
	if resp.StatusCode != 200 || resp.Header.Get(headerExtID) == "" || resp.Close {
		t.Errorf("register: got %d, identifier %q, Connection: close %v, want 200, an identifier and no Connection: close", resp.StatusCode, resp.Header.Get(headerExtID), resp.Close)
	}
	if !c.closed() {
		t.Fatal("connection left open after the registration, want closed")
	}
	c2 := dial(t, s)
	c2.send(getNext())
	if resp, body := c2.read(); resp.StatusCode != 200 || resp.Header.Get(headerRequestID) != id || string(body) != `1` {
		t.Errorf("next on a new connection: got %d, id %q, body %s, want 200 with the invocation %s", resp.StatusCode, resp.Header.Get(headerRequestID), body, id)
	}
}
