package runtimeapi_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/funcify/funcify/runtimeapi"
)

// Found in review (issue 14): client.keep drops what it read when the body
// ends before keepBodyBytes: on io.ErrUnexpectedEOF it returns
// dst[:len(dst)-k], cutting the bytes io.ReadFull did read, and
// discardBody then takes the error for the normal end of a close-delimited
// body. Every answer body without Content-Length or chunks and shorter
// than 1 KiB (net/http's own "400 Bad Request: ..." for a request it
// cannot parse is one) reaches the log and the returned errors empty: the
// Runtime API's reason for a refusal is lost ("status 400: " with
// nothing after it).
//
// Right: keep the bytes read before the connection closed (return
// dst[:len(dst)-k+n] with n from io.ReadFull).

// answerOnce serves one connection: it reads a request with its
// Content-Length body, writes answer and closes.
func answerOnce(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		n := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if line == "\r\n" {
				break
			}
		}
		io.CopyN(io.Discard, br, int64(n))
		io.WriteString(c, answer)
	}()
	return ln.Addr().String()
}

func TestCloseDelimitedAnswerBodyKept(t *testing.T) {
	t.Parallel()
	const reason = `{"errorMessage":"the sandbox is out of memory","errorType":"Runtime.OutOfMemory"}`
	addr := answerOnce(t, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"+reason)
	err := runtimeapi.ReportInitError(context.Background(), addr, errors.New("cannot load config"))
	if err == nil || !strings.Contains(err.Error(), reason) {
		t.Errorf("ReportInitError: %v; want an error with the Runtime API's answer %s", err, reason)
	}
}
