package fakeruntime

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// WaitTimeout bounds every wait of a [Server]: a wait that has not seen
// what it waits for by then fails the test. It is generous, so that only a
// function that never sends what the test expects reaches it.
const WaitTimeout = 30 * time.Second

// Omit, as the value of a standard header in [Invocation.Header], leaves
// that header out of the answer to next.
const Omit = "\x00"

// FunctionARN is the Lambda-Runtime-Invoked-Function-Arn the server sends
// unless an invocation overrides it.
const FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:fakeruntime"

// ResponseLimit is Lambda's limit on a buffered response, in bytes, for
// tests that set [Invocation.MaxResponseBody] as Lambda would.
const ResponseLimit = 6 << 20

const (
	pathNext       = "/2018-06-01/runtime/invocation/next"
	pathInvocation = "/2018-06-01/runtime/invocation/"
	pathInitError  = "/2018-06-01/runtime/init/error"
	pathRegister   = "/2020-01-01/extension/register"
	pathEventNext  = "/2020-01-01/extension/event/next"

	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerExtName     = "Lambda-Extension-Name"
	headerExtID       = "Lambda-Extension-Identifier"
	headerExtEventID  = "Lambda-Extension-Event-Identifier"
)

// Invocation is one invocation for the server to hand out, and how to
// misbehave while doing so. The zero value of every knob is Lambda's own
// behaviour.
type Invocation struct {
	Payload []byte

	// RequestID is sent as Lambda-Runtime-Aws-Request-Id; "" means a fresh
	// random UUID. Enqueueing the same id twice panics.
	RequestID string

	// Deadline is sent as Lambda-Runtime-Deadline-Ms; the zero time means
	// 30 s after the invocation is handed out.
	Deadline time.Time

	// The answer to next is a function of the fields above, but for a zero
	// Deadline, a zero RequestID and the Date header: the trace id is
	// derived from the request id. So a differential test that sets both
	// gets the same answers from two servers.

	// Header adds headers to the answer to next, or overrides the standard
	// ones (Content-Type, Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
	// -Invoked-Function-Arn, -Trace-Id); the value [Omit] leaves a standard
	// header out. Keys are canonicalised. Lambda-Runtime-Client-Context,
	// -Cognito-Identity and -Aws-Tenant-Id are sent only when set here.
	// Headers that frame the body (Content-Length, Transfer-Encoding) are
	// added as further lines, not overrides.
	Header map[string]string

	// Chunked sends the payload with Transfer-Encoding: chunked, in separate
	// writes: chunks of 1 and 7 bytes (the first with a chunk extension),
	// the rest in one chunk, and a trailer field.
	Chunked bool

	// CloseDelimited sends the payload with neither Content-Length nor
	// Transfer-Encoding, ended by closing the connection (HTTP/1.0 style).
	// It cannot be combined with Chunked.
	CloseDelimited bool

	// NextStatus, when neither 0 nor 200, answers next with this status and
	// a JSON error body, as Lambda does with 403 and 500 (the runtime should
	// exit); the invocation is used up and never handed out.
	NextStatus int

	// NextConnectionClose answers next with Connection: close and closes
	// the connection.
	NextConnectionClose bool

	// CloseAfterNext closes the connection right after answering next,
	// without a Connection: close header: the function's POST must
	// reconnect.
	CloseAfterNext bool

	// CloseAfterResult closes the connection after answering the
	// function's POST for this invocation, without a Connection: close
	// header.
	CloseAfterResult bool

	// ConnectionClose answers the function's POST for this invocation with
	// Connection: close, then closes the connection.
	ConnectionClose bool

	// ResponseStatus is the status for POST .../response; 0 means 202. A
	// status that is not 2xx comes with Lambda's JSON error body (413:
	// {"errorMessage":"...","errorType":"RequestEntityTooLarge"}).
	ResponseStatus int

	// ErrorStatus is the status for POST .../error; 0 means 202.
	ErrorStatus int

	// MaxResponseBody, when > 0, answers 413 to a response POST whose body
	// is larger. [ResponseLimit] is Lambda's.
	MaxResponseBody int

	// MaxErrorBody, when > 0, answers 413 to an error POST whose body is
	// larger.
	MaxErrorBody int
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // the request target as sent, e.g. /2018-06-01/runtime/invocation/ID/response
	Proto  string // HTTP/1.1 or HTTP/1.0

	// Header is the header section as received, with canonical keys. A
	// Trailer header, when sent, declares the trailer fields.
	Header http.Header

	// Trailer is the trailer section of a chunked body; nil otherwise.
	Trailer http.Header

	// Body is the body after transfer decoding.
	Body []byte

	// Chunked reports whether the body came with Transfer-Encoding: chunked.
	Chunked bool

	// Raw is the request exactly as it came on the wire: request line,
	// header section, body in its transfer coding, trailer section.
	Raw []byte

	// Conn is which accepted connection carried it: 1, 2, ...
	Conn int

	// RequestID is, for a next, the id of the invocation it was answered
	// with, and for a POST of a response or error, the id in its path.
	RequestID string

	// Status is what the server answered; 0 while it has not answered, and
	// for a request it never will (a next whose client went away).
	Status int

	// Err says why the request could not be read as HTTP/1.1, "" when it
	// was well formed.
	Err string
}

// Result is the function's POST of a response (Error false) or an error
// (Error true) for one invocation.
type Result struct {
	Request
	Error bool
}

// Server is a fake Runtime and Extensions API. Its methods are safe for
// concurrent use.
type Server struct {
	ln      net.Listener
	wg      sync.WaitGroup // the accept loop and every connection's goroutine
	timeout time.Duration  // bounds the waits; WaitTimeout but in the package's own tests

	mu             sync.Mutex    // guards the fields below
	change         chan struct{} // closed and replaced whenever a field below changes
	closed         bool
	conns          int              // connections accepted
	open           map[int]net.Conn // connections not yet ended, by number
	ended          map[int]bool     // connections ended, by number
	queue          []*invocation    // enqueued, not yet handed out
	ids            map[string]*invocation
	reqs           []Request
	results        map[string]int      // index in reqs of the first POST naming each request id
	extensions     map[string][]string // registered extensions' events, by identifier
	shutdown       bool
	registerStatus int
	registerClose  bool
}

// invocation is an enqueued Invocation and its state.
type invocation struct {
	Invocation
	id        string
	handedOut bool // answered a next with 200
	accepted  bool // a POST for it was answered 2xx
}

// Start starts a server on a loopback port. A t.Cleanup closes it.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakeruntime: listen: %v", err)
	}
	s := &Server{
		ln:         ln,
		timeout:    WaitTimeout,
		change:     make(chan struct{}),
		open:       map[int]net.Conn{},
		ended:      map[int]bool{},
		ids:        map[string]*invocation{},
		results:    map[string]int{},
		extensions: map[string][]string{},
	}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Addr returns the server's host:port, the value for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server: it closes the listener and every connection, so
// that a next or an extension's event/next still waiting ends without an
// answer, and waits for its goroutines. It may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.changed()
	open := make([]net.Conn, 0, len(s.open))
	for _, nc := range s.open {
		open = append(open, nc)
	}
	s.mu.Unlock()
	s.ln.Close()
	for _, nc := range open {
		nc.Close()
	}
	s.wg.Wait()
}

// Enqueue queues inv for a next and returns its request id. A next waiting
// already gets it at once.
func (s *Server) Enqueue(inv Invocation) string {
	if inv.Chunked && inv.CloseDelimited {
		panic("fakeruntime: an invocation cannot be both Chunked and CloseDelimited")
	}
	id := inv.RequestID
	if id == "" {
		id = newUUID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.ids[id]; dup {
		panic(fmt.Sprintf("fakeruntime: request id %q enqueued twice", id))
	}
	p := &invocation{Invocation: inv, id: id}
	s.ids[id] = p
	s.queue = append(s.queue, p)
	s.changed()
	return id
}

// Shutdown makes the server send a SHUTDOWN event to every extension
// registered for SHUTDOWN, now or when it next calls event/next. (Sending
// the function SIGTERM is the test's part.)
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown = true
	s.changed()
}

// SetRegisterStatus makes every later extension registration answer
// status, with a JSON error body unless status is 200; 0 restores 200.
func (s *Server) SetRegisterStatus(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerStatus = status
}

// CloseAfterRegister makes the server close the connection right after it
// answers each later extension registration, without a Connection: close
// header: a client that pipelined a request after the registration finds
// the connection closed when it reads that request's answer.
func (s *Server) CloseAfterRegister() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerClose = true
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Registrations returns the extension registrations received so far.
func (s *Server) Registrations() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var regs []Request
	for _, r := range s.reqs {
		if routePath(r.Path) == pathRegister {
			regs = append(regs, r)
		}
	}
	return regs
}

// Conns returns how many TCP connections the server has accepted.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Wait waits for the function's first POST of a response or an error for
// requestID, and returns it once it has been answered (and its connection
// closed, when the invocation asked for that). A later POST for the same id
// is in [Server.Requests].
func (s *Server) Wait(t testing.TB, requestID string) Result {
	t.Helper()
	var res Result
	s.wait(t, "POST of a response or error for "+requestID, func() bool {
		i, ok := s.results[requestID]
		if ok {
			res = Result{Request: s.reqs[i], Error: strings.HasSuffix(routePath(s.reqs[i].Path), "/error")}
		}
		return ok
	})
	return res
}

// WaitNext waits until n GET next requests have arrived in all, answered or
// not: with n one more than the invocations handed out so far, it returns
// once the function is blocked in next.
func (s *Server) WaitNext(t testing.TB, n int) {
	t.Helper()
	s.wait(t, fmt.Sprintf("%d GET next requests", n), func() bool {
		got := 0
		for _, r := range s.reqs {
			if r.Method == http.MethodGet && routePath(r.Path) == pathNext {
				got++
			}
		}
		return got >= n
	})
}

// InitError waits for a POST of an initialisation error, and returns the
// first once it has been answered.
func (s *Server) InitError(t testing.TB) Request {
	t.Helper()
	var req Request
	s.wait(t, "POST of an init error", func() bool {
		for _, r := range s.reqs {
			if routePath(r.Path) == pathInitError && r.Status != 0 {
				req = r
				return true
			}
		}
		return false
	})
	return req
}

// WaitConnClosed waits until connection n (as in [Request.Conn]) has ended,
// closed by either side.
func (s *Server) WaitConnClosed(t testing.TB, n int) {
	t.Helper()
	s.wait(t, fmt.Sprintf("the end of connection %d", n), func() bool { return s.ended[n] })
}

// WaitFor waits until done, called with every request received so far,
// returns true, and returns those requests. done is called with the server's
// lock held, whenever something changed: it must not call the server's
// methods, nor keep or modify reqs. what names the wait in the failure
// message.
func (s *Server) WaitFor(t testing.TB, what string, done func(reqs []Request) bool) []Request {
	t.Helper()
	var reqs []Request
	s.wait(t, what, func() bool {
		if !done(s.reqs) {
			return false
		}
		reqs = slices.Clone(s.reqs)
		return true
	})
	return reqs
}

// wait calls ready, with s.mu held, until it returns true; it fails t when
// s.timeout passes first, or the server is closed.
func (s *Server) wait(t testing.TB, what string, ready func() bool) {
	t.Helper()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if ready() {
			s.mu.Unlock()
			return
		}
		ch, closed := s.change, s.closed
		s.mu.Unlock()
		if closed {
			t.Fatalf("fakeruntime: the server closed while waiting for %s; requests:\n%s", what, s.summary())
		}
		select {
		case <-ch:
		case <-timer.C:
			t.Fatalf("fakeruntime: waited %v for %s in vain; requests:\n%s", s.timeout, what, s.summary())
		}
	}
}

// summary lists the requests received, one a line, for failure messages.
func (s *Server) summary() string {
	var b strings.Builder
	for _, r := range s.Requests() {
		fmt.Fprintf(&b, "  conn %d: %s %s -> %d (%d body bytes)", r.Conn, r.Method, r.Path, r.Status, len(r.Body))
		if r.Err != "" {
			fmt.Fprintf(&b, " error: %s", r.Err)
		}
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// changed wakes every wait. The caller holds s.mu.
func (s *Server) changed() {
	close(s.change)
	s.change = make(chan struct{})
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return // closed; a test that still needed the server fails in its wait
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns++
		c := &conn{s: s, n: s.conns, nc: nc, r: reader{br: bufio.NewReaderSize(nc, maxLine)}}
		s.open[c.n] = nc
		s.changed()
		s.mu.Unlock()
		s.wg.Add(1)
		go c.serve()
	}
}

// conn is one accepted connection, served by one goroutine.
type conn struct {
	s  *Server
	n  int
	nc net.Conn
	r  reader

	// The watcher: while the server has nothing to send, a goroutine peeks
	// at the connection to see the client close it. watchErr is written
	// before watchDone is closed and read after.
	watchDone chan struct{}
	watchErr  error
}

func (c *conn) serve() {
	defer c.s.wg.Done()
	defer c.end()
	for {
		if c.watchDone != nil {
			<-c.watchDone // the reader is the watcher's until it returns
			c.watchDone, c.watchErr = nil, nil
		}
		var req Request
		err := c.r.readRequest(&req, c.writeContinue)
		if err != nil && req.Raw == nil {
			return // the connection ended between requests
		}
		req.Conn = c.n
		if err != nil {
			req.Err = err.Error()
			idx := c.record(&req)
			var m *malformedError
			if errors.As(err, &m) {
				c.answered(idx, m.status, "")
				a := errorAnswer(m.status, "InvalidRequest", m.msg)
				a.close = true
				if a.write(c.nc) == nil {
					c.drain()
				}
			}
			return
		}
		if !c.handle(&req) {
			return
		}
	}
}

// drain ends the server's side of the connection and reads what the client
// still sends, for a second at most, before end closes it: closing a socket
// with unread bytes resets the connection, and a reset can destroy the
// answer before the client reads it.
func (c *conn) drain() {
	tc, ok := c.nc.(*net.TCPConn)
	if !ok || tc.CloseWrite() != nil {
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.Copy(io.Discard, c.r.br)
}

// end closes the connection and notes that it ended.
func (c *conn) end() {
	c.nc.Close()
	if c.watchDone != nil {
		<-c.watchDone
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	delete(c.s.open, c.n)
	c.s.ended[c.n] = true
	c.s.changed()
}

func (c *conn) writeContinue() error {
	_, err := c.nc.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
	return err
}

// record appends req to the server's record and returns its index.
func (c *conn) record(req *Request) int {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.reqs = append(c.s.reqs, *req)
	c.s.changed()
	return len(c.s.reqs) - 1
}

// answered notes the status a recorded request was answered with.
func (c *conn) answered(idx, status int, requestID string) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.answeredLocked(idx, status, requestID)
}

func (s *Server) answeredLocked(idx, status int, requestID string) {
	s.reqs[idx].Status = status
	s.reqs[idx].RequestID = requestID
	s.changed()
}

// handle records req, answers it, and reports whether the connection goes
// on to the next request.
func (c *conn) handle(req *Request) bool {
	idx := c.record(req)
	path := routePath(req.Path)
	var method string
	var serve func(idx int, req *Request) (keep bool)
	switch {
	case path == pathNext:
		method, serve = http.MethodGet, c.next
	case path == pathInitError:
		method, serve = http.MethodPost, c.initError
	case path == pathRegister:
		method, serve = http.MethodPost, c.register
	case path == pathEventNext:
		method, serve = http.MethodGet, c.eventNext
	case strings.HasPrefix(path, pathInvocation):
		id, kind, _ := strings.Cut(path[len(pathInvocation):], "/")
		if id != "" && (kind == "response" || kind == "error") {
			method = http.MethodPost
			serve = func(idx int, req *Request) bool { return c.result(idx, req, id, kind == "error") }
		}
	}
	var a answer
	switch {
	case serve == nil:
		a = errorAnswer(http.StatusNotFound, "NotFound", "no such path in the Runtime or Extensions API")
	case req.Method != method:
		a = errorAnswer(http.StatusMethodNotAllowed, "MethodNotAllowed", req.Method+" is not allowed here; use "+method)
	default:
		return serve(idx, req)
	}
	return c.send(idx, req, a, "", false)
}

// send notes a's status and writes a as the answer to req; it reports
// whether the connection goes on, and closeAfter closes it after the answer.
// The status is noted first, so that a client that has its answer finds it
// in the record.
func (c *conn) send(idx int, req *Request, a answer, requestID string, closeAfter bool) bool {
	c.answered(idx, a.status, requestID)
	a.close = a.close || wantsClose(req)
	err := a.write(c.nc)
	keep := err == nil && !a.close && !closeAfter && a.framing != untilClose
	if !keep {
		c.nc.Close()
	}
	return keep
}

// await waits until ready, called with the server's lock held, returns
// true, and then returns true with the lock still held. It returns false,
// without the lock, when the server closes or the client closes the
// connection first.
func (c *conn) await(ready func() bool) bool {
	var gone <-chan struct{}
	for {
		c.s.mu.Lock()
		if c.s.closed {
			c.s.mu.Unlock()
			return false
		}
		if ready() {
			return true
		}
		ch := c.s.change
		c.s.mu.Unlock()
		if gone == nil && c.watchDone == nil {
			gone = c.watch()
		}
		select {
		case <-ch:
		case <-gone:
			if c.watchErr != nil {
				return false
			}
			gone = nil // the client sent more before its answer; it is read later
		}
	}
}

// watch starts the watcher and returns the channel it closes when the
// client sent anything or the connection ended.
func (c *conn) watch() <-chan struct{} {
	done := make(chan struct{})
	c.watchDone = done
	go func() {
		_, c.watchErr = c.r.br.Peek(1)
		close(done)
	}()
	return done
}

// next hands the next queued invocation to a GET next.
func (c *conn) next(idx int, req *Request) bool {
	var p *invocation
	var a answer
	ok := c.await(func() bool {
		if len(c.s.queue) == 0 {
			return false
		}
		p = c.s.queue[0]
		c.s.queue = c.s.queue[1:]
		a = p.nextAnswer()
		// Handed out before it is written: the function may post its
		// result on another connection before this goroutine runs again.
		p.handedOut = a.status == http.StatusOK
		return true
	})
	if !ok {
		return false
	}
	c.s.mu.Unlock()
	return c.send(idx, req, a, p.id, p.CloseAfterNext)
}

// nextAnswer builds the answer to a next that hands out p.
func (p *invocation) nextAnswer() answer {
	if p.NextStatus != 0 && p.NextStatus != http.StatusOK {
		typ, msg := "InternalServerError", "Container error. Non-recoverable state. The runtime should exit promptly."
		if p.NextStatus == http.StatusForbidden {
			typ, msg = "InvalidStateTransition", "State transition from Running to Ready failed for runtime."
		}
		a := errorAnswer(p.NextStatus, typ, msg)
		a.close = p.NextConnectionClose
		return a
	}
	deadline := p.Deadline
	if deadline.IsZero() {
		deadline = time.Now().Add(30 * time.Second)
	}
	header := [][2]string{
		{"Content-Type", "application/json"},
		{headerRequestID, p.id},
		{headerDeadline, strconv.FormatInt(deadline.UnixMilli(), 10)},
		{headerFunctionARN, FunctionARN},
		{headerTraceID, traceID(p.id)},
	}
	keys := make([]string, 0, len(p.Header))
	for k := range p.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := p.Header[k]
		k = textproto.CanonicalMIMEHeaderKey(k)
		i := slices.IndexFunc(header, func(kv [2]string) bool { return kv[0] == k })
		switch {
		case i >= 0 && v == Omit:
			header = slices.Delete(header, i, i+1)
		case i >= 0:
			header[i][1] = v
		case v != Omit:
			header = append(header, [2]string{k, v})
		}
	}
	a := answer{status: http.StatusOK, header: header, body: p.Payload, close: p.NextConnectionClose}
	switch {
	case p.Chunked:
		a.framing = withChunks
	case p.CloseDelimited:
		a.framing = untilClose
	}
	return a
}

// result answers the function's POST of a response or error for id.
func (c *conn) result(idx int, req *Request, id string, isError bool) bool {
	c.s.mu.Lock()
	p := c.s.ids[id]
	var a answer
	switch {
	case p == nil || !p.handedOut:
		a = errorAnswer(http.StatusBadRequest, "InvalidRequestID", "Invalid request ID: "+strconv.Quote(id))
	case p.accepted:
		a = errorAnswer(http.StatusForbidden, "InvalidStateTransition", "Invalid state transition: invocation "+id+" has already been answered")
	default:
		status, limit := p.ResponseStatus, p.MaxResponseBody
		if isError {
			status, limit = p.ErrorStatus, p.MaxErrorBody
		}
		switch {
		case limit > 0 && len(req.Body) > limit:
			status = http.StatusRequestEntityTooLarge
		case status == 0:
			status = http.StatusAccepted
		}
		p.accepted = status >= 200 && status < 300
		a = statusAnswer(status, limit)
	}
	c.s.answeredLocked(idx, a.status, id)
	c.s.mu.Unlock()

	closeAfter := false
	if p != nil {
		a.close = p.ConnectionClose
		closeAfter = p.CloseAfterResult
	}
	a.close = a.close || wantsClose(req)
	err := a.write(c.nc)
	keep := err == nil && !a.close && !closeAfter
	if !keep {
		c.nc.Close()
	}

	// Only now is it a result for Wait: answered, and closed if it had to be.
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if _, ok := c.s.results[id]; !ok {
		c.s.results[id] = idx
		c.s.changed()
	}
	return keep
}

// statusAnswer is the answer to a POST that the server decided to answer
// status; limit is the body limit that applied, if any.
func statusAnswer(status, limit int) answer {
	switch {
	case status >= 200 && status < 300:
		return answer{status: status, header: [][2]string{{"Content-Type", "application/json"}}, body: []byte(`{"status":"OK"}`)}
	case status == http.StatusRequestEntityTooLarge:
		if limit <= 0 {
			limit = ResponseLimit
		}
		return errorAnswer(status, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", limit))
	case status == http.StatusForbidden:
		return errorAnswer(status, "InvalidStateTransition", "Invalid state transition")
	case status == http.StatusBadRequest:
		return errorAnswer(status, "InvalidRequestID", "Invalid request ID")
	case status >= 500:
		return errorAnswer(status, "InternalServerError", "Internal Server Error")
	}
	return errorAnswer(status, strings.ReplaceAll(http.StatusText(status), " ", ""), http.StatusText(status))
}

// errorAnswer is an answer with Lambda's JSON error body.
func errorAnswer(status int, typ, msg string) answer {
	body, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	return answer{status: status, header: [][2]string{{"Content-Type", "application/json"}}, body: body}
}

func (c *conn) initError(idx int, req *Request) bool {
	return c.send(idx, req, statusAnswer(http.StatusAccepted, 0), "", false)
}

// register answers an extension's registration.
func (c *conn) register(idx int, req *Request) bool {
	var body struct {
		Events []string `json:"events"`
	}
	name := req.Header.Get(headerExtName)
	if name == "" {
		return c.send(idx, req, errorAnswer(http.StatusBadRequest, "InvalidRequest", "missing header "+headerExtName), "", false)
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return c.send(idx, req, errorAnswer(http.StatusBadRequest, "InvalidRequest", "malformed registration body"), "", false)
	}
	c.s.mu.Lock()
	status, closeAfter := c.s.registerStatus, c.s.registerClose
	var id string
	if status == 0 || status == http.StatusOK {
		status = http.StatusOK
		id = newUUID()
		c.s.extensions[id] = body.Events
	}
	c.s.mu.Unlock()
	if status != http.StatusOK {
		return c.send(idx, req, statusAnswer(status, 0), "", closeAfter)
	}
	a := answer{
		status: http.StatusOK,
		header: [][2]string{{"Content-Type", "application/json"}, {headerExtID, id}},
		body:   []byte(`{"functionName":"fakeruntime","functionVersion":"$LATEST","handler":"bootstrap"}`),
	}
	return c.send(idx, req, a, "", closeAfter)
}

// eventNext answers an extension's event/next: SHUTDOWN, once the test
// called Shutdown, to an extension registered for it; nothing ever to one
// registered for no events.
func (c *conn) eventNext(idx int, req *Request) bool {
	id := req.Header.Get(headerExtID)
	c.s.mu.Lock()
	events, ok := c.s.extensions[id]
	c.s.mu.Unlock()
	if !ok {
		return c.send(idx, req, errorAnswer(http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "unknown "+headerExtID), "", false)
	}
	if !c.await(func() bool { return c.s.shutdown && slices.Contains(events, "SHUTDOWN") }) {
		return false
	}
	c.s.mu.Unlock()
	body := fmt.Sprintf(`{"eventType":"SHUTDOWN","shutdownReason":"SPINDOWN","deadlineMs":%d}`, time.Now().Add(2*time.Second).UnixMilli())
	a := answer{
		status: http.StatusOK,
		header: [][2]string{{"Content-Type", "application/json"}, {headerExtEventID, newUUID()}},
		body:   []byte(body),
	}
	return c.send(idx, req, a, "", false)
}

// routePath is a request target without its query.
func routePath(target string) string {
	path, _, _ := strings.Cut(target, "?")
	return path
}

// wantsClose reports whether the client asked to close the connection
// after this request.
func wantsClose(req *Request) bool {
	var closeTok, keepAlive bool
	for _, v := range req.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.TrimSpace(tok)
			closeTok = closeTok || strings.EqualFold(tok, "close")
			keepAlive = keepAlive || strings.EqualFold(tok, "keep-alive")
		}
	}
	return closeTok || (req.Proto == "HTTP/1.0" && !keepAlive)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// traceID returns an X-Ray trace header shaped as Lambda sends it, derived
// from the request id so that the same invocation enqueued in two servers
// (a differential test) gets the same one.
func traceID(requestID string) string {
	b := sha256.Sum256([]byte(requestID))
	return fmt.Sprintf("Root=1-%x-%x;Parent=%x;Sampled=1", b[:4], b[4:16], b[16:24])
}
