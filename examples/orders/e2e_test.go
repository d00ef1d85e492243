package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/internal/testenv"
)

// rieInvoke posts payload to the emulator and returns its answer: the
// function's response, or its error document.
func rieInvoke(t *testing.T, url string, payload []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(payload))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEmulator runs the example under the Lambda Runtime Interface Emulator
// and invokes every route in every HTTP shape, then S3, then payloads that
// must fail, checking after each failure that the function still answers.
func TestEmulator(t *testing.T) {
	bin := testenv.BuildFunction(t, ".")
	url := testenv.RIE(t, bin)

	call := func(shape, method, path, body string) (response, map[string]any) {
		t.Helper()
		payload, _ := json.Marshal(shapes[shape](method, path, body))
		out := rieInvoke(t, url, payload)
		var r response
		if err := json.Unmarshal(out, &r); err != nil || r.StatusCode == 0 {
			t.Fatalf("%s %s %s: got %s (%v)", shape, method, path, out, err)
		}
		var b map[string]any
		if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
			t.Fatalf("%s %s %s: body %q: %v", shape, method, path, r.Body, err)
		}
		return r, b
	}

	for shape := range shapes {
		r, b := call(shape, "GET", "/health", "")
		if r.StatusCode != 200 || b["status"] != "ok" {
			t.Errorf("%s health: got %d %v", shape, r.StatusCode, b)
		}
		r, created := call(shape, "POST", "/orders", `{"item":"book","quantity":3}`)
		if r.StatusCode != 201 || created["item"] != "book" || created["quantity"] != 3.0 {
			t.Fatalf("%s create: got %d %v", shape, r.StatusCode, created)
		}
		r, b = call(shape, "GET", "/orders/"+created["id"].(string), "")
		if r.StatusCode != 200 || b["id"] != created["id"] {
			t.Errorf("%s get: got %d %v", shape, r.StatusCode, b)
		}
		r, b = call(shape, "GET", "/orders", "")
		if r.StatusCode != 200 || len(b["orders"].([]any)) == 0 {
			t.Errorf("%s list: got %d %v", shape, r.StatusCode, b)
		}
		r, b = call(shape, "GET", "/orders/999999", "")
		if r.StatusCode != 404 || b["code"] != 404.0 {
			t.Errorf("%s unknown order: got %d %v", shape, r.StatusCode, b)
		}
		r, b = call(shape, "GET", "/nope", "")
		if r.StatusCode != 404 || b["code"] != 404.0 {
			t.Errorf("%s unknown path: got %d %v", shape, r.StatusCode, b)
		}
		r, b = call(shape, "PATCH", "/orders", "")
		if r.StatusCode != 405 || !strings.Contains(r.header("Allow"), "GET") {
			t.Errorf("%s wrong method: got %d %v Allow %q", shape, r.StatusCode, b, r.header("Allow"))
		}
		r, b = call(shape, "POST", "/orders", `{"item":"book","quantity":0}`)
		if r.StatusCode != 400 || b["code"] != 400.0 {
			t.Errorf("%s invalid body: got %d %v", shape, r.StatusCode, b)
		}
	}

	// A POST retried with its Idempotency-Key: one order, the first answer.
	var answers [2]response
	for i := range answers {
		out := rieInvoke(t, url, v2Event(exchange{"POST", "/orders", `{"item":"lamp","quantity":1}`, map[string]string{"Idempotency-Key": "rie-1"}}))
		if err := json.Unmarshal(out, &answers[i]); err != nil {
			t.Fatalf("POST with a key: got %s (%v)", out, err)
		}
	}
	if first, retry := answers[0], answers[1]; first.StatusCode != 201 || retry.StatusCode != 201 || retry.Body != first.Body ||
		retry.header("Location") != first.header("Location") || retry.header("Idempotent-Replayed") != "true" {
		t.Errorf("POST retried with its key: got %d %v %s, then %d %v %s, want the first answer replayed",
			first.StatusCode, first.Headers, first.Body, retry.StatusCode, retry.Headers, retry.Body)
	}

	var s3 events.S3Event
	for _, key := range []string{"a+b%2Bc.pdf", "z.txt"} {
		var rec events.S3EventRecord
		rec.EventSource = "aws:s3"
		rec.S3.Bucket.Name = "invoices.prod.example.io"
		rec.S3.Object.Key = key
		s3.Records = append(s3.Records, rec)
	}
	s3payload, _ := json.Marshal(s3)
	if out := rieInvoke(t, url, s3payload); string(out) != `{"processed":["a b+c.pdf","z.txt"]}` {
		t.Errorf("s3: got %s", out)
	}

	s3.Records[0].S3.Bucket.Name = "receipts.prod.example.io"
	s3.Records[1].S3.Bucket.Name = "receipts.prod.example.io"
	unrouted, _ := json.Marshal(s3)
	for name, payload := range map[string][]byte{
		"malformed": []byte(`{"httpMethod": "GET", "path":`),
		"unknown":   []byte(`{"hello": "world"}`),
		"unrouted":  unrouted,
	} {
		out := rieInvoke(t, url, payload)
		var fe struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		if err := json.Unmarshal(out, &fe); err != nil || fe.ErrorMessage == "" {
			t.Errorf("%s: got %s, want a function error", name, out)
		}
		if r, _ := call("v2", "GET", "/health", ""); r.StatusCode != 200 {
			t.Errorf("after %s: health got %d", name, r.StatusCode)
		}
	}
}

// buildLocal builds the example for this machine.
func buildLocal(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "orders")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestLocalHTTP runs the example as a user would, `orders -addr`, and talks
// HTTP to it.
func TestLocalHTTP(t *testing.T) {
	bin := buildLocal(t)
	port := testenv.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "-addr", addr)
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("orders did not stop on SIGINT")
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving on") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("orders did not start serving")
	}
	base := "http://" + addr

	resp, err := http.Post(base+"/orders", "application/json", strings.NewReader(`{"item":"pen","quantity":5}`))
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]any
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 201 || created["item"] != "pen" {
		t.Fatalf("create: got %d %v", resp.StatusCode, created)
	}
	// A POST retried with its Idempotency-Key: one order, the first answer.
	var bodies [2]string
	for i := range bodies {
		req, _ := http.NewRequest("POST", base+"/orders", strings.NewReader(`{"item":"lamp","quantity":1}`))
		req.Header.Set("Idempotency-Key", "local-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies[i] = string(b)
		want := "" // the first answer is not a replay
		if i == 1 {
			want = "true"
		}
		if replayed := resp.Header.Get("Idempotent-Replayed"); resp.StatusCode != 201 || replayed != want {
			t.Errorf("POST %d with a key: got %d Idempotent-Replayed %q %s", i, resp.StatusCode, replayed, b)
		}
	}
	if bodies[1] != bodies[0] {
		t.Errorf("POST retried with its key: got %s, want the first answer %s", bodies[1], bodies[0])
	}
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/health", 200},
		{"GET", "/orders", 200},
		{"GET", "/orders/" + created["id"].(string), 200},
		{"GET", "/orders/nope", 404},
		{"GET", "/nope", 404},
		{"PUT", "/orders", 405},
	} {
		req, _ := http.NewRequest(tt.method, base+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/json" || !json.Valid(b) {
			t.Errorf("%s %s: got %d %q %s", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
}

// TestEventFlag runs `orders -event FILE` as a user would.
func TestEventFlag(t *testing.T) {
	bin := buildLocal(t)
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, ok := v.([]byte)
		if !ok {
			b, _ = json.Marshal(v)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	run := func(file string) (string, int) {
		cmd := exec.Command(bin, "-event", file)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), 0
	}

	out, code := run(write("health.json", shapes["v1"]("GET", "/health", "")))
	var r response
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || r.StatusCode != 200 || r.Body != `{"status":"ok"}` {
		t.Errorf("health: got exit %d, %s", code, out)
	}
	if out, code = run(write("unknown.json", []byte(`{"x": 1}`))); code == 0 || !strings.Contains(out, "errorMessage") {
		t.Errorf("unknown event: got exit %d, %s", code, out)
	}
	if _, code = run(filepath.Join(dir, "missing.json")); code == 0 {
		t.Error("missing file: got exit 0")
	}
}
