package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()

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
