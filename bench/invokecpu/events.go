package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// event is the payload every invocation of a row gets, and the check every
// response must pass, so that a function that answers something else
// cannot post a fast figure.
type event struct {
	name    string
	payload []byte
	check   func(response []byte) error
}

// eventNames are the events invokecpu knows, as -events names them.
var eventNames = []string{"hello", "v1", "v2"}

// orderNotFound is the body examples/orders answers GET /orders/42 with: its
// store starts empty.
const orderNotFound = `{"error":"order not found","code":404,"step":"handler","ctx":{}}`

// loadEvent returns the event named name, reading its payload from dataDir,
// the bench module's testdata directory:
//
//   - hello: the payload {}, answered with the JSON string "ok";
//   - v1: an API Gateway REST API event for GET /orders/42
//     (rest_v1.json), answered with 404, Content-Type application/json and
//     orderNotFound;
//   - v2: the same for an HTTP API (http_v2.json).
func loadEvent(dataDir, name string) (*event, error) {
	switch name {
	case "hello":
		return &event{name: name, payload: []byte("{}"), check: checkJSON(`"ok"`)}, nil
	case "v1", "v2":
		file := map[string]string{"v1": "rest_v1.json", "v2": "http_v2.json"}[name]
		b, err := os.ReadFile(filepath.Join(dataDir, file))
		if err != nil {
			return nil, err
		}
		return &event{name: name, payload: b, check: checkHTTP(http.StatusNotFound, orderNotFound)}, nil
	}
	return nil, fmt.Errorf("unknown event %q: want one of %s", name, strings.Join(eventNames, ", "))
}

// checkJSON returns a check that the response is want, but for white space
// around it.
func checkJSON(want string) func([]byte) error {
	return func(response []byte) error {
		if got := bytes.TrimSpace(response); string(got) != want {
			return fmt.Errorf("got %.200s, want %s", got, want)
		}
		return nil
	}
}

// httpResponse holds the members of an API Gateway proxy response (REST or
// HTTP API) that the check reads.
type httpResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// checkHTTP returns a check that the response is an API Gateway proxy
// response with the status, Content-Type application/json and the body,
// byte for byte, not base64-encoded.
func checkHTTP(status int, body string) func([]byte) error {
	return func(response []byte) error {
		var r httpResponse
		if err := json.Unmarshal(response, &r); err != nil {
			return fmt.Errorf("not an API Gateway response: %w", err)
		}
		if r.StatusCode != status {
			return fmt.Errorf("got status %d, want %d", r.StatusCode, status)
		}
		if r.IsBase64Encoded || r.Body != body {
			return fmt.Errorf("got body %.200q (base64: %v), want %q", r.Body, r.IsBase64Encoded, body)
		}
		if ct := contentType(r); ct != "application/json" {
			return fmt.Errorf("got Content-Type %q, want application/json", ct)
		}
		return nil
	}
}

// contentType returns r's Content-Type, whatever the case of its name, from
// headers or else from multiValueHeaders.
func contentType(r httpResponse) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, "Content-Type") {
			return v
		}
	}
	for k, v := range r.MultiValueHeaders {
		if strings.EqualFold(k, "Content-Type") && len(v) == 1 {
			return v[0]
		}
	}
	return ""
}
