package otelspan

import (
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funcify/funcify/event"
)

// request is what a span records of an HTTP event's request, read from the
// event itself, before the app has made an *http.Request of it.
type request struct {
	method, path, scheme, host, userAgent, client string
	header                                        header
}

// header looks up a request header in an event's single- and multi-value
// maps, ignoring case: API Gateway's REST APIs and ALB keep the case the
// client sent.
type header struct {
	single map[string]string
	multi  map[string][]string
}

// Get returns the first value of the header name, or "".
func (h header) Get(name string) string {
	if v, ok := h.single[name]; ok {
		return v
	}
	for k, v := range h.single {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range h.multi {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

// Set and Keys make header a propagation.TextMapCarrier for reading.
func (h header) Set(string, string) {}

// Keys returns the header names.
func (h header) Keys() []string {
	keys := make([]string, 0, len(h.single)+len(h.multi))
	for k := range h.single {
		keys = append(keys, k)
	}
	for k := range h.multi {
		keys = append(keys, k)
	}
	return keys
}

// httpRequest returns the request of an HTTP event, and false for any other
// event.
func httpRequest(ev *event.Event) (request, bool) {
	if ev == nil {
		return request{}, false
	}
	var r request
	switch v := ev.Value.(type) {
	case *events.APIGatewayV2HTTPRequest:
		r = request{method: v.RequestContext.HTTP.Method, path: v.RawPath, scheme: "https",
			host: v.RequestContext.DomainName, userAgent: v.RequestContext.HTTP.UserAgent,
			client: v.RequestContext.HTTP.SourceIP, header: header{single: v.Headers}}
	case *events.LambdaFunctionURLRequest:
		r = request{method: v.RequestContext.HTTP.Method, path: v.RawPath, scheme: "https",
			host: v.RequestContext.DomainName, userAgent: v.RequestContext.HTTP.UserAgent,
			client: v.RequestContext.HTTP.SourceIP, header: header{single: v.Headers}}
	case *events.APIGatewayProxyRequest:
		r = request{method: v.HTTPMethod, path: v.Path, scheme: "https",
			host: v.RequestContext.DomainName, userAgent: v.RequestContext.Identity.UserAgent,
			client: v.RequestContext.Identity.SourceIP, header: header{single: v.Headers, multi: v.MultiValueHeaders}}
	case *events.ALBTargetGroupRequest:
		r = request{method: v.HTTPMethod, path: v.Path, header: header{single: v.Headers, multi: v.MultiValueHeaders}}
		r.scheme = r.header.Get("X-Forwarded-Proto")
		// The client is the first address X-Forwarded-For names: the
		// load balancer appends the one it saw.
		if xff := r.header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			r.client = strings.TrimSpace(first)
		}
	default:
		return request{}, false
	}
	if r.host == "" {
		r.host = r.header.Get("Host")
	}
	if r.userAgent == "" {
		r.userAgent = r.header.Get("User-Agent")
	}
	return r, true
}

// knownMethods are the methods HTTP semantic conventions name; any other
// is recorded as _OTHER, so that a client cannot make up values.
var knownMethods = map[string]bool{
	http.MethodConnect: true, http.MethodDelete: true, http.MethodGet: true, http.MethodHead: true,
	http.MethodOptions: true, http.MethodPatch: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodTrace: true, "QUERY": true,
}

// routePath returns the path of a ServeMux pattern such as
// "POST example.com/orders/{id}": "/orders/{id}".
func routePath(pattern string) string {
	if i := strings.IndexAny(pattern, " \t"); i >= 0 {
		pattern = strings.TrimLeft(pattern[i:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // a host
	}
	return pattern
}
