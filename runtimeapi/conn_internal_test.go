package runtimeapi

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

func TestParseHex(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		okay bool
	}{
		{"0", 0, true},
		{"a", 10, true},
		{"1F", 31, true},
		{"0000000a", 10, true}, // zero-padded, as HTTP/1.1 allows
		{"000000000000000a", 10, true},
		{"0000000000000000a", 0, false}, // 17 digits
		{"2000001", 0, false},           // over maxBodyBytes
		{"", 0, false},
		{"-1", 0, false},
		{"g", 0, false},
	} {
		n, ok := parseHex([]byte(tc.in))
		if n != tc.n || ok != tc.okay {
			t.Errorf("parseHex(%q) = %d, %v, want %d, %v", tc.in, n, ok, tc.n, tc.okay)
		}
	}
}

// readAnswer reads one answer from data as the loop reads next's: head,
// then body.
func readAnswer(data []byte) (*answer, []byte, error) {
	c := &client{r: bufio.NewReaderSize(bytes.NewReader(data), 64)}
	if err := c.readHead(nil); err != nil {
		return nil, nil, err
	}
	body, err := c.readBody()
	return &c.ans, body, err
}

// FuzzAnswer: the client's answer parser never panics, and where it and
// net/http both read an HTTP/1.1 200 answer with a Content-Length or
// chunked body, they read the same body.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x=y\r\na\r\n0000000a\r\n0123456789\r\n0\r\nT: v\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nuntil close"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, body, err := readAnswer(data)
		if err != nil || a.status != 200 || (a.length < 0 && !a.chunks) {
			return
		}
		resp, herr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
		if herr != nil {
			return
		}
		hbody, herr := io.ReadAll(resp.Body)
		if herr != nil || resp.StatusCode != 200 || resp.ProtoMinor != 1 {
			return // net/http reads an HTTP/1.0 answer until the close, whatever it says
		}
		if !bytes.Equal(body, hbody) {
			t.Errorf("body %q, net/http reads %q", body, hbody)
		}
	})
}
