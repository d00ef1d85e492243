package runtimeapi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/fakeruntime"
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

// TestPipelinedNext: the request for the next invocation goes out with the
// response it follows, in one write, before the answer to the response:
// a server that answers the response only once it has the next request
// serves the loop.
func TestPipelinedNext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(fakeruntime.WaitTimeout))
		r := bufio.NewReader(conn)
		if _, err := http.ReadRequest(r); err != nil { // the first next
			served <- err
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nLambda-Runtime-Deadline-Ms: 4102444800000\r\nContent-Length: 2\r\n\r\n{}")
		post, err := http.ReadRequest(r)
		if err != nil {
			served <- err
			return
		}
		io.Copy(io.Discard, post.Body)
		next, err := http.ReadRequest(r) // before the post is answered
		if err != nil {
			served <- fmt.Errorf("no next request before the answer to the response: %w", err)
			return
		}
		if post.URL.Path != "/2018-06-01/runtime/invocation/r1/response" || next.URL.Path != "/2018-06-01/runtime/invocation/next" {
			served <- fmt.Errorf("requests %s %s, %s %s", post.Method, post.URL, next.Method, next.URL)
			return
		}
		io.WriteString(conn, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
		served <- nil
		io.Copy(io.Discard, r)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, okHandler{out: []byte(`"ok"`)}, Config{Address: ln.Addr().String(), Concurrency: 1, Logger: slog.New(slog.DiscardHandler)})
	}()
	if err := <-served; err != nil {
		t.Error(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
