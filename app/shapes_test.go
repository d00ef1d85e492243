package app

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// req describes an HTTP request to be sent in any event shape.
type req struct {
	method  string
	path    string // the path as the client sent it, percent-encoded
	query   string // raw query
	header  map[string][]string
	cookies []string
	body    string
	base64  bool
}

// shapes are the HTTP event shapes: REST API (v1), HTTP API in payload
// formats 1.0 (http-v1) and 2.0 (v2), function URL, ALB without and with
// multi-value headers.
var shapes = []string{"v1", "http-v1", "v2", "url", "alb", "alb-multi"}

// decodesPath reports whether shape's source hands the function the path
// already percent-decoded: HTTP APIs do, in both payload formats.
func decodesPath(shape string) bool { return shape == "http-v1" || shape == "v2" }

// makeEvent encodes r as the event that shape's source would send.
func makeEvent(t testing.TB, shape string, r req) []byte {
	t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	if decodesPath(shape) {
		// API Gateway HTTP APIs decode the path before invoking the
		// function (and refuse a path that is not valid encoding; the
		// tests send such paths as they are).
		if p, err := url.PathUnescape(r.path); err == nil {
			r.path = p
		}
	}
	q, _ := url.ParseQuery(r.query) // keeps the pairs that parse
	single := func(lower bool) map[string]string {
		m := map[string]string{}
		for k, vs := range r.header {
			if lower {
				k = strings.ToLower(k)
			}
			m[k] = strings.Join(vs, ",")
		}
		return m
	}
	var v any
	switch shape {
	case "v1", "http-v1":
		mh := map[string][]string{}
		for k, vs := range r.header {
			mh[k] = vs
		}
		if len(r.cookies) > 0 {
			mh["Cookie"] = []string{strings.Join(r.cookies, "; ")}
		}
		sh := map[string]string{}
		for k, vs := range mh {
			sh[k] = vs[len(vs)-1]
		}
		qs := map[string]string{}
		for k, vs := range q {
			qs[k] = vs[len(vs)-1]
		}
		e := events.APIGatewayProxyRequest{
			Resource: "/{proxy+}", Path: r.path, HTTPMethod: r.method,
			Headers: sh, MultiValueHeaders: mh,
			QueryStringParameters: qs, MultiValueQueryStringParameters: q,
			RequestContext: events.APIGatewayProxyRequestContext{
				DomainName: "abc.execute-api.eu-west-1.amazonaws.com", Stage: "prod",
				Identity: events.APIGatewayRequestIdentity{SourceIP: "203.0.113.9"},
			},
			Body: r.body, IsBase64Encoded: r.base64,
		}
		v = e
		if shape == "http-v1" {
			// An HTTP API in payload format 1.0 sends the REST shape
			// with a version, which aws-lambda-go's type lacks.
			e.RequestContext.Stage = "$default"
			v = struct {
				Version string `json:"version"`
				events.APIGatewayProxyRequest
			}{"1.0", e}
		}
	case "v2", "url":
		domain := "api.example.com"
		if shape == "url" {
			domain = "abcdef.lambda-url.eu-west-1.on.aws"
		}
		qs := map[string]string{}
		for k, vs := range q {
			qs[k] = strings.Join(vs, ",")
		}
		v = events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default", RawPath: r.path, RawQueryString: r.query,
			Cookies: r.cookies, Headers: single(true), QueryStringParameters: qs,
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				DomainName: domain,
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.method, Path: r.path, SourceIP: "203.0.113.9"},
			},
			Body: r.body, IsBase64Encoded: r.base64,
		}
	case "alb", "alb-multi":
		e := events.ALBTargetGroupRequest{
			HTTPMethod: r.method, Path: r.path,
			RequestContext: events.ALBTargetGroupRequestContext{ELB: events.ELBContext{TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1"}},
			Body:           r.body, IsBase64Encoded: r.base64,
		}
		hs := map[string][]string{"x-forwarded-for": {"203.0.113.9"}}
		for k, vs := range r.header {
			hs[strings.ToLower(k)] = vs
		}
		if len(r.cookies) > 0 {
			hs["cookie"] = []string{strings.Join(r.cookies, "; ")}
		}
		// ALB passes the query as sent, still encoded.
		rawQ := map[string][]string{}
		for _, pair := range strings.Split(r.query, "&") {
			if pair == "" {
				continue
			}
			k, val, _ := strings.Cut(pair, "=")
			rawQ[k] = append(rawQ[k], val)
		}
		if shape == "alb-multi" {
			e.MultiValueHeaders, e.MultiValueQueryStringParameters = hs, rawQ
		} else {
			e.Headers, e.QueryStringParameters = map[string]string{}, map[string]string{}
			for k, vs := range hs {
				e.Headers[k] = vs[len(vs)-1]
			}
			for k, vs := range rawQ {
				e.QueryStringParameters[k] = vs[len(vs)-1]
			}
		}
		v = e
	default:
		t.Fatalf("unknown shape %q", shape)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// header returns the response header name's values whatever the shape.
func (r response) header(name string) []string {
	if vs, ok := r.MultiValueHeaders[name]; ok {
		return vs
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return []string{v}
		}
	}
	return nil
}
