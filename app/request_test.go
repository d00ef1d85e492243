package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// TestALBRemoteAddr: behind an ALB, RemoteAddr is the last X-Forwarded-For
// entry, the one the load balancer added; the entries before it are the
// client's word. Three entries, so that picking any other one shows.
func TestALBRemoteAddr(t *testing.T) {
	a := quietApp(nil)
	a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { JSON(w, r, 200, r.RemoteAddr) })
	for _, tt := range []struct {
		name  string
		multi bool
		xff   []string
	}{
		{"one header", false, []string{"198.51.100.7, 192.0.2.44, 203.0.113.9"}},
		{"one header, multi-value", true, []string{"198.51.100.7, 192.0.2.44, 203.0.113.9"}},
		{"three headers, multi-value", true, []string{"198.51.100.7", "192.0.2.44", "203.0.113.9"}},
		{"two headers, multi-value", true, []string{"198.51.100.7, 192.0.2.44", "203.0.113.9"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := events.ALBTargetGroupRequest{
				HTTPMethod: "GET", Path: "/",
				RequestContext: events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1"}},
			}
			if tt.multi {
				e.MultiValueHeaders = map[string][]string{"x-forwarded-for": tt.xff}
			} else {
				e.Headers = map[string]string{"x-forwarded-for": tt.xff[0]}
			}
			payload, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got := invoke(t, a, payload)
			if got.Body != `"203.0.113.9:0"` {
				t.Errorf("got RemoteAddr %s, want 203.0.113.9:0", got.Body)
			}
		})
	}
}

// TestHostHeader: for every event shape, the Host header sets r.Host and
// leaves r.Header, as net/http does.
func TestHostHeader(t *testing.T) {
	a := quietApp(nil)
	a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		JSON(w, r, 200, map[string]any{"host": r.Host, "header": r.Header.Values("Host"), "inHeader": len(r.Header["Host"]) > 0})
	})
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			got := invoke(t, a, makeEvent(t, shape, req{path: "/", header: map[string][]string{"Host": {"shop.example.com"}}}))
			if want := `{"header":null,"host":"shop.example.com","inHeader":false}`; got.Body != want {
				t.Errorf("got %s, want %s", got.Body, want)
			}
		})
	}
}

// TestUnhandledEventsAreNotAnsweredAsHTTP: an event of a kind funcify does
// not handle, however much it looks like an HTTP request (an API Gateway
// authorizer request, a Bedrock agent action group, a VPC Lattice request),
// fails the invocation: its source expects another answer than an HTTP
// response, and an authorizer that fails denies the request. So does an
// event of a non-HTTP kind the app has no route for.
func TestUnhandledEventsAreNotAnsweredAsHTTP(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "event", "testdata", "unhandled", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	a := routedApp(nil)
	a.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { JSON(w, r, 200, "answered as HTTP") })
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// A kind package event knows but this app has no routes
			// for fails with a *RouteError; any other with the
			// unknown-kind error.
			want := event.ErrUnknownKind
			if k, err := event.Sniff(payload); err == nil {
				if k.IsHTTP() {
					t.Fatalf("sniffed as %v", k)
				}
				want = ErrNoRoute
			}
			out, err := a.Invoke(invokeCtx(), payload)
			if out != nil || !errors.Is(err, want) {
				t.Errorf("got %s, %v; want no answer and %v", out, err, want)
			}
		})
	}
}
