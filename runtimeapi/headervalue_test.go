package runtimeapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/runtimeapi"
)

// Found in review (issue 14): an error message holding a DEL byte (0x7f)
// goes raw into the Lambda-Runtime-Function-Xray-Error-Cause header:
// encoding/json escapes the control characters below 0x20 but not DEL, and
// errorBody.encode copies the JSON into the header as it is. DEL is a
// control character that no HTTP/1.1 field value may hold; the Runtime API
// is Go's net/http server (rapid, and the emulator built from it), which
// answers such a request 400 without reading it. The function's error is
// then lost: the loop logs "refused the error" and asks for the next
// invocation, while Lambda still waits for an answer to this one. A message
// with DEL is easy to reach: an S3 object key or a field of a request
// quoted with %s in an error. (aws-lambda-go fails here too: its net/http
// client refuses to send the header, and its loop exits.)
//
// Right: the error reaches the Runtime API, with its message intact in the
// body: escape DEL (\u007f) in the X-Ray cause, as JSON allows, or leave
// the cause out when it is not a valid field value.

const delMessage = "no such object: \"invoices/a\x7fb.pdf\""

func TestErrorWithDELReachesRuntimeAPI(t *testing.T) {
	t.Parallel()
	t.Run("function error", func(t *testing.T) {
		t.Parallel()
		s := fakeruntime.Start(t)
		startRun(t, s, failing(errors.New(delMessage)), runtimeapi.Config{})
		id := s.Enqueue(fakeruntime.Invocation{Payload: []byte(`"fail"`)})
		served(t, s) // the loop has moved on: whatever it posted for id is in
		ps := postsFor(s.Requests(), id)
		if len(ps) != 1 {
			t.Fatalf("%d POSTs for the failed invocation, want 1", len(ps))
		}
		if ps[0].Status != 202 {
			t.Fatalf("the Runtime API answered the error POST %d (%s), want 202: the function error is lost", ps[0].Status, ps[0].Err)
		}
		if e := decodeError(t, ps[0].Body); e.Message != delMessage {
			t.Errorf("errorMessage %q, want %q", e.Message, delMessage)
		}
	})
	t.Run("init error, net/http server", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex // guards got
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(srv.Close)
		err := runtimeapi.ReportInitError(context.Background(), strings.TrimPrefix(srv.URL, "http://"), errors.New(delMessage))
		if err != nil {
			t.Errorf("ReportInitError: %v, want nil", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 || !strings.HasPrefix(got[0], "POST /2018-06-01/runtime/init/error ") {
			t.Errorf("the server's handler got %q, want the init error", got)
		}
	})
}
