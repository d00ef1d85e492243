package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeProcess stands for a function process that has not exited.
type fakeProcess struct{ exited chan struct{} }

func (p fakeProcess) Exited() <-chan struct{} { return p.exited }
func (p fakeProcess) Err() error              { return nil }

// invocation is what a test function received for one invocation.
type invocation struct {
	header  http.Header
	payload string
}

// client is a function in the test process that speaks the Runtime API
// over net/http.
type client struct {
	base string
}

// next asks for the next invocation.
func (c client) next() (invocation, error) {
	resp, err := http.Get(c.base + nextPath)
	if err != nil {
		return invocation{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return invocation{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return invocation{}, fmt.Errorf("next: status %d", resp.StatusCode)
	}
	return invocation{header: resp.Header, payload: string(b)}, nil
}

// post posts body to the invocation path id/what ("response" or "error"),
// or to init/error when id is "".
func (c client) post(id, what, body string) error {
	url := c.base + "/2018-06-01/runtime/invocation/" + id + "/" + what
	if id == "" {
		url = c.base + "/2018-06-01/runtime/init/error"
	}
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	if what == "error" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "errorString")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("%s: status %d, want 202", what, resp.StatusCode)
	}
	return nil
}

var (
	requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	traceIDPattern   = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)
)

// countingEvent sends invocation n the payload {"n":n} and wants the
// answer n: each invocation's answer differs.
func countingEvent() *event {
	return &event{
		name:    "counting",
		payload: func(n int) []byte { return fmt.Appendf(nil, `{"n":%d}`, n) },
		check: func(n int, response []byte) error {
			return checkJSON(strconv.Itoa(n))(response)
		},
	}
}

// TestRuntimeAPI serves invocations to a function in the test process that
// answers as each case says, and checks what the fake Runtime API sent and
// whether it counted a failure.
func TestRuntimeAPI(t *testing.T) {
	const n = 5
	tests := []struct {
		name string
		// answer answers invocation i (from 1) whose request id is id:
		// it returns the id to post to, the path's last element and the
		// body. right is the right answer.
		answer  func(i int, id, right string) (postID, what, body string)
		wantErr string // in the failure; "" for none
	}{
		{
			name:   "right answers",
			answer: func(i int, id, right string) (string, string, string) { return id, "response", right },
		},
		{
			name: "right answers, spaced differently",
			answer: func(i int, id, right string) (string, string, string) {
				return id, "response", right + strings.Repeat("\n", i)
			},
		},
		{
			name: "first answer wrong",
			answer: func(i int, id, right string) (string, string, string) {
				return id, "response", `"not ok"`
			},
			wantErr: "the first response is wrong",
		},
		{
			name: "a later answer wrong",
			answer: func(i int, id, right string) (string, string, string) {
				if i == 4 {
					return id, "response", `"ko"`
				}
				return id, "response", right
			},
			wantErr: "the response to invocation 4 is wrong",
		},
		{
			// Every response is checked against its own invocation,
			// not against the first.
			name: "the first answer replayed",
			answer: func(i int, id, right string) (string, string, string) {
				return id, "response", "1"
			},
			wantErr: "the response to invocation 2 is wrong",
		},
		{
			name: "a function error",
			answer: func(i int, id, right string) (string, string, string) {
				if i == 3 {
					return id, "error", `{"errorMessage":"boom","errorType":"errorString"}`
				}
				return id, "response", right
			},
			wantErr: "function error (errorString)",
		},
		{
			name: "an answer to another request",
			answer: func(i int, id, right string) (string, string, string) {
				if i == 2 {
					return "00000000-0000-4000-8000-000000000000", "response", right
				}
				return id, "response", right
			},
			wantErr: "not the invocation under way",
		},
		{
			name: "an init error",
			answer: func(i int, id, right string) (string, string, string) {
				return "", "error", `{"errorMessage":"no config","errorType":"errorString"}`
			},
			wantErr: "init error (errorString)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, err := startRuntimeAPI(countingEvent())
			if err != nil {
				t.Fatal(err)
			}
			defer api.Close()
			api.startTiming(n)
			api.grant(n)
			c := client{base: "http://" + api.addr}

			// The function runs until the API holds its next request,
			// or fails; it reports what it saw.
			done := make(chan error, 1)
			ids := make(chan string, n)
			go func() {
				for i := 1; i <= n; i++ {
					before := time.Now()
					inv, err := c.next()
					if err != nil {
						done <- err
						return
					}
					after := time.Now()
					if err := checkHeader(inv, before, after); err != nil {
						done <- err
						return
					}
					var p struct{ N int }
					if err := json.Unmarshal([]byte(inv.payload), &p); err != nil || p.N != i {
						done <- fmt.Errorf("invocation %d: payload %q, want {\"n\":%d}", i, inv.payload, i)
						return
					}
					id := inv.header.Get("Lambda-Runtime-Aws-Request-Id")
					ids <- id
					if err := c.post(tt.answer(i, id, strconv.Itoa(p.N))); err != nil {
						done <- err
						return
					}
				}
				// The API holds this one until it is closed.
				c.next()
				done <- nil
			}()

			err = api.await(fakeProcess{exited: make(chan struct{})}, time.Minute)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("await = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("await = %v, want an error with %q", err, tt.wantErr)
			}
			api.Close()
			if err := <-done; err != nil && tt.wantErr == "" {
				t.Fatalf("the function: %v", err)
			}
			if tt.wantErr != "" {
				return
			}
			if got := len(api.wallTimes()); got != n {
				t.Errorf("timed %d invocations, want %d", got, n)
			}
			close(ids)
			seen := make(map[string]bool)
			for id := range ids {
				if seen[id] {
					t.Errorf("request id %s twice, want a fresh one each time", id)
				}
				seen[id] = true
			}
		})
	}
}

// checkHeader checks the headers of an invocation that the function asked
// for between before and after.
func checkHeader(inv invocation, before, after time.Time) error {
	h := inv.header
	if id := h.Get("Lambda-Runtime-Aws-Request-Id"); !requestIDPattern.MatchString(id) {
		return fmt.Errorf("request id %q, want a UUID", id)
	}
	if tr := h.Get("Lambda-Runtime-Trace-Id"); !traceIDPattern.MatchString(tr) {
		return fmt.Errorf("trace id %q, want an X-Ray header not sampled", tr)
	}
	if arn := h.Get("Lambda-Runtime-Invoked-Function-Arn"); arn != functionARN {
		return fmt.Errorf("function ARN %q, want %q", arn, functionARN)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	ms, err := strconv.ParseInt(h.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	lo, hi := before.Add(deadline).UnixMilli(), after.Add(deadline).UnixMilli()
	if err != nil || ms < lo || ms > hi {
		return fmt.Errorf("deadline %q, want %d to %d (30 s from now)", h.Get("Lambda-Runtime-Deadline-Ms"), lo, hi)
	}
	return nil
}
