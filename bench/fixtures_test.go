package bench

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestFixtures checks that the events are the size the baselines assume and
// carry what API Gateway sends, so a benchmark cannot pass on a thin event.
func TestFixtures(t *testing.T) {
	t.Run(fixtureV1, func(t *testing.T) {
		raw := readFixture(t, fixtureV1)
		checkSize(t, raw, 2900, 3200)

		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		rc := ev.RequestContext
		for _, f := range []struct{ name, got, want string }{
			{"resource", ev.Resource, "/orders/{id}"},
			{"path", ev.Path, "/orders/" + orderID},
			{"httpMethod", ev.HTTPMethod, "GET"},
			{"pathParameters.id", ev.PathParameters["id"], orderID},
			{"body", ev.Body, ""},
			{"requestContext.resourcePath", rc.ResourcePath, "/orders/{id}"},
			{"requestContext.httpMethod", rc.HTTPMethod, "GET"},
			{"requestContext.path", rc.Path, "/" + rc.Stage + "/orders/" + orderID},
			{"requestContext.domainName", rc.DomainName, ev.Headers["Host"]},
			{"requestContext.identity.userAgent", rc.Identity.UserAgent, ev.Headers["User-Agent"]},
		} {
			if f.got != f.want {
				t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
			}
		}
		for name, v := range map[string]string{
			"requestContext.accountId":         rc.AccountID,
			"requestContext.apiId":             rc.APIID,
			"requestContext.requestId":         rc.RequestID,
			"requestContext.stage":             rc.Stage,
			"requestContext.identity.sourceIp": rc.Identity.SourceIP,
		} {
			if v == "" {
				t.Errorf("%s is empty", name)
			}
		}
		if rc.RequestTimeEpoch == 0 {
			t.Error("requestContext.requestTimeEpoch is zero")
		}
		if ev.IsBase64Encoded {
			t.Error("isBase64Encoded = true, want false")
		}
		for _, h := range []string{
			"Accept", "Accept-Encoding", "CloudFront-Forwarded-Proto", "CloudFront-Viewer-Country",
			"Host", "User-Agent", "Via", "X-Amz-Cf-Id", "X-Amzn-Trace-Id",
			"X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto",
		} {
			if ev.Headers[h] == "" {
				t.Errorf("headers[%q] is missing", h)
			}
		}
		// API Gateway sends every header and query parameter in both maps.
		if got, want := slices.Sorted(maps.Keys(ev.MultiValueHeaders)), slices.Sorted(maps.Keys(ev.Headers)); !slices.Equal(got, want) {
			t.Errorf("multiValueHeaders keys = %q, want %q", got, want)
		}
		if len(ev.QueryStringParameters) == 0 {
			t.Error("queryStringParameters is empty")
		}
		for k, v := range ev.QueryStringParameters {
			if got := ev.MultiValueQueryStringParameters[k]; !slices.Equal(got, []string{v}) {
				t.Errorf("multiValueQueryStringParameters[%q] = %q, want [%q]", k, got, v)
			}
		}
	})

	t.Run(fixtureV2, func(t *testing.T) {
		raw := readFixture(t, fixtureV2)
		checkSize(t, raw, 1900, 2100)

		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		rc := ev.RequestContext
		for _, f := range []struct{ name, got, want string }{
			{"version", ev.Version, "2.0"},
			{"routeKey", ev.RouteKey, "GET /orders/{id}"},
			{"rawPath", ev.RawPath, "/orders/" + orderID},
			{"pathParameters.id", ev.PathParameters["id"], orderID},
			{"body", ev.Body, ""},
			{"requestContext.routeKey", rc.RouteKey, ev.RouteKey},
			{"requestContext.http.method", rc.HTTP.Method, "GET"},
			{"requestContext.http.path", rc.HTTP.Path, ev.RawPath},
			{"requestContext.http.protocol", rc.HTTP.Protocol, "HTTP/1.1"},
			{"requestContext.http.userAgent", rc.HTTP.UserAgent, ev.Headers["user-agent"]},
			{"requestContext.domainName", rc.DomainName, ev.Headers["host"]},
		} {
			if f.got != f.want {
				t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
			}
		}
		for name, v := range map[string]string{
			"rawQueryString":               ev.RawQueryString,
			"requestContext.accountId":     rc.AccountID,
			"requestContext.apiId":         rc.APIID,
			"requestContext.requestId":     rc.RequestID,
			"requestContext.stage":         rc.Stage,
			"requestContext.http.sourceIp": rc.HTTP.SourceIP,
		} {
			if v == "" {
				t.Errorf("%s is empty", name)
			}
		}
		if rc.TimeEpoch == 0 {
			t.Error("requestContext.timeEpoch is zero")
		}
		if len(ev.Cookies) == 0 {
			t.Error("cookies is empty")
		}
		if len(ev.QueryStringParameters) == 0 {
			t.Error("queryStringParameters is empty")
		}
		// HTTP APIs lowercase header names.
		for h := range ev.Headers {
			if h != strings.ToLower(h) {
				t.Errorf("header %q is not lower case", h)
			}
		}
		if ev.IsBase64Encoded {
			t.Error("isBase64Encoded = true, want false")
		}
	})
}

func checkSize(t *testing.T, raw []byte, lo, hi int) {
	t.Helper()
	if n := len(raw); n < lo || n > hi {
		t.Errorf("size = %d bytes, want %d to %d", n, lo, hi)
	}
}
