package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// basePathApp routes an order, a report whose first segment is a stage's
// name, and the root, and answers with what the handler saw.
func basePathApp(opts ...Option) *App {
	a := quietApp(nil, opts...)
	seen := func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, 200, pathSeen{
			Route: r.Pattern, Path: r.URL.Path, RawPath: r.URL.RawPath, Escaped: r.URL.EscapedPath(),
			Value: r.PathValue("id"),
		})
	}
	a.HandleFunc("GET /orders/{id}", seen)
	a.HandleFunc("GET /prod/reports", seen)
	a.HandleFunc("GET /{$}", seen)
	return a
}

// basePathEvent reads testdata/basepath/name, an event modelled on AWS's
// published examples, and applies edit to it.
func basePathEvent(t *testing.T, name string, edit func(e map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "basepath", name))
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return b
	}
	var e map[string]any
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	edit(e)
	if b, err = json.Marshal(e); err != nil {
		t.Fatal(err)
	}
	return b
}

// withPath sets the path an event carries: path (and requestContext.path)
// in the REST shape, rawPath and requestContext.http.path in the 2.0 one.
func withPath(p string) func(map[string]any) {
	return func(e map[string]any) {
		rc, _ := e["requestContext"].(map[string]any)
		if _, ok := e["rawPath"]; ok {
			e["rawPath"] = p
			rc["http"].(map[string]any)["path"] = p
			return
		}
		e["path"] = p
		if _, ok := rc["path"]; ok {
			rc["path"] = p
		}
	}
}

// set sets a field of the event, or of its requestContext.
func set(field string, v any) func(map[string]any) {
	return func(e map[string]any) {
		if f, ok := strings.CutPrefix(field, "requestContext."); ok {
			e["requestContext"].(map[string]any)[f] = v
			return
		}
		e[field] = v
	}
}

func edits(fs ...func(map[string]any)) func(map[string]any) {
	return func(e map[string]any) {
		for _, f := range fs {
			f(e)
		}
	}
}

// requireBasePathStep fails t at once, with a message that says why, if the
// app's pipeline does not run the base path step at all.
func requireBasePathStep(t *testing.T) {
	t.Helper()
	got := invoke(t, basePathApp(WithBasePath("/v1")), basePathEvent(t, "alb.json", nil))
	if got.StatusCode == http.StatusNotFound {
		t.Fatalf("/v1/orders/42 with WithBasePath(\"/v1\"): got %s; App.httpHandler must put the base path step "+
			"(h = a.opts.base.handler(h), see basepath.go) in the pipeline", got.Body)
	}
}

// TestBasePath goes through every source, each with no base path option,
// the event's proof, a fixed prefix and both, with events modelled on
// AWS's published examples (see WithBasePathFromEvent for what each source
// carries), and checks what the handler sees, or the route's 404 envelope
// for a path outside the prefix.
func TestBasePath(t *testing.T) {
	var (
		fromEvent = []Option{WithBasePathFromEvent()}
		v1        = []Option{WithBasePath("/v1")}
		prod      = []Option{WithBasePath("/prod")}
		both      = []Option{WithBasePathFromEvent(), WithBasePath("/v1")}
		order     = pathSeen{Route: "GET /orders/{id}", Path: "/orders/42", Escaped: "/orders/42", Value: "42"}
		slashID   = pathSeen{Route: "GET /orders/{id}", Path: "/orders/a/b", RawPath: "/orders/a%2Fb", Escaped: "/orders/a%2Fb", Value: "a/b"}
		root      = pathSeen{Route: "GET /{$}", Path: "/", Escaped: "/"}
		reports   = pathSeen{Route: "GET /prod/reports", Path: "/prod/reports", Escaped: "/prod/reports"}
	)
	tests := []struct {
		name    string
		fixture string
		edit    func(map[string]any)
		opts    []Option
		want    pathSeen // the zero value: the 404 of a path no route takes
	}{
		// REST API on the execute-api domain: path has no stage.
		{name: "rest/execute-api/none", fixture: "rest-execute-api.json", want: order},
		{name: "rest/execute-api/event", fixture: "rest-execute-api.json", opts: fromEvent, want: order},
		{name: "rest/execute-api/prefix outside", fixture: "rest-execute-api.json", opts: v1},
		{name: "rest/execute-api/both: the event proves no prefix", fixture: "rest-execute-api.json", opts: both, want: order},

		// REST API behind a custom domain's base path mapping v1.
		{name: "rest/mapping/none", fixture: "rest-custom-domain.json"},
		{name: "rest/mapping/event", fixture: "rest-custom-domain.json", opts: fromEvent, want: order},
		{name: "rest/mapping/prefix", fixture: "rest-custom-domain.json", opts: v1, want: order},
		{name: "rest/mapping/both", fixture: "rest-custom-domain.json", opts: both, want: order},
		{name: "rest/mapping/event, mapping without a stage", fixture: "rest-custom-domain.json", opts: fromEvent,
			edit: withPath("/v1/prod/orders/42"), want: order},
		{name: "rest/mapping/event, encoded slash in the id", fixture: "rest-custom-domain.json", opts: fromEvent,
			edit: edits(withPath("/v1/orders/a%2Fb"), set("pathParameters", map[string]string{"id": "a/b"})), want: slashID},
		{name: "rest/mapping/prefix, encoded slash in the id", fixture: "rest-custom-domain.json", opts: v1,
			edit: edits(withPath("/v1/orders/a%2Fb"), set("pathParameters", map[string]string{"id": "a/b"})), want: slashID},
		{name: "rest/mapping/prefix sent encoded", fixture: "rest-custom-domain.json", opts: v1,
			edit: withPath("/%761/orders/42"), want: order},
		{name: "rest/mapping/event, prefix sent encoded", fixture: "rest-custom-domain.json", opts: fromEvent,
			edit: withPath("/%761/orders/42"), want: order},
		{name: "rest/mapping/prefix, longer first segment", fixture: "rest-custom-domain.json", opts: v1,
			edit: withPath("/v1x/orders/42")},
		{name: "rest/mapping/prefix, encoded slash is no separator", fixture: "rest-custom-domain.json", opts: v1,
			edit: withPath("/v1%2Forders/42")},
		{name: "rest/mapping/event, root resource", fixture: "rest-custom-domain.json", opts: fromEvent,
			edit: edits(withPath("/v1"), set("resource", "/"), set("pathParameters", nil)), want: root},
		{name: "rest/mapping/event, the path does not end with the resource", fixture: "rest-custom-domain.json", opts: fromEvent,
			edit: edits(withPath("/v1/orders/42"), set("resource", "/items/{id}"))},
		{name: "rest/proxy/event", fixture: "rest-custom-domain-proxy.json", opts: fromEvent, want: order},
		{name: "rest/proxy/event, proxy value not in the path", fixture: "rest-custom-domain-proxy.json", opts: fromEvent,
			edit: set("pathParameters", map[string]string{"proxy": "orders/43"})},

		// HTTP API 2.0, $default stage: rawPath is the route's path.
		{name: "v2/$default/none", fixture: "http-v2-default-stage.json", want: order},
		{name: "v2/$default/event", fixture: "http-v2-default-stage.json", opts: fromEvent, want: order},
		{name: "v2/$default/prefix outside", fixture: "http-v2-default-stage.json", opts: v1},

		// HTTP API 2.0, stage prod on the execute-api domain: rawPath
		// starts with /prod.
		{name: "v2/stage/none", fixture: "http-v2-named-stage.json"},
		{name: "v2/stage/event", fixture: "http-v2-named-stage.json", opts: fromEvent, want: order},
		{name: "v2/stage/prefix /prod", fixture: "http-v2-named-stage.json", opts: prod, want: order},
		{name: "v2/stage/prefix outside", fixture: "http-v2-named-stage.json", opts: v1},
		{name: "v2/stage/event, decoded percent in the id", fixture: "http-v2-named-stage.json", opts: fromEvent,
			edit: edits(withPath("/prod/orders/100%"), set("pathParameters", map[string]string{"id": "100%"})),
			want: pathSeen{Route: "GET /orders/{id}", Path: "/orders/100%", RawPath: "/orders/100%25", Escaped: "/orders/100%25", Value: "100%"}},
		{name: "v2/stage/event, $default route: the domain proves the stage", fixture: "http-v2-named-stage-default-route.json", opts: fromEvent, want: order},
		{name: "v2/stage/event, $default route on a custom domain proves nothing", fixture: "http-v2-named-stage-default-route.json", opts: fromEvent,
			edit: set("requestContext.domainName", "api.example.com")},
		{name: "v2/stage/event and prefix, $default route on a custom domain", fixture: "http-v2-named-stage-default-route.json",
			opts: []Option{WithBasePathFromEvent(), WithBasePath("/prod")}, edit: set("requestContext.domainName", "api.example.com"), want: order},
		{name: "v2/stage/event, route under the stage's name", fixture: "http-v2-named-stage.json", opts: fromEvent,
			edit: edits(withPath("/prod/prod/reports"), set("routeKey", "GET /prod/reports"), set("pathParameters", nil)), want: reports},

		// HTTP API 2.0 on a custom domain: rawPath has no mapping key.
		{name: "v2/mapping/event", fixture: "http-v2-custom-domain.json", opts: fromEvent, want: order},
		{name: "v2/mapping/prefix outside", fixture: "http-v2-custom-domain.json", opts: v1},
		{name: "v2/mapping/event, route named like the stage", fixture: "http-v2-custom-domain-stage-route.json", opts: fromEvent, want: reports},
		{name: "v2/mapping/event, route named like the stage, $default route", fixture: "http-v2-custom-domain-stage-route.json", opts: fromEvent,
			edit: set("routeKey", "$default"), want: reports},

		// HTTP API 1.0: path carries the stage or mapping, resource not.
		{name: "http-v1/stage/none", fixture: "http-v1-named-stage.json"},
		{name: "http-v1/stage/event", fixture: "http-v1-named-stage.json", opts: fromEvent, want: order},
		{name: "http-v1/mapping/event", fixture: "http-v1-custom-domain.json", opts: fromEvent, want: order},
		{name: "http-v1/mapping/prefix", fixture: "http-v1-custom-domain.json", opts: v1, want: order},

		// Function URLs and ALBs add nothing: only a fixed prefix strips.
		{name: "url/none", fixture: "function-url.json"},
		{name: "url/event proves nothing", fixture: "function-url.json", opts: fromEvent},
		{name: "url/prefix", fixture: "function-url.json", opts: v1, want: order},
		{name: "url/both", fixture: "function-url.json", opts: both, want: order},
		{name: "url/prefix, path without it", fixture: "function-url.json", opts: v1, edit: withPath("/orders/42")},
		{name: "url/prefix, the prefix alone", fixture: "function-url.json", opts: v1, edit: withPath("/v1"), want: root},
		{name: "url/prefix, the prefix and a slash", fixture: "function-url.json", opts: v1, edit: withPath("/v1/"), want: root},
		{name: "url/prefix, encoded slash in the id", fixture: "function-url.json", opts: v1, edit: withPath("/v1/orders/a%2Fb"), want: slashID},
		{name: "alb/prefix", fixture: "alb.json", opts: v1, want: order},
		{name: "alb/prefix, longer first segment", fixture: "alb.json", opts: v1, edit: withPath("/v1x/orders/42")},
		{name: "alb/prefix of two segments", fixture: "alb.json", opts: []Option{WithBasePath("/api/v1")}, edit: withPath("/api/v1/orders/42"), want: order},
		{name: "alb/prefix of two segments, one missing", fixture: "alb.json", opts: []Option{WithBasePath("/api/v1")}, edit: withPath("/api/orders/42")},
		{name: "alb/root prefix strips nothing", fixture: "alb.json", opts: []Option{WithBasePath("/")}, edit: withPath("/orders/42"), want: order},
	}
	requireBasePathStep(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := basePathEvent(t, tt.fixture, tt.edit)
			got := invoke(t, basePathApp(tt.opts...), payload)
			if tt.want == (pathSeen{}) {
				var sent struct {
					Path, RawPath string
				}
				json.Unmarshal(payload, &sent)
				path := sent.Path + sent.RawPath
				if !strings.HasPrefix(tt.fixture, "http-") {
					// REST APIs, function URLs and ALBs send it
					// encoded; the message has it decoded.
					path, _ = url.PathUnescape(path)
				}
				want := `{"error":"no route for GET ` + path + `","code":404,"step":"route","ctx":{}}`
				if got.StatusCode != http.StatusNotFound || got.Body != want {
					t.Errorf("got %d %s\nwant 404 %s", got.StatusCode, got.Body, want)
				}
				return
			}
			if got.StatusCode != http.StatusOK {
				t.Fatalf("got status %d, want 200; body %s", got.StatusCode, got.Body)
			}
			var s pathSeen
			if err := json.Unmarshal([]byte(got.Body), &s); err != nil {
				t.Fatal(err)
			}
			if s != tt.want {
				t.Errorf("got  %+v\nwant %+v", s, tt.want)
			}
		})
	}
}

// TestBasePathKeepsRequestURI: r.RequestURI keeps the path as it came, as
// http.StripPrefix leaves it.
func TestBasePathKeepsRequestURI(t *testing.T) {
	requireBasePathStep(t)
	a := quietApp(nil, WithBasePath("/v1"))
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, 200, map[string]string{"uri": r.RequestURI, "path": r.URL.Path})
	})
	got := invoke(t, a, basePathEvent(t, "alb.json", nil))
	if want := `{"path":"/orders/42","uri":"/v1/orders/42"}`; got.StatusCode != 200 || got.Body != want {
		t.Errorf("got %d %s, want 200 %s", got.StatusCode, got.Body, want)
	}
}

// TestBasePathOutsideProblemDetails: the 404 of a path outside the prefix
// is the router's, in problem details too.
func TestBasePathOutsideProblemDetails(t *testing.T) {
	requireBasePathStep(t)
	got := invoke(t, basePathApp(WithBasePath("/v1"), WithProblemDetails()), basePathEvent(t, "alb.json", withPath("/v2/orders/42")))
	want := `{"type":"about:blank","title":"Not Found","status":404,"detail":"no route for GET /v2/orders/42","step":"route","ctx":{}}`
	if got.StatusCode != http.StatusNotFound || got.Body != want || got.header("Content-Type")[0] != "application/problem+json" {
		t.Errorf("got %d %v %s\nwant 404 application/problem+json %s", got.StatusCode, got.header("Content-Type"), got.Body, want)
	}
}

// TestBasePathNoOption: without a base path option the pipeline has no
// step of its own, so an invocation pays nothing for the feature.
func TestBasePathNoOption(t *testing.T) {
	var h http.Handler = routeHandler{mux: http.NewServeMux()}
	for _, opts := range [][]Option{nil, {WithBasePath("/")}} {
		a := New(opts...)
		if got := a.opts.base.handler(h); got != h {
			t.Errorf("options %v: got a handler of %T, want next itself", opts, got)
		}
	}
}

func TestWithBasePathPanics(t *testing.T) {
	for _, prefix := range []string{"", "v1", "/v1/", "//v1", "/v1//x", "/v1/./x", "/v1/..", "/{version}", "/v1/{$}", "/v*", "/v%31", "/v1?x", "/v1#x", "/v\x001"} {
		t.Run(prefix, func(t *testing.T) {
			defer func() {
				v := recover()
				if s, _ := v.(string); !strings.HasPrefix(s, "app: WithBasePath(\"") {
					t.Errorf("got panic %v, want one naming WithBasePath", v)
				}
			}()
			New(WithBasePath(prefix))
		})
	}
	for _, prefix := range []string{"/", "/v1", "/api/v1", "/v1.2", "/~team"} {
		New(WithBasePath(prefix)) // must not panic
	}
}

// invokeStatusBody invokes a with payload and prints the answer's status
// and body.
func invokeStatusBody(a *App, payload string) {
	out, err := a.Invoke(context.Background(), []byte(payload))
	if err != nil {
		fmt.Println(err)
		return
	}
	var resp struct {
		StatusCode int
		Body       string
	}
	json.Unmarshal(out, &resp)
	fmt.Println(resp.StatusCode, resp.Body)
}

func ExampleWithBasePathFromEvent() {
	a := New(WithLogger(slog.New(slog.DiscardHandler)), WithBasePathFromEvent())
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})

	// A REST API behind api.example.com's base path mapping v1: path
	// carries /v1, resource does not.
	invokeStatusBody(a, `{
		"resource": "/orders/{id}", "path": "/v1/orders/42", "httpMethod": "GET",
		"pathParameters": {"id": "42"},
		"requestContext": {"domainName": "api.example.com", "stage": "prod", "path": "/v1/orders/42"}
	}`)
	// An HTTP API's stage prod on its execute-api domain: rawPath carries
	// /prod, routeKey does not.
	invokeStatusBody(a, `{
		"version": "2.0", "routeKey": "GET /orders/{id}", "rawPath": "/prod/orders/42",
		"pathParameters": {"id": "42"},
		"requestContext": {"apiId": "a1b2c3d4e5", "domainName": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
			"stage": "prod", "http": {"method": "GET", "path": "/prod/orders/42"}}
	}`)
	// Output:
	// 200 {"id":"42"}
	// 200 {"id":"42"}
}

func ExampleWithBasePath() {
	a := New(WithLogger(slog.New(slog.DiscardHandler)), WithBasePath("/v1"))
	a.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})

	for _, path := range []string{"/v1/orders/42", "/orders/42", "/v1x/orders/42"} {
		invokeStatusBody(a, `{"version": "2.0", "rawPath": "`+path+`",
			"requestContext": {"http": {"method": "GET", "path": "`+path+`"}}}`)
	}
	// Output:
	// 200 {"id":"42"}
	// 404 {"error":"no route for GET /orders/42","code":404,"step":"route","ctx":{}}
	// 404 {"error":"no route for GET /v1x/orders/42","code":404,"step":"route","ctx":{}}
}

// TestBasePathAmbiguousTemplate: a template that matches the path's tail
// in two places ("/files/{proxy+}" in /v1/files/files/x, with no
// pathParameters to tell which) proves nothing, so nothing is stripped:
// stripping either "/v1" or "/v1/files" would be a guess.
func TestBasePathAmbiguousTemplate(t *testing.T) {
	if n, ok := templateTail("/files/{proxy+}", nil, "/v1/files/files/x"); ok {
		t.Errorf("templateTail: got %d segments proved, want none (two placements match)", n)
	}
	if n, ok := templateTail("/files/{proxy+}", map[string]string{"proxy": "x"}, "/v1/files/files/x"); !ok || n != 2 {
		t.Errorf("templateTail with proxy=x: got %d, %v; want 2, true", n, ok)
	}

	a := quietApp(nil, WithBasePathFromEvent())
	a.HandleFunc("GET /files/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, http.StatusOK, map[string]string{"path": r.URL.Path})
	})
	got := invoke(t, a, basePathEvent(t, "rest-custom-domain-proxy.json", edits(
		withPath("/v1/files/files/x"), set("resource", "/files/{proxy+}"), set("pathParameters", nil))))
	want := `{"error":"no route for GET /v1/files/files/x","code":404,"step":"route","ctx":{}}`
	if got.StatusCode != http.StatusNotFound || got.Body != want {
		t.Errorf("got %d %s\nwant 404 %s (the path unstripped)", got.StatusCode, got.Body, want)
	}
}
