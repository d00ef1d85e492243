package app

import (
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// errBadRequest is the cause of a 400 for an event that cannot become a
// request, such as one whose body is not valid base64.
var errBadRequest = errors.New("app: event is not a valid HTTP request")

// newRequest turns an HTTP event into the *http.Request a net/http handler
// expects: method, path (decoded exactly once, see [setPath]), query, headers
// in canonical case with Host moved to r.Host, cookies, body (base64
// decoded) and RemoteAddr "ip:0" from the source IP.
//
// The request has no context yet: the caller adds the invocation's, once.
func newRequest(ev *event.Event) (*http.Request, error) {
	var (
		method, path, rawQuery, host, sourceIP, body string
		isBase64, pathDecoded                        bool
		header                                       http.Header
	)
	switch v := ev.Value.(type) {
	case *events.APIGatewayProxyRequest:
		method, path, body, isBase64 = v.HTTPMethod, v.Path, v.Body, v.IsBase64Encoded
		header = headerFrom(v.MultiValueHeaders, v.Headers, nil)
		rawQuery = encodeQuery(v.MultiValueQueryStringParameters, v.QueryStringParameters)
		host = v.RequestContext.DomainName
		sourceIP = v.RequestContext.Identity.SourceIP
		// The same shape comes from REST APIs, which pass the path
		// encoded, and from HTTP APIs in payload format 1.0, which say
		// so with their version and pass it decoded.
		pathDecoded = ev.Version == "1.0"
	case *events.APIGatewayV2HTTPRequest:
		method, path, rawQuery, body, isBase64 = v.RequestContext.HTTP.Method, v.RawPath, v.RawQueryString, v.Body, v.IsBase64Encoded
		pathDecoded = true // HTTP APIs decode rawPath before invoking
		header = headerFrom(nil, v.Headers, v.Cookies)
		host = v.RequestContext.DomainName
		sourceIP = v.RequestContext.HTTP.SourceIP
		if path == "" {
			path = v.RequestContext.HTTP.Path
		}
	case *events.LambdaFunctionURLRequest:
		method, path, rawQuery, body, isBase64 = v.RequestContext.HTTP.Method, v.RawPath, v.RawQueryString, v.Body, v.IsBase64Encoded
		header = headerFrom(nil, v.Headers, v.Cookies)
		host = v.RequestContext.DomainName
		sourceIP = v.RequestContext.HTTP.SourceIP
		if path == "" {
			path = v.RequestContext.HTTP.Path
		}
	case *events.ALBTargetGroupRequest:
		method, path, body, isBase64 = v.HTTPMethod, v.Path, v.Body, v.IsBase64Encoded
		header = headerFrom(v.MultiValueHeaders, v.Headers, nil)
		// ALB passes query strings as they came, still percent-encoded.
		rawQuery = joinRawQuery(v.MultiValueQueryStringParameters, v.QueryStringParameters)
		sourceIP = lastForwardedFor(header)
	default:
		return nil, errBadRequest
	}

	if method == "" {
		method = http.MethodGet
	}
	u := &url.URL{RawQuery: rawQuery}
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	if err := setPath(u, path, pathDecoded); err != nil {
		return nil, err
	}

	if h := header["Host"]; len(h) > 0 {
		host = h[0]
		delete(header, "Host")
	}

	r := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Host:       host,
		RequestURI: requestURI(u),
		Body:       http.NoBody,
	}
	if sourceIP != "" {
		r.RemoteAddr = net.JoinHostPort(sourceIP, "0")
	}
	if body != "" {
		if isBase64 {
			b, err := decodeBase64(body)
			if err != nil {
				return nil, errBadRequest
			}
			r.Body = &bodyReader[[]byte]{b: b}
			r.ContentLength = int64(len(b))
		} else {
			r.Body = &bodyReader[string]{b: body}
			r.ContentLength = int64(len(body))
		}
	}
	return r, nil
}

// setPath sets u's path from an event's path, decoding it exactly once.
//
// API Gateway HTTP APIs (payload formats 1.0 and 2.0) hand the function the
// path already percent-decoded; REST APIs, function URLs and ALB hand it as
// the client sent it, still encoded. Which one a path is depends on its
// source alone, never on how it looks: decoding an HTTP API's path again
// would turn a client's /%2561dmin into /admin, a route API Gateway did not
// match and whose authorizer did not run.
//
// A decoded path becomes u.Path as it is; an encoded one is decoded into
// u.Path, and a path that is not valid percent-encoding is a bad request, as
// net/http answers. Either way u.RawPath holds the escaped form when it
// differs from u.Path (as sent for an encoded path, escaped by net/url for
// a decoded one), so that r.URL.EscapedPath() and the router's matching,
// which unescapes it segment by segment, see exactly one level of encoding.
func setPath(u *url.URL, path string, decoded bool) error {
	if decoded {
		u.Path = path
		if esc := u.EscapedPath(); esc != path {
			u.RawPath = esc
		}
		return nil
	}
	if strings.IndexByte(path, '%') < 0 {
		u.Path = path
		return nil
	}
	p, err := url.PathUnescape(path)
	if err != nil {
		return errBadRequest
	}
	u.Path, u.RawPath = p, path
	return nil
}

// headerFrom builds a canonical http.Header from an event's multi-value
// headers if it has them, else its single-value ones, plus payload 2.0's
// cookies array as one Cookie header.
func headerFrom(multi map[string][]string, single map[string]string, cookies []string) http.Header {
	if multi != nil {
		n := 0
		for _, vs := range multi {
			n += len(vs)
		}
		h := make(http.Header, len(multi)+1)
		values := make([]string, 0, n) // one backing array for every value
		for k, vs := range multi {
			ck := canonicalKey(k)
			if prev, ok := h[ck]; ok { // "Accept" and "accept" in one event
				h[ck] = append(slices.Clip(prev), vs...)
				continue
			}
			start := len(values)
			values = append(values, vs...)
			h[ck] = values[start:len(values):len(values)]
		}
		addCookies(h, cookies)
		return h
	}
	h := make(http.Header, len(single)+1)
	values := make([]string, len(single))
	i := 0
	for k, v := range single {
		ck := canonicalKey(k)
		if prev, ok := h[ck]; ok {
			h[ck] = append(slices.Clip(prev), v)
			continue
		}
		values[i] = v
		h[ck] = values[i : i+1 : i+1]
		i++
	}
	addCookies(h, cookies)
	return h
}

// addCookies adds payload 2.0's cookies array to h as one Cookie header.
func addCookies(h http.Header, cookies []string) {
	if len(cookies) == 0 {
		return
	}
	c := strings.Join(cookies, "; ")
	if prev := h.Get("Cookie"); prev != "" {
		c = prev + "; " + c
	}
	h["Cookie"] = []string{c}
}

// canonical caches the canonical form of header names. Canonicalising a
// name that is not already canonical, and not one of net/textproto's common
// headers, allocates: HTTP APIs and ALB send every name in lowercase, and
// REST APIs pass CloudFront's "CloudFront-Viewer-Country" and the like. The
// cache is bounded, so that callers sending made-up names cannot grow it
// without end; past the bound, names are canonicalised as they come.
var canonical struct {
	names sync.Map // name as sent -> canonical name
	n     atomic.Int32
}

const maxCanonical = 512

func canonicalKey(k string) string {
	if ck, ok := canonical.names.Load(k); ok {
		return ck.(string)
	}
	ck := textproto.CanonicalMIMEHeaderKey(k)
	if canonical.n.Load() < maxCanonical {
		// Clone both: they may share memory with the event, which the
		// cache must not keep alive.
		if _, loaded := canonical.names.LoadOrStore(strings.Clone(k), strings.Clone(ck)); !loaded {
			canonical.n.Add(1)
		}
	}
	return ck
}

// encodeQuery builds a raw query from API Gateway's decoded query
// parameters, preferring the multi-value form.
func encodeQuery(multi map[string][]string, single map[string]string) string {
	return buildQuery(multi, single, url.QueryEscape)
}

// joinRawQuery builds a raw query from ALB's query parameters, which arrive
// exactly as the client sent them, still percent-encoded.
func joinRawQuery(multi map[string][]string, single map[string]string) string {
	return buildQuery(multi, single, func(s string) string { return s })
}

// buildQuery joins query parameters, sorted by name, as name=value pairs
// passed through escape, preferring the multi-value form.
func buildQuery(multi map[string][]string, single map[string]string, escape func(string) string) string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escape(k))
		b.WriteByte('=')
		b.WriteString(escape(v))
	}
	if len(multi) > 0 {
		for _, k := range sortedMapKeys(multi) {
			for _, v := range multi[k] {
				add(k, v)
			}
		}
		return b.String()
	}
	for _, k := range sortedMapKeys(single) {
		add(k, single[k])
	}
	return b.String()
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lastForwardedFor returns the last entry of X-Forwarded-For: the address the
// load balancer saw when it appended it, as an ALB does in its default
// X-Forwarded-For mode, "append". In "preserve" mode the entry is the
// client's own, not to be trusted; in "remove" mode there is none.
func lastForwardedFor(h http.Header) string {
	vs := h["X-Forwarded-For"]
	if len(vs) == 0 {
		return ""
	}
	last := vs[len(vs)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// decodeBase64 decodes a body, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	return base64.RawStdEncoding.DecodeString(s)
}

// bodyReader is a request body that costs one allocation, over the event's string
// or the decoded base64 bytes.
type bodyReader[T string | []byte] struct {
	b T
	i int
}

func (b *bodyReader[T]) Read(p []byte) (int, error) {
	if b.i >= len(b.b) {
		return 0, io.EOF
	}
	n := copy(p, b.b[b.i:])
	b.i += n
	return n, nil
}

func (b *bodyReader[T]) Close() error { return nil }

// requestURI is u.RequestURI() without an allocation in the common case of a
// plain path and no query.
func requestURI(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	return p + "?" + u.RawQuery
}
