//go:build !funcify.lambdaonly

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestMainEventFile(t *testing.T) {
	a := routedApp(nil)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderrIn string
	}{
		{"http event", []string{"-event", write("ok.json", makeEvent(t, "v1", req{path: "/orders/7"}))}, 0, `"body":"{\"id\":\"7\"}"`, ""},
		{"unknown event", []string{"-event", write("unknown.json", []byte(`{"x":1}`))}, 1, `"errorType":"Error"`, ""},
		{"malformed event", []string{"-event", write("bad.json", []byte(`{`))}, 1, `"errorMessage":"event: malformed payload`, ""},
		{"missing file", []string{"-event", filepath.Join(dir, "nope.json")}, 1, "", "reading the event"},
		{"bad flag", []string{"-nope"}, 2, "", "flag provided but not defined"},
		{"bad timeout", []string{"-timeout", "-1s"}, 2, "", "-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := a.Main(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("got exit code %d, want %d; stderr %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("got stdout %s, want it to contain %s", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderrIn) {
				t.Errorf("got stderr %s, want it to contain %s", stderr.String(), tt.stderrIn)
			}
			if tt.code == 0 && !json.Valid(bytes.TrimSpace(stdout.Bytes())) {
				t.Errorf("stdout is not one JSON value: %s", stdout.String())
			}
		})
	}
}

func TestLocalServer(t *testing.T) {
	a := routedApp(nil)
	a.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("sid")
		http.SetCookie(w, &http.Cookie{Name: "seen", Value: c.Value})
		http.SetCookie(w, &http.Cookie{Name: "other", Value: "2"})
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte{0, 1, 2, 0xff})
	})
	ln := serveLocal(t, a)
	base := "http://" + ln.String()

	resp, err := http.Post(base+"/orders?x=1", "application/json", strings.NewReader(`{"item":"book"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != `{"item":"book"}` {
		t.Errorf("POST: got %d %s", resp.StatusCode, body)
	}

	resp, err = http.Get(base + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(body), `"code":404`) {
		t.Errorf("404: got %d %s %s", resp.StatusCode, resp.Header, body)
	}

	r, _ := http.NewRequest("GET", base+"/echo", nil)
	r.AddCookie(&http.Cookie{Name: "sid", Value: "abc"})
	resp, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, []byte{0, 1, 2, 0xff}) {
		t.Errorf("binary body: got %v", body)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "seen=abc" {
		t.Errorf("got Set-Cookie %q", got)
	}
}

// TestLocalServerForwardedHeaders: like API Gateway, the local server adds
// x-forwarded-for (the client's address, appended to what the client sent),
// x-forwarded-proto and x-forwarded-port, replacing a client's own proto and
// port, so that a handler reading them sees locally what it will in Lambda.
func TestLocalServerForwardedHeaders(t *testing.T) {
	a := quietApp(nil)
	a.HandleFunc("GET /forwarded", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{
			"for":        r.Header.Get("X-Forwarded-For"),
			"proto":      r.Header.Get("X-Forwarded-Proto"),
			"port":       r.Header.Get("X-Forwarded-Port"),
			"remoteAddr": r.RemoteAddr,
		})
	})
	ln := serveLocal(t, a)
	_, port, _ := net.SplitHostPort(ln.String())
	for _, tt := range []struct {
		name    string
		headers map[string]string
		wantFor string
	}{
		{"direct", nil, "127.0.0.1"},
		{"behind a proxy", map[string]string{"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "8443"},
			"198.51.100.7, 127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://"+ln.String()+"/forwarded", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"for": tt.wantFor, "proto": "http", "port": port, "remoteAddr": "127.0.0.1:0"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: got %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestLocalServerClientHost: the local server sends each request as the
// HTTP API 2.0 event API Gateway would, rawPath decoded, whatever Host the
// client names. A Host that is a function URL's domain (a developer
// reproducing a function URL call with curl -H "Host: ...") does not make
// the event pass for a function URL's, whose rawPath is encoded: the path
// is decoded once, and the Host reaches the handler as r.Host.
func TestLocalServerClientHost(t *testing.T) {
	a := routedApp(nil)
	a.HandleFunc("GET /host", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{"host": r.Host})
	})
	h := &localHandler{app: a, timeout: 5 * time.Second}
	for _, host := range []string{"127.0.0.1:8080", "abcdefghij0123456789abcdef012345.lambda-url.us-east-1.on.aws"} {
		t.Run(host, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://"+host+"/files/100%25", nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 || !strings.Contains(w.Body.String(), `"rest":"100%"`) {
				t.Errorf("GET /files/100%%25 with Host %s: got %d %s; want 200 with rest 100%%", host, w.Code, w.Body)
			}
			r = httptest.NewRequest("GET", "http://"+host+"/host", nil)
			w = httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if want := `{"host":"` + host + `"}`; w.Code != 200 || strings.TrimSpace(w.Body.String()) != want {
				t.Errorf("GET /host with Host %s: got %d %s; want 200 %s", host, w.Code, w.Body, want)
			}
		})
	}
}

// TestLocalEventBatch: the local -event mode prints the batchItemFailures
// the invocation would report.
func TestLocalEventBatch(t *testing.T) {
	a := quietApp(nil)
	HandleSQS(a, "order-events", func(ctx context.Context, m events.SQSMessage) error {
		if strings.HasSuffix(m.MessageId, "4") {
			return errors.New("boom")
		}
		return nil
	})
	var stdout, stderr bytes.Buffer
	code := a.Main(context.Background(), []string{"-event", filepath.Join("..", "event", "testdata", "sqs-batch-10.json")}, &stdout, &stderr)
	want := `{"batchItemFailures":[{"itemIdentifier":"5b8e0d7a-1c2f-4e3a-9b6d-000000000004"}]}` + "\n"
	if code != 0 || stdout.String() != want {
		t.Errorf("got %d, %q (stderr %q), want 0, %q", code, stdout.String(), stderr.String(), want)
	}
}
