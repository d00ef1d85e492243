// Package envelope writes funcify's JSON error envelope, or RFC 9457
// problem details, as an HTTP answer. It is the one writer of that body:
// httperror writes errors with it and app its own answers (a panic, a
// request no route takes).
package envelope

import (
	"encoding/json"
	"net/http"
)

// Answer is what an error envelope says.
type Answer struct {
	Status  int            // 100 to 999
	Message string         // shown to the caller
	Step    string         // where the request failed
	Ctx     map[string]any // shown to the caller; nil is {}
}

// Write writes a as the response: the envelope
//
//	{"error": "<message>", "code": <status>, "step": "<where>", "ctx": {...}}
//
// or, with problem, application/problem+json. It keeps headers already set
// except Content-Length and Content-Encoding, which described the body the
// handler meant to send: the envelope is written plain, and a compression
// middleware between w and the server labels it when it encodes it. Unlike
// net/http's http.Error, which keeps Content-Encoding for middleware that set
// it up front (go.dev/issue/66343), this drops it under any writer: kept, it
// mislabels the envelope under every other middleware that wraps the writer.
func Write(w http.ResponseWriter, a Answer, problem bool) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	ctx := a.Ctx
	if ctx == nil {
		ctx = map[string]any{}
	}
	status := a.Status
	var body []byte
	var err error
	if problem {
		h.Set("Content-Type", "application/problem+json")
		title := http.StatusText(status)
		if title == "" {
			title = "Error"
		}
		body, err = json.Marshal(problemDetails{Type: "about:blank", Title: title, Status: status, Detail: a.Message, Step: a.Step, Ctx: ctx})
	} else {
		h.Set("Content-Type", "application/json")
		body, err = json.Marshal(envelope{Error: a.Message, Code: status, Step: a.Step, Ctx: ctx})
	}
	if err != nil {
		// The ctx held a value that cannot be encoded: answer without it.
		body = []byte(`{"error":"internal error","code":500,"step":"respond","ctx":{}}`)
		if problem {
			body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"internal error","step":"respond","ctx":{}}`)
		}
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	w.Write(body)
}

type envelope struct {
	Error string         `json:"error"`
	Code  int            `json:"code"`
	Step  string         `json:"step"`
	Ctx   map[string]any `json:"ctx"`
}

type problemDetails struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Step   string         `json:"step"`
	Ctx    map[string]any `json:"ctx"`
}
