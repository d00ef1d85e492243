package runtimeapi

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
)

type nopSink struct{}

func (nopSink) header(name, value []byte) {}

// parse runs the client's parser over data as one answer to a GET.
func parseAnswer(data []byte, discard bool) (status int, body []byte, err error) {
	a, b := net.Pipe()
	go func() { b.Write(data); b.Close() }()
	defer a.Close()
	c := newClient("x")
	c.conn = a
	c.r = bufio.NewReaderSize(a, readBufferSize)
	if err := c.readHead(nopSink{}); err != nil {
		return 0, nil, err
	}
	if discard {
		err = c.discardBody()
		return c.ans.status, c.ans.body, err
	}
	body, err = c.readBody()
	return c.ans.status, body, err
}

func FuzzReviewAnswer(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nabc"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, body, err := parseAnswer(data, false)
		parseAnswer(data, true)
		resp, herr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), &http.Request{Method: "GET"})
		if herr != nil || err != nil || resp.StatusCode < 200 || resp.ProtoMinor == 0 {
			return
		}
		hb, herr := io.ReadAll(resp.Body)
		if herr != nil {
			return
		}
		if resp.StatusCode != st || !bytes.Equal(hb, body) {
			t.Errorf("funcify %d %q, net/http %d %q", st, body, resp.StatusCode, hb)
		}
	})
}
