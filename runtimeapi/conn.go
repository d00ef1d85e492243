package runtimeapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Limits on what the client reads from the Runtime API. Lambda's own
// answers are far below them; they bound what a broken or hostile server
// can make the function allocate.
const (
	maxHeaderBytes = 1 << 20  // the status line and headers of one answer
	maxBodyBytes   = 32 << 20 // one answer's body (Lambda's payloads are at most 6 MB)
	keepBodyBytes  = 1 << 10  // what is kept of a POST's answer body, for the log
	inlineBody     = 16 << 10 // bodies up to this size go out in the same write as their head
	readBufferSize = 16 << 10
)

// userAgent names funcify and the Go version, as aws-lambda-go's names
// itself and its Go version.
var userAgent = "funcify/" + runtime.Version()

// errStopped is returned by a client call that [client.stop] interrupted.
var errStopped = errors.New("runtimeapi: stopped")

// headerSink receives the headers of an answer the client reads. name and
// value are only valid during the call: they point into the read buffer.
type headerSink interface {
	header(name, value []byte)
}

// answer is the status and framing of an answer the client read.
type answer struct {
	status int
	length int64 // Content-Length, or -1
	chunks bool  // Transfer-Encoding: chunked
	close  bool  // the server closes the connection after this answer
	body   []byte
}

// client speaks HTTP/1.1 to the Runtime API on one kept-alive connection,
// written by hand on a net.Conn: one goroutine uses a client at a time, and
// on its steady path (a kept-alive connection) a call allocates nothing but
// the payload it returns. A broken connection is redialled on the next call.
type client struct {
	addr string
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu      sync.Mutex // guards conn and stopped, which stop sets from another goroutine
	conn    net.Conn
	stopped bool

	// pending says that a request was written after the last one whose
	// answer was read (HTTP/1.1 pipelining): its answer is next on conn.
	// Only the goroutine using the client reads and sets it; drop clears it.
	pending bool

	r    *bufio.Reader
	head []byte      // the request head being written
	line []byte      // a header line longer than r's buffer
	kept []byte      // what discardBody keeps of a body
	bufs net.Buffers // the head and a large body, written with one writev
	bufv [3][]byte   // bufs' backing array (WriteTo consumes bufs itself)
	ans  answer
}

func newClient(addr string) *client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &client{addr: addr, dial: d.DialContext, head: make([]byte, 0, 512)}
}

// stop closes the connection, interrupting a call blocked on it, and makes
// every later call return errStopped. It is safe to call from any goroutine.
func (c *client) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.conn != nil {
		c.conn.Close()
	}
}

// connect dials the Runtime API unless a connection is open.
func (c *client) connect(ctx context.Context) (net.Conn, error) {
	c.mu.Lock()
	conn, stopped := c.conn, c.stopped
	c.mu.Unlock()
	if stopped {
		return nil, errStopped
	}
	if conn != nil {
		return conn, nil
	}
	conn, err := c.dial(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		conn.Close()
		return nil, errStopped
	}
	c.conn = conn
	if c.r == nil {
		c.r = bufio.NewReaderSize(conn, readBufferSize)
	} else {
		c.r.Reset(conn)
	}
	return conn, nil
}

// drop closes the connection after a failure or a Connection: close, so
// the next call dials a new one.
func (c *client) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	c.pending = false
}

// resume undoes stop, for the posts of an invocation whose next answer
// arrived as stop interrupted it; the next call dials a new connection.
func (c *client) resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = false
}

func (c *client) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// startHead begins a request head in c.head: the request line, Host and
// User-Agent.
func (c *client) startHead(method string, path ...string) {
	h := append(c.head[:0], method...)
	h = append(h, ' ')
	for _, p := range path {
		h = append(h, p...)
	}
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, c.addr...)
	h = append(h, "\r\nUser-Agent: "...)
	h = append(h, userAgent...)
	h = append(h, "\r\n"...)
	c.head = h
}

// addHeader adds a header line to c.head. value must hold no CR or LF.
func (c *client) addHeader(name, value string) {
	h := append(c.head, name...)
	h = append(h, ": "...)
	h = append(h, value...)
	c.head = append(h, "\r\n"...)
}

// roundTrip sends the request in c.head with body (a GET when body is nil)
// and reads the answer's status and headers, handing each header to sink
// when it is not nil. tail, when not nil, is a whole request written right
// after, in the same write (pipelined): its answer is read later with
// readPending. The caller reads the body with readBody or discardBody. A
// failure leaves the connection dropped.
func (c *client) roundTrip(ctx context.Context, body []byte, sink headerSink, tail []byte) (*answer, error) {
	if body != nil {
		c.head = append(c.head, "Content-Length: "...)
		c.head = strconv.AppendInt(c.head, int64(len(body)), 10)
		c.head = append(c.head, "\r\n"...)
	}
	c.head = append(c.head, "\r\n"...)
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	if len(body) <= inlineBody {
		c.head = append(c.head, body...)
		c.head = append(c.head, tail...)
		_, err = conn.Write(c.head)
	} else {
		c.bufs = append(net.Buffers(c.bufv[:0]), c.head, body, tail)
		_, err = c.bufs.WriteTo(conn)
	}
	c.pending = err == nil && tail != nil
	if err == nil {
		err = c.readHead(sink)
	}
	if err != nil {
		c.drop()
		if c.isStopped() {
			return nil, errStopped
		}
		return nil, err
	}
	return &c.ans, nil
}

// readPending reads the status and headers of the answer to the request
// roundTrip wrote as its tail, as roundTrip reads its own.
func (c *client) readPending(sink headerSink) (*answer, error) {
	c.pending = false
	err := c.readHead(sink)
	if err != nil {
		c.drop()
		if c.isStopped() {
			return nil, errStopped
		}
		return nil, err
	}
	return &c.ans, nil
}

// readHead reads an answer's status line and headers into c.ans, skipping
// informational (1xx) answers.
func (c *client) readHead(sink headerSink) error {
	for {
		c.ans = answer{length: -1}
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if err := c.parseStatus(line); err != nil {
			return err
		}
		total := len(line)
		for {
			line, err := c.readLine()
			if err != nil {
				return err
			}
			if len(line) == 0 {
				break
			}
			if total += len(line); total > maxHeaderBytes {
				return fmt.Errorf("runtimeapi: the answer's headers are over %d bytes", maxHeaderBytes)
			}
			if err := c.parseHeader(line, sink); err != nil {
				return err
			}
		}
		if c.ans.status >= 200 || c.ans.status == 101 {
			return nil
		}
	}
}

// parseStatus reads "HTTP/1.x NNN reason".
func (c *client) parseStatus(line []byte) error {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return fmt.Errorf("runtimeapi: malformed status line %.40q", line)
	}
	n := 0
	for _, b := range line[9:12] {
		if b < '0' || b > '9' {
			return fmt.Errorf("runtimeapi: malformed status line %.40q", line)
		}
		n = n*10 + int(b-'0')
	}
	if n < 100 {
		return fmt.Errorf("runtimeapi: malformed status line %.40q", line)
	}
	c.ans.status = n
	c.ans.close = line[7] == '0' // HTTP/1.0 closes unless it says otherwise
	return nil
}

// parseHeader reads one "Name: value" line, keeps what frames the body and
// hands the rest to sink.
func (c *client) parseHeader(line []byte, sink headerSink) error {
	i := 0
	for i < len(line) && line[i] != ':' {
		if b := line[i]; b <= ' ' || b >= 0x7f {
			return fmt.Errorf("runtimeapi: malformed header line %.40q", line)
		}
		i++
	}
	if i == 0 || i == len(line) {
		return fmt.Errorf("runtimeapi: malformed header line %.40q", line)
	}
	name, value := line[:i], trimSpace(line[i+1:])
	switch {
	case equalFold(name, "Content-Length"):
		n, ok := parseDigits(value)
		if !ok || (c.ans.length >= 0 && c.ans.length != n) {
			return fmt.Errorf("runtimeapi: malformed Content-Length %.40q", value)
		}
		c.ans.length = n
	case equalFold(name, "Transfer-Encoding"):
		if !equalFold(value, "chunked") {
			return fmt.Errorf("runtimeapi: unsupported Transfer-Encoding %.40q", value)
		}
		c.ans.chunks = true
	case equalFold(name, "Connection"):
		if hasToken(value, "close") {
			c.ans.close = true
		} else if hasToken(value, "keep-alive") {
			c.ans.close = false
		}
	case sink != nil:
		sink.header(name, value)
	}
	return nil
}

// readLine reads one line without its CR LF. The line is valid until the
// next read.
func (c *client) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		c.line = append(c.line[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(c.line) > maxHeaderBytes {
				return nil, fmt.Errorf("runtimeapi: a header line is over %d bytes", maxHeaderBytes)
			}
			line, err = c.r.ReadSlice('\n')
			c.line = append(c.line, line...)
		}
		line = c.line
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readBody reads the answer's body into a new slice. An answer without a
// length or chunks is read until the server closes the connection.
func (c *client) readBody() ([]byte, error) {
	var body []byte
	var err error
	switch a := &c.ans; {
	case a.status == 204 || a.status == 304:
	case a.chunks:
		body, err = c.readChunks(nil, maxBodyBytes)
	case a.length > maxBodyBytes:
		err = fmt.Errorf("runtimeapi: the answer's body of %d bytes is over %d", a.length, maxBodyBytes)
	case a.length >= 0:
		body = make([]byte, a.length)
		_, err = io.ReadFull(c.r, body)
	default:
		a.close = true
		body, err = io.ReadAll(io.LimitReader(c.r, maxBodyBytes+1))
		if err == nil && len(body) > maxBodyBytes {
			err = fmt.Errorf("runtimeapi: the answer's body is over %d bytes", maxBodyBytes)
		}
	}
	return body, c.finish(err)
}

// discardBody reads the answer's body, keeping its first keepBodyBytes in
// c.ans.body for the log.
func (c *client) discardBody() error {
	var err error
	c.ans.body = c.kept[:0]
	switch a := &c.ans; {
	case a.status == 204 || a.status == 304:
	case a.chunks:
		c.ans.body, err = c.readChunks(c.ans.body, keepBodyBytes)
	case a.length >= 0:
		c.ans.body, err = c.keep(c.ans.body, a.length)
	default: // ended by the server's close
		a.close = true
		var n int64
		n, err = io.Copy(&keepWriter{c}, io.LimitReader(c.r, maxBodyBytes+1))
		if err == nil && n > maxBodyBytes {
			err = fmt.Errorf("runtimeapi: the answer's body is over %d bytes", maxBodyBytes)
		}
	}
	c.kept = c.ans.body[:0]
	return c.finish(err)
}

// keepWriter keeps the first keepBodyBytes written to it in c.ans.body.
type keepWriter struct{ c *client }

func (w *keepWriter) Write(p []byte) (int, error) {
	b := w.c.ans.body
	if room := keepBodyBytes - len(b); room > 0 {
		w.c.ans.body = append(b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// keep reads n bytes, appending the first keepBodyBytes to dst.
func (c *client) keep(dst []byte, n int64) ([]byte, error) {
	k := min(n, int64(keepBodyBytes-len(dst)))
	if k > 0 {
		dst = append(dst, make([]byte, k)...)
		if _, err := io.ReadFull(c.r, dst[len(dst)-int(k):]); err != nil {
			return dst[:len(dst)-int(k)], err
		}
		n -= k
	}
	if n > 0 {
		if m, err := c.r.Discard(int(min(n, maxBodyBytes))); err != nil || int64(m) < n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return dst, err
		}
	}
	return dst, nil
}

// readChunks reads a chunked body, appending its data to dst up to limit
// bytes (the rest is discarded when dst is for the log, an error when it is
// the payload), then the trailers.
func (c *client) readChunks(dst []byte, limit int) ([]byte, error) {
	total := 0
	for {
		line, err := c.readLine()
		if err != nil {
			return dst, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // a chunk extension
		}
		size, ok := parseHex(trimSpace(line))
		if !ok {
			return dst, fmt.Errorf("runtimeapi: malformed chunk size %.40q", line)
		}
		if size == 0 {
			break
		}
		if total += size; total > maxBodyBytes {
			return dst, fmt.Errorf("runtimeapi: the answer's body is over %d bytes", maxBodyBytes)
		}
		if limit == maxBodyBytes {
			n := len(dst)
			dst = append(dst, make([]byte, size)...)
			if _, err := io.ReadFull(c.r, dst[n:]); err != nil {
				return dst, err
			}
		} else if dst, err = c.keep(dst, int64(size)); err != nil {
			return dst, err
		}
		if line, err := c.readLine(); err != nil || len(line) != 0 {
			if err == nil {
				err = errors.New("runtimeapi: malformed chunk: no CRLF after its data")
			}
			return dst, err
		}
	}
	for { // trailers, up to the empty line
		line, err := c.readLine()
		if err != nil {
			return dst, err
		}
		if len(line) == 0 {
			return dst, nil
		}
	}
}

// finish ends an answer: on an error or a Connection: close it drops the
// connection.
func (c *client) finish(err error) error {
	if err != nil || c.ans.close {
		c.drop()
	}
	if err != nil && c.isStopped() {
		return errStopped
	}
	return err
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b and s are equal under ASCII case folding.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds token.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		if i < 0 {
			i = len(v)
		}
		if equalFold(trimSpace(v[:i]), token) {
			return true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return false
}

// parseDigits reads a non-negative decimal integer of at most 18 digits.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, x := range b {
		if x < '0' || x > '9' {
			return 0, false
		}
		n = n*10 + int64(x-'0')
	}
	return n, true
}

// parseHex reads a chunk size: hex digits (leading zeros allowed, as
// HTTP/1.1 allows them), at most maxBodyBytes.
func parseHex(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	n := 0
	for _, x := range b {
		switch {
		case '0' <= x && x <= '9':
			n = n<<4 | int(x-'0')
		case 'a' <= x && x <= 'f':
			n = n<<4 | int(x-'a'+10)
		case 'A' <= x && x <= 'F':
			n = n<<4 | int(x-'A'+10)
		default:
			return 0, false
		}
		if n > maxBodyBytes {
			return 0, false
		}
	}
	return n, true
}
