package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/session"
)

// sessionShapes builds, for each HTTP source, the event of GET /session
// carrying the Cookie pairs cookies.
var sessionShapes = map[string]func(cookies []string) any{
	"v1": func(cookies []string) any {
		e := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/session", Resource: "/{proxy+}",
			Headers: map[string]string{}, MultiValueHeaders: map[string][]string{}}
		if len(cookies) > 0 {
			e.Headers["Cookie"] = strings.Join(cookies, "; ")
			e.MultiValueHeaders["Cookie"] = []string{e.Headers["Cookie"]}
		}
		return e
	},
	"v2": func(cookies []string) any {
		return events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: "/session", Cookies: cookies,
			Headers: map[string]string{"accept": "application/json"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "api.example.com",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/session"}}}
	},
	"url": func(cookies []string) any {
		return events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/session", Cookies: cookies,
			Headers: map[string]string{"accept": "application/json"},
			RequestContext: events.LambdaFunctionURLRequestContext{DomainName: "abcdefgh.lambda-url.eu-west-1.on.aws",
				HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "GET", Path: "/session"}}}
	},
	"alb": func(cookies []string) any {
		h := map[string]string{"accept": "application/json"}
		if len(cookies) > 0 {
			h["cookie"] = strings.Join(cookies, "; ")
		}
		return events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: "/session", Headers: h,
			RequestContext: events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/orders/1"}}}
	},
	"alb-multi": func(cookies []string) any {
		h := map[string][]string{"accept": {"application/json"}}
		if len(cookies) > 0 {
			h["cookie"] = []string{strings.Join(cookies, "; ")}
		}
		return events.ALBTargetGroupRequest{HTTPMethod: "GET", Path: "/session", MultiValueHeaders: h,
			RequestContext: events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/orders/1"}}}
	},
}

// visitsAnswer reads a /session response: its visit count and the name=value
// pair of its Set-Cookie, taken from where the source of shape reads it.
func visitsAnswer(t *testing.T, shape string, out []byte) (visits int, cookie string) {
	t.Helper()
	var r struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Cookies           []string            `json:"cookies"`
		Body              string              `json:"body"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("%s: got %s (%v)", shape, out, err)
	}
	var body struct {
		Visits int `json:"visits"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("%s: body %q: %v", shape, r.Body, err)
	}
	var set []string
	switch shape {
	case "v1", "alb-multi":
		set = r.MultiValueHeaders["Set-Cookie"]
	case "v2", "url":
		set = r.Cookies
	case "alb":
		if v, ok := r.Headers["Set-Cookie"]; ok {
			set = []string{v}
		}
	}
	if len(set) != 1 {
		t.Fatalf("%s: got Set-Cookie %q in %s, want one", shape, set, out)
	}
	c, err := http.ParseSetCookie(set[0])
	if err != nil || c.Name != "visits" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.MaxAge != int(visitsTTL/time.Second) {
		t.Fatalf("%s: Set-Cookie %q reads as %+v, %v", shape, set[0], c, err)
	}
	return body.Visits, c.Name + "=" + c.Value
}

func invokeVisits(t *testing.T, a *app.App, shape string, cookies ...string) []byte {
	t.Helper()
	payload, err := json.Marshal(sessionShapes[shape](cookies))
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "test"})
	out, err := a.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("%s: %v", shape, err)
	}
	return out
}

func TestSessionVisitsEveryShape(t *testing.T) {
	for shape := range sessionShapes {
		t.Run(shape, func(t *testing.T) {
			a := testApp()
			n, cookie := visitsAnswer(t, shape, invokeVisits(t, a, shape))
			if n != 1 {
				t.Errorf("first call: got %d visits, want 1", n)
			}
			for want := 2; want <= 3; want++ {
				n, cookie = visitsAnswer(t, shape, invokeVisits(t, a, shape, "other=x", cookie))
				if n != want {
					t.Errorf("call %d: got %d visits", want, n)
				}
			}
			// A cookie with one character changed starts the count again.
			forged := []byte(cookie)
			if i := len("visits=") + 20; forged[i] == 'A' {
				forged[i] = 'B'
			} else {
				forged[i] = 'A'
			}
			if n, _ := visitsAnswer(t, shape, invokeVisits(t, a, shape, string(forged))); n != 1 {
				t.Errorf("tampered cookie: got %d visits, want 1", n)
			}
		})
	}
}

func TestSessionKeysFromEnv(t *testing.T) {
	key := make([]byte, session.KeySize)
	key[0] = 7
	t.Setenv("ORDERS_SESSION_KEYS", base64.StdEncoding.EncodeToString(key))
	a := testApp()
	_, cookie := visitsAnswer(t, "v2", invokeVisits(t, a, "v2"))
	sealer, _ := session.NewSealer(key)
	if v, err := sealer.Open("visits", strings.TrimPrefix(cookie, "visits="), time.Now()); err != nil || v != "1" {
		t.Errorf("the cookie does not open with the key from the environment: %q, %v", v, err)
	}

	// Another instance with the same keys reads the cookie.
	if n, _ := visitsAnswer(t, "v2", invokeVisits(t, testApp(), "v2", cookie)); n != 2 {
		t.Errorf("second instance: got %d visits, want 2", n)
	}

	t.Setenv("ORDERS_SESSION_KEYS", "not-a-key")
	defer func() {
		if v := recover(); v == nil || !strings.Contains(v.(string), "ORDERS_SESSION_KEYS") {
			t.Errorf("bad keys: got panic %v, want one naming ORDERS_SESSION_KEYS", v)
		}
	}()
	newApp(newStore(), app.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
}

// TestEmulatorSession runs the example under the Lambda Runtime Interface
// Emulator and counts visits with REST (payload 1.0) and HTTP API (payload
// 2.0) events, sending back the cookie each answer sets.
func TestEmulatorSession(t *testing.T) {
	bin := testenv.BuildFunction(t, ".")
	key := make([]byte, session.KeySize)
	key[31] = 1
	url := testenv.RIE(t, bin, "ORDERS_SESSION_KEYS="+base64.StdEncoding.EncodeToString(key))
	for _, shape := range []string{"v1", "v2"} {
		var cookies []string
		for want := 1; want <= 2; want++ {
			payload, _ := json.Marshal(sessionShapes[shape](cookies))
			n, cookie := visitsAnswer(t, shape, rieInvoke(t, url, payload))
			if n != want {
				t.Errorf("%s call %d: got %d visits", shape, want, n)
			}
			cookies = []string{cookie}
		}
	}
}
