package httperror_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funcify/funcify/httperror"
)

// carrier is an error of another package that chooses its answer.
type carrier struct {
	status int
	header http.Header
	msg    string
}

func (c *carrier) Error() string         { return "carrier: secret detail" }
func (c *carrier) HTTPStatus() int       { return c.status }
func (c *carrier) Header() http.Header   { return c.header }
func (c *carrier) PublicMessage() string { return c.msg }

// statusOnly carries a status and nothing else.
type statusOnly int

func (s statusOnly) Error() string   { return "status only" }
func (s statusOnly) HTTPStatus() int { return int(s) }

func TestWrite(t *testing.T) {
	unauthorized := &carrier{status: 401, header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}, msg: "invalid token"}
	for _, tt := range []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
		wantHeader http.Header
	}{
		{"plain error", errors.New("db: password=x"), 500, `{"error":"internal error","code":500,"step":"handler","ctx":{}}`, nil},
		{"nil", nil, 500, `{"error":"internal error","code":500,"step":"handler","ctx":{}}`, nil},
		{"Error", &httperror.Error{Status: 404, Message: "order not found", Ctx: map[string]any{"id": "7"}}, 404,
			`{"error":"order not found","code":404,"step":"handler","ctx":{"id":"7"}}`, nil},
		{"Error without message", httperror.New(409, ""), 409, `{"error":"Conflict","code":409,"step":"handler","ctx":{}}`, nil},
		{"Error without status", &httperror.Error{Message: "boom", Err: errors.New("x")}, 500, `{"error":"boom","code":500,"step":"handler","ctx":{}}`, nil},
		{"carrier", unauthorized, 401, `{"error":"invalid token","code":401,"step":"handler","ctx":{}}`,
			http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}},
		{"wrapped carrier", fmt.Errorf("validating: %w", unauthorized), 401, `{"error":"invalid token","code":401,"step":"handler","ctx":{}}`,
			http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}},
		{"carrier without message", statusOnly(503), 503, `{"error":"Service Unavailable","code":503,"step":"handler","ctx":{}}`, nil},
		{"carrier with a status out of range", statusOnly(42), 500, `{"error":"internal error","code":500,"step":"handler","ctx":{}}`, nil},
		{"Error naming a step over a carrier", &httperror.Error{Step: "authenticate", Err: unauthorized}, 401,
			`{"error":"invalid token","code":401,"step":"authenticate","ctx":{}}`, http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}},
		{"Error with a status over a carrier", &httperror.Error{Status: 403, Message: "no", Err: unauthorized}, 403,
			`{"error":"no","code":403,"step":"handler","ctx":{}}`, http.Header{"Www-Authenticate": nil}},
		{"Error with a message over a carrier", &httperror.Error{Message: "sign in again", Err: unauthorized}, 401,
			`{"error":"sign in again","code":401,"step":"handler","ctx":{}}`, http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}},
		{"Error header wins", &httperror.Error{Header: http.Header{"www-authenticate": {"Basic"}}, Err: unauthorized}, 401,
			`{"error":"invalid token","code":401,"step":"handler","ctx":{}}`, http.Header{"Www-Authenticate": {"Basic"}}},
		{"joined: first carrier wins", errors.Join(errors.New("x"), statusOnly(429), unauthorized), 429,
			`{"error":"Too Many Requests","code":429,"step":"handler","ctx":{}}`, http.Header{"Www-Authenticate": nil}},
		{"inner Error's step", fmt.Errorf("guarding: %w", &httperror.Error{Status: 403, Step: "quota"}), 403,
			`{"error":"Forbidden","code":403,"step":"quota","ctx":{}}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httperror.Write(w, httptest.NewRequest("GET", "/", nil), tt.err)
			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("got Content-Type %q", ct)
			}
			for k, want := range tt.wantHeader {
				if got := w.Header().Values(k); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("header %s: got %q, want %q", k, got, want)
				}
			}
			if got := httperror.Status(tt.err); got != tt.wantStatus {
				t.Errorf("Status: got %d, want %d", got, tt.wantStatus)
			}
		})
	}
}

// TestWriteReadsSettingsFromContext: the problem-details mode, the logger
// and the step travel in the request's context, so Write answers the same
// behind a middleware's writer that does not unwrap.
func TestWriteReadsSettingsFromContext(t *testing.T) {
	var logs bytes.Buffer
	s := &httperror.Settings{ProblemDetails: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Step: "parse"}
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(httperror.NewContext(r.Context(), s))
	rec := httptest.NewRecorder()
	w := struct{ http.ResponseWriter }{rec} // no Unwrap
	httperror.Write(w, r, fmt.Errorf("store: %w", statusOnly(503)))
	if rec.Code != 503 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s", rec.Code, rec.Header())
	}
	var pd map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &pd); err != nil {
		t.Fatal(err)
	}
	if pd["status"] != 503.0 || pd["title"] != "Service Unavailable" || pd["step"] != "parse" {
		t.Errorf("got problem %v", pd)
	}
	if !strings.Contains(logs.String(), `"msg":"request failed"`) || !strings.Contains(logs.String(), "store: status only") {
		t.Errorf("got logs %s; want the 503 logged with its cause on the context's logger", logs.String())
	}
}

func TestCauseNeverShown(t *testing.T) {
	for _, err := range []error{
		errors.New("secret"),
		&httperror.Error{Status: 502, Err: errors.New("secret")},
		&carrier{status: 400},
		fmt.Errorf("secret: %w", statusOnly(400)),
	} {
		w := httptest.NewRecorder()
		httperror.Write(w, httptest.NewRequest("GET", "/", nil), err)
		if strings.Contains(w.Body.String(), "secret") {
			t.Errorf("%v: body %s shows the cause", err, w.Body)
		}
	}
}

func TestHasStatus(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{errors.New("x"), false},
		{&httperror.Error{Message: "x"}, false},
		{&httperror.Error{Status: 400}, true},
		{fmt.Errorf("w: %w", statusOnly(401)), true},
		{&httperror.Error{Step: "s", Err: statusOnly(401)}, true},
	} {
		if got := httperror.HasStatus(tt.err); got != tt.want {
			t.Errorf("HasStatus(%v): got %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	e := &httperror.Error{Step: "authenticate", Err: &carrier{status: 401, msg: "invalid token"}}
	if got, want := e.Error(), "authenticate: 401 invalid token: carrier: secret detail"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if e.HTTPStatus() != 401 || e.PublicMessage() != "invalid token" {
		t.Errorf("got %d %q", e.HTTPStatus(), e.PublicMessage())
	}
}

// cyclic is an error whose chain never ends.
type cyclic struct{}

func (c *cyclic) Error() string { return "cyclic" }
func (c *cyclic) Unwrap() error { return c }

func TestCyclicChainEnds(t *testing.T) {
	if got := httperror.Status(&cyclic{}); got != 500 {
		t.Errorf("got %d", got)
	}
}

func TestDecider(t *testing.T) {
	c := &carrier{status: 401}
	inner := &httperror.Error{Status: 404}
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"plain", errors.New("x"), nil},
		{"carrier", fmt.Errorf("w: %w", c), c},
		{"out of range first", errors.Join(statusOnly(302), c), c},
		{"Error without status over a carrier", &httperror.Error{Step: "s", Err: c}, c},
		{"Error with status", fmt.Errorf("w: %w", inner), inner},
	} {
		if got := httperror.Decider(tt.err); got != tt.want {
			t.Errorf("%s: Decider = %v, want %v", tt.name, got, tt.want)
		}
	}
}
