package fakeruntime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// maxLine bounds a request line, a header line or a chunk-size line.
	maxLine = 64 << 10
	// maxHead bounds a request's header section, and its trailer section.
	maxHead = 1 << 20
	// maxBody bounds a request body, well above Lambda's 6 MB response limit.
	maxBody = 64 << 20
)

// malformedError is a request the server cannot read as HTTP/1.1. The
// server answers it with status (400 unless said otherwise) and closes the
// connection.
type malformedError struct {
	status int
	msg    string
}

func (e *malformedError) Error() string { return e.msg }

func malformed(format string, args ...any) error {
	return &malformedError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// reader reads requests from a connection and keeps every byte it consumes
// for the request being read, so that the record is what came on the wire.
type reader struct {
	br  *bufio.Reader
	raw []byte // the bytes of the request being read
}

// line reads one line ended by CRLF and returns it without the CRLF. The
// result is valid until the next read.
func (r *reader) line() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	r.raw = append(r.raw, line...)
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, malformed("line longer than %d bytes", maxLine)
	}
	if err != nil {
		return nil, truncated(err)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, malformed("line %q not ended by CRLF", line)
	}
	return line[:len(line)-2], nil
}

// full reads exactly n bytes and appends them to dst. It reads in pieces,
// so that a length the client never sends costs no memory.
func (r *reader) full(dst []byte, n int) ([]byte, error) {
	for n > 0 {
		k := min(n, maxLine)
		start := len(r.raw)
		r.raw = slices.Grow(r.raw, k)[:start+k]
		m, err := io.ReadFull(r.br, r.raw[start:])
		r.raw = r.raw[:start+m]
		dst = append(dst, r.raw[start:]...)
		n -= m
		if err != nil {
			return dst, truncated(err)
		}
	}
	return dst, nil
}

// truncated is the error for a connection that ended, or failed, in the
// middle of a request.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("truncated request: %w", err)
}

// readRequest reads one request into req. It returns io.EOF, and leaves req
// untouched, when the connection ended cleanly between requests; any other
// error leaves in req what was read (req.Raw at least) and says what went
// wrong. cont, when not nil, is called after the header section of a
// request that expects 100-continue, before its body is read.
func (r *reader) readRequest(req *Request, cont func() error) error {
	if _, err := r.br.Peek(1); err != nil {
		return err
	}
	r.raw = nil
	defer func() { req.Raw = r.raw }()

	line, err := r.line()
	if err != nil {
		return err
	}
	method, rest, ok1 := strings.Cut(string(line), " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !isToken(method) || target == "" || strings.ContainsAny(target, " \t") {
		return malformed("malformed request line %q", line)
	}
	req.Method, req.Path, req.Proto = method, target, proto
	if proto != "HTTP/1.1" && proto != "HTTP/1.0" {
		return &malformedError{status: http.StatusHTTPVersionNotSupported, msg: fmt.Sprintf("unsupported protocol %q", proto)}
	}

	req.Header = http.Header{}
	if err := r.fields(req.Header); err != nil {
		return err
	}
	if proto == "HTTP/1.1" && len(req.Header.Values("Host")) != 1 {
		return malformed("an HTTP/1.1 request needs exactly one Host header, got %d", len(req.Header.Values("Host")))
	}

	te := req.Header.Values("Transfer-Encoding")
	if proto == "HTTP/1.0" {
		te = nil // HTTP/1.0 has no transfer codings: net/http ignores the field there too
	}
	cl := req.Header.Values("Content-Length")
	switch {
	case len(te) > 0 && len(cl) > 0:
		return malformed("both Transfer-Encoding and Content-Length")
	case len(te) > 0:
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return &malformedError{status: http.StatusNotImplemented, msg: fmt.Sprintf("unsupported Transfer-Encoding %q", te)}
		}
		req.Chunked = true
	case len(cl) > 0:
		for _, v := range cl[1:] {
			if v != cl[0] {
				return malformed("conflicting Content-Length values %q", cl)
			}
		}
	}
	n, err := contentLength(cl)
	if err != nil {
		return err
	}
	if n > maxBody {
		return &malformedError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body of %d bytes, over the fake's limit of %d", n, maxBody)}
	}

	if cont != nil && proto == "HTTP/1.1" && strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		if err := cont(); err != nil {
			return err
		}
	}

	if req.Chunked {
		return r.chunked(req)
	}
	req.Body, err = r.full([]byte{}, int(n))
	return err
}

func contentLength(values []string) (int64, error) {
	if len(values) == 0 {
		return 0, nil
	}
	v := values[0]
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, malformed("malformed Content-Length %q", v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, malformed("malformed Content-Length %q", v)
	}
	return n, nil
}

// chunked reads a chunked body and its trailer section.
func (r *reader) chunked(req *Request) error {
	req.Body = []byte{}
	for {
		line, err := r.line()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		size = bytes.TrimRight(size, " \t")
		n, err := strconv.ParseUint(string(size), 16, 63)
		if err != nil || len(size) == 0 || size[0] == '+' {
			return malformed("malformed chunk size line %q", line)
		}
		if n == 0 {
			break
		}
		if uint64(len(req.Body))+n > maxBody {
			return &malformedError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("chunked body over the fake's limit of %d bytes", maxBody)}
		}
		if req.Body, err = r.full(req.Body, int(n)); err != nil {
			return err
		}
		crlf, err := r.full(nil, 2)
		if err != nil {
			return err
		}
		if string(crlf) != "\r\n" {
			return malformed("chunk data not followed by CRLF (got %q)", crlf)
		}
	}
	req.Trailer = http.Header{}
	return r.fields(req.Trailer)
}

// fields reads header (or trailer) fields up to and including the empty
// line that ends them.
func (r *reader) fields(h http.Header) error {
	start := len(r.raw)
	for {
		line, err := r.line()
		if err != nil {
			return err
		}
		if len(r.raw)-start > maxHead {
			return &malformedError{status: http.StatusRequestHeaderFieldsTooLarge, msg: fmt.Sprintf("header section over %d bytes", maxHead)}
		}
		if len(line) == 0 {
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			return malformed("obsolete line folding in %q", line)
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !isToken(string(name)) {
			return malformed("malformed header line %q", line)
		}
		value = bytes.Trim(value, " \t")
		for _, c := range value {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return malformed("control character in the value of header %q", name)
			}
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(string(name)), string(value))
	}
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// framing is how an answer's body is delimited.
type framing int

const (
	withLength framing = iota // Content-Length
	withChunks                // Transfer-Encoding: chunked, in uneven chunks
	untilClose                // no length: the body ends when the connection closes
)

// answer is one HTTP response the server writes.
type answer struct {
	status  int
	header  [][2]string // in this order, after the status line
	body    []byte
	framing framing
	close   bool // send Connection: close
}

// chunkTrailer is the trailer field a chunked answer ends with.
const chunkTrailer = "Lambda-Runtime-Fake-Trailer"

// write writes a to w. A chunked body goes out in separate writes, one per
// chunk, so that a reader meets it in pieces: chunks of 1 and 7 bytes (the
// first with a chunk extension), the rest in one chunk, then a trailer.
func (a *answer) write(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", a.status, http.StatusText(a.status))
	for _, kv := range a.header {
		b.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	b.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	if a.close {
		b.WriteString("Connection: close\r\n")
	}
	switch a.framing {
	case withLength:
		b.WriteString("Content-Length: " + strconv.Itoa(len(a.body)) + "\r\n\r\n")
		b.Write(a.body)
		_, err := w.Write(b.Bytes())
		return err
	case untilClose:
		b.WriteString("\r\n")
		b.Write(a.body)
		_, err := w.Write(b.Bytes())
		return err
	}
	b.WriteString("Transfer-Encoding: chunked\r\nTrailer: " + chunkTrailer + "\r\n\r\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	body := a.body
	for i, size := range []int{1, 7, len(body)} {
		size = min(size, len(body))
		if size == 0 {
			continue
		}
		b.Reset()
		fmt.Fprintf(&b, "%x", size)
		if i == 0 {
			b.WriteString(";fake=ext")
		}
		b.WriteString("\r\n")
		b.Write(body[:size])
		b.WriteString("\r\n")
		body = body[size:]
		if _, err := w.Write(b.Bytes()); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "0\r\n"+chunkTrailer+": 1\r\n\r\n")
	return err
}
