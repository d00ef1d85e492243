package app

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// pathSeen is what a handler saw of the request's path.
type pathSeen struct {
	Route, Path, RawPath, Escaped, Value string
}

// pathApp routes an admin page, a wildcard that a double-decoded path would
// leave for it, a rest wildcard and a one-segment wildcard, and answers with
// what it saw.
func pathApp() *App {
	a := quietApp(nil)
	seen := func(value string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			JSON(w, r, 200, pathSeen{
				Route: r.Pattern, Path: r.URL.Path, RawPath: r.URL.RawPath, Escaped: r.URL.EscapedPath(),
				Value: r.PathValue(value),
			})
		}
	}
	a.HandleFunc("GET /admin/users", seen(""))
	a.HandleFunc("GET /{first}/users", seen("first"))
	a.HandleFunc("GET /files/v1/{rest...}", seen("rest"))
	a.HandleFunc("GET /orders/{id}/items", seen("id"))
	return a
}

// TestPathDecodedOncePerSource sends the same client paths through every
// source. HTTP APIs (payload 1.0 and 2.0) hand the function the path
// decoded once already, REST APIs, function URLs and ALB still encoded:
// either way the handler must see the path the client sent, decoded exactly
// once, and the router must match that path. A second decode would let
// /%2561dmin/users reach GET /admin/users, past whatever API Gateway
// attached to the route it matched.
func TestPathDecodedOncePerSource(t *testing.T) {
	tests := []struct {
		name string
		path string // as the client sent it
		// what the handler sees, for every source
		want pathSeen
		// the status from the HTTP APIs, when not 200: an encoded slash
		// they have decoded cannot be told from a separator any more
		status int
	}{
		{
			name: "encoded percent before a letter",
			path: "/%2561dmin/users",
			want: pathSeen{Route: "GET /{first}/users", Path: "/%61dmin/users", RawPath: "/%2561dmin/users", Escaped: "/%2561dmin/users", Value: "%61dmin"},
		},
		{
			name: "encoded percent twice",
			path: "/files/v1/100%2525",
			want: pathSeen{Route: "GET /files/v1/{rest...}", Path: "/files/v1/100%25", RawPath: "/files/v1/100%2525", Escaped: "/files/v1/100%2525", Value: "100%25"},
		},
		{
			name: "encoded percent",
			path: "/files/v1/100%25",
			want: pathSeen{Route: "GET /files/v1/{rest...}", Path: "/files/v1/100%", RawPath: "/files/v1/100%25", Escaped: "/files/v1/100%25", Value: "100%"},
		},
		{
			name:   "encoded slash",
			path:   "/orders/a%2Fb/items",
			want:   pathSeen{Route: "GET /orders/{id}/items", Path: "/orders/a/b/items", RawPath: "/orders/a%2Fb/items", Escaped: "/orders/a%2Fb/items", Value: "a/b"},
			status: http.StatusNotFound, // the HTTP API sent /orders/a/b/items
		},
		{
			name: "plain",
			path: "/admin/users",
			want: pathSeen{Route: "GET /admin/users", Path: "/admin/users", Escaped: "/admin/users"},
		},
	}
	a := pathApp()
	for _, shape := range shapes {
		for _, tt := range tests {
			t.Run(shape+"/"+tt.name, func(t *testing.T) {
				got := invoke(t, a, makeEvent(t, shape, req{path: tt.path}))
				wantStatus := 200
				if decodesPath(shape) && tt.status != 0 {
					wantStatus = tt.status
				}
				if got.StatusCode != wantStatus {
					t.Fatalf("got status %d, want %d; body %s", got.StatusCode, wantStatus, got.Body)
				}
				if wantStatus != 200 {
					return
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
}

// TestPathBadEncoding: a source that sends the path encoded and sends one
// that is not valid percent-encoding gets 400, as net/http answers; the same
// bytes from an HTTP API are a decoded path and are taken as they are.
func TestPathBadEncoding(t *testing.T) {
	a := pathApp()
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			got := invoke(t, a, makeEvent(t, shape, req{path: "/files/v1/100%zz"}))
			if decodesPath(shape) {
				if got.StatusCode != 200 || !strings.Contains(got.Body, `"Path":"/files/v1/100%zz"`) {
					t.Errorf("got %d %s, want 200 with the path as sent", got.StatusCode, got.Body)
				}
				return
			}
			if got.StatusCode != 400 || !strings.Contains(got.Body, `"step":"request"`) {
				t.Errorf("got %d %s, want a 400 envelope", got.StatusCode, got.Body)
			}
		})
	}
}

// TestLocalServerDecodesLikeAPIGateway: the local server hands the app the
// HTTP API 2.0 event API Gateway would, with rawPath decoded, so that local
// runs route as Lambda does.
func TestLocalServerDecodesLikeAPIGateway(t *testing.T) {
	a := pathApp()
	a.HandleFunc("GET /event/v2/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		ev, _ := event.FromContext(r.Context())
		e, ok := event.As[events.APIGatewayV2HTTPRequest](ev)
		if !ok {
			WriteError(w, r, NewError(500, "not an HTTP API event"))
			return
		}
		JSON(w, r, 200, map[string]string{"rawPath": e.RawPath, "path": e.RequestContext.HTTP.Path, "rawQuery": e.RawQueryString})
	})
	ln := serveLocal(t, a)
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get("http://" + ln.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	status, body := get("/event/v2/a%2Fb%2561?q=a%26b")
	if status != 200 || body != `{"path":"/event/v2/a/b%61","rawPath":"/event/v2/a/b%61","rawQuery":"q=a%26b"}` {
		t.Errorf("event: got %d %s", status, body)
	}
	status, body = get("/%2561dmin/users")
	if status != 200 || !strings.Contains(body, `"Route":"GET /{first}/users"`) {
		t.Errorf("/%%2561dmin/users: got %d %s, want the {first} route", status, body)
	}
	// API Gateway hands the function /orders/a/b/items, which no route
	// takes.
	if status, body = get("/orders/a%2Fb/items"); status != 404 {
		t.Errorf("/orders/a%%2Fb/items: got %d %s, want 404", status, body)
	}
}
