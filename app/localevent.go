package app

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// The HTTP API event the local server makes of a request. It lives outside
// local.go so that tests of the answers' shapes build with
// funcify.lambdaonly too; a lambdaonly binary does not link it (nothing
// calls it there).

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// localDomainName is the requestContext.domainName of the events the local
// server sends: an HTTP API's, whatever Host the client named.
const localDomainName = "local.execute-api.localhost"

// eventFromRequest builds the HTTP API 2.0 event API Gateway would send for
// r. Like API Gateway, it hands over the path percent-decoded (r.URL.Path,
// so a client's "a%2Fb" arrives as "a/b") and the query string as sent, and
// adds the x-forwarded-for, x-forwarded-proto and x-forwarded-port headers.
// The client's Host goes only into the host header, which sets the
// handler's r.Host: as requestContext.domainName, a Host such as a function
// URL's domain would make the event pass for a function URL's, whose path is
// encoded, and the decoded path would be decoded again.
func eventFromRequest(r *http.Request, body []byte) *events.APIGatewayV2HTTPRequest {
	now := time.Now()
	ev := &events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        r.URL.Path,
		RawQueryString: r.URL.RawQuery,
		Headers:        make(map[string]string, len(r.Header)+1),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:    "000000000000",
			APIID:        "local",
			DomainName:   localDomainName,
			DomainPrefix: "local",
			RequestID:    newRequestID(),
			RouteKey:     "$default",
			Stage:        "$default",
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  remoteIP(r.RemoteAddr),
				UserAgent: r.UserAgent(),
			},
		},
	}
	for k, vs := range r.Header {
		if k == "Cookie" {
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev.Headers["host"] = r.Host
	// API Gateway adds where the request came from, appending the client's
	// address to an X-Forwarded-For the client sent, and says itself how it
	// was reached, whatever the client claimed.
	ip := remoteIP(r.RemoteAddr)
	if xff := ev.Headers["x-forwarded-for"]; xff != "" {
		ip = xff + ", " + ip
	}
	ev.Headers["x-forwarded-for"] = ip
	ev.Headers["x-forwarded-proto"], ev.Headers["x-forwarded-port"] = localProtoPort(r)
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) && !bytes.ContainsRune(body, 0) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// localProtoPort returns the scheme and the port r reached the local server
// on, as API Gateway's x-forwarded-proto and x-forwarded-port say them.
func localProtoPort(r *http.Request) (proto, port string) {
	proto, port = "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(addr.String()); err == nil {
			return proto, p
		}
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil && p != "" {
		return proto, p
	}
	return proto, port
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
