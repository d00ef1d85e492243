package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// event is what each invocation of a row is sent, and the check its
// response must pass, so that a function that answers something else
// cannot post a fast figure.
type event struct {
	name string
	// payload returns the payload of a process's invocation n, counting
	// from 1.
	payload func(n int) []byte
	// check checks the response to invocation n.
	check func(n int, response []byte) error
}

// eventNames are the events invokecpu knows, as -events names them.
var eventNames = []string{"hello", "v1", "v2"}

// orderNotFound is the body examples/orders answers GET /orders/{id} with:
// its store starts empty. It does not name the id.
const orderNotFound = `{"error":"order not found","code":404,"step":"handler","ctx":{}}`

// loadEvent returns the event named name, reading its fixture from dataDir,
// the bench module's testdata directory:
//
//   - hello: the payload {}, answered with the JSON string "ok";
//   - v1: an API Gateway REST API event for GET /orders/{n}, invocation n
//     of a process asking for order n (rest_v1.json, which asks for order
//     42, with n in its place), answered with 404, Content-Type
//     application/json and orderNotFound;
//   - v2: the same for an HTTP API (http_v2.json).
//
// The order id changes with each invocation so that every invocation of a
// process gets other bytes: a function cannot answer from a cache of the
// events it has seen.
func loadEvent(dataDir, name string) (*event, error) {
	switch name {
	case "hello":
		payload := []byte("{}")
		return &event{
			name:    name,
			payload: func(int) []byte { return payload },
			check:   ignoreN(checkJSON(`"ok"`)),
		}, nil
	case "v1", "v2":
		file := map[string]string{"v1": "rest_v1.json", "v2": "http_v2.json"}[name]
		b, err := os.ReadFile(filepath.Join(dataDir, file))
		if err != nil {
			return nil, err
		}
		parts, err := orderTemplate(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return &event{
			name:    name,
			payload: func(n int) []byte { return bytes.Join(parts, []byte(strconv.Itoa(n))) },
			check:   ignoreN(checkHTTP(http.StatusNotFound, orderNotFound)),
		}, nil
	}
	return nil, fmt.Errorf("unknown event %q: want one of %s", name, strings.Join(eventNames, ", "))
}

// fixtureOrderID is the order id the fixtures ask for.
const fixtureOrderID = "42"

// orderIDSites are the places where an API Gateway fixture names its order
// id, as the text before and after it: the ends of its paths (a REST API's
// path and requestContext.path, an HTTP API's rawPath and
// requestContext.http.path) and its pathParameters.
var orderIDSites = [][2]string{{`/orders/`, `"`}, {`"id": "`, `"`}}

// orderTemplate returns fixture, which must name the order id 42 in exactly
// three places (see orderIDSites), split around them: joined with an id,
// the parts are the fixture asking for that order.
func orderTemplate(fixture []byte) ([][]byte, error) {
	if bytes.IndexByte(fixture, 0) >= 0 {
		return nil, errors.New("a NUL byte in the fixture")
	}
	for _, s := range orderIDSites {
		fixture = bytes.ReplaceAll(fixture, []byte(s[0]+fixtureOrderID+s[1]), []byte(s[0]+"\x00"+s[1]))
	}
	parts := bytes.Split(fixture, []byte{0})
	if len(parts) != 4 {
		return nil, fmt.Errorf("the order id %s is named in %d places, want 3 (its paths and pathParameters)", fixtureOrderID, len(parts)-1)
	}
	return parts, nil
}

// ignoreN returns check as a check of any invocation's response: for events
// whose answer does not depend on the invocation.
func ignoreN(check func([]byte) error) func(int, []byte) error {
	return func(_ int, response []byte) error { return check(response) }
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
