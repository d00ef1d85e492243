//go:build !funcify.lambdaonly

package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/httperror"
)

func revApp() *App {
	return New(WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
}

// TestSettingsAreShared: httperror.FromContext hands a handler the
// app's one *Settings, shared by every request the app serves. A
// middleware or handler that adjusts it for its own request (problem
// details for a /v2 subtree, a finer Step) changes every later and
// concurrent request's answers, and races with them; nothing in the docs
// says the settings are read-only.
func TestSettingsAreShared(t *testing.T) {
	a := revApp()
	a.HandleFunc("GET /v2/thing", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := httperror.FromContext(r.Context()); ok {
			s.ProblemDetails = true // this request only, its author thinks
			s.Step = "v2"
		}
		WriteError(w, r, NewError(404, "no thing"))
	})
	a.HandleFunc("GET /v1/thing", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, NewError(404, "no thing"))
	})
	serve := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	before := serve("/v1/thing")
	serve("/v2/thing")
	after := serve("/v1/thing")
	if before.Header().Get("Content-Type") != after.Header().Get("Content-Type") || before.Body.String() != after.Body.String() {
		t.Errorf("one request's settings changed another's answer:\nbefore %s %s\nafter  %s %s",
			before.Header().Get("Content-Type"), before.Body, after.Header().Get("Content-Type"), after.Body)
	}
}

// TestLocalRemoteAddrIPv6: in Lambda RemoteAddr is
// net.JoinHostPort(sourceIP, "0") ("[::1]:0" for an IPv6 client); the local
// server writes remoteIP + ":0", "::1:0", which net.SplitHostPort rejects:
// a handler that reads the client's address works in Lambda and fails
// locally (-addr [::1]:8080, or localhost resolving to ::1).
func TestLocalRemoteAddrIPv6(t *testing.T) {
	a := revApp()
	var got string
	a.HandleFunc("GET /ip", func(w http.ResponseWriter, r *http.Request) {
		got = r.RemoteAddr
		if _, _, err := net.SplitHostPort(r.RemoteAddr); err != nil {
			WriteError(w, r, NewError(400, "bad remote address"))
		}
	})
	h := &localHandler{app: a, timeout: 5 * time.Second}
	r := httptest.NewRequest("GET", "/ip", nil)
	r.RemoteAddr = "[::1]:54321"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("local RemoteAddr %q does not split (Lambda's would be %q): %d %s", got, net.JoinHostPort("::1", "0"), w.Code, w.Body)
	}

	// The same client through a Lambda HTTP API event.
	ev := `{"version":"2.0","routeKey":"$default","rawPath":"/ip","headers":{"host":"x"},` +
		`"requestContext":{"domainName":"x","stage":"$default","http":{"method":"GET","path":"/ip","sourceIp":"::1"}}}`
	out, err := a.Invoke(context.Background(), []byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct{ StatusCode int }
	json.Unmarshal(out, &resp)
	if resp.StatusCode != 200 {
		t.Errorf("via Lambda: %s", out)
	}
}

type revFailingBody struct{}

func (revFailingBody) Read([]byte) (int, error) {
	return 0, errors.New("connection reset by peer")
}
func (revFailingBody) Close() error { return nil }

// TestLocalBodyReadError: the local server answers every failure
// to read the request body 413 "request body too large", in plain text:
// a client that resets mid-upload, or a body read that times out, is told
// its body was too large.
func TestLocalBodyReadError(t *testing.T) {
	a := revApp()
	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {})
	h := &localHandler{app: a, timeout: 5 * time.Second}
	r := httptest.NewRequest("POST", "/orders", nil)
	r.Body = revFailingBody{}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code == http.StatusRequestEntityTooLarge || !strings.Contains(w.Header().Get("Content-Type"), "json") {
		t.Errorf("a body that fails to read (not too large) answers %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}
