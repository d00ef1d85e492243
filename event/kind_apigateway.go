package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(APIGatewayV1, spec{
		name: "apigateway-v1",
		http: true,
		// REST APIs and HTTP APIs in payload format 1.0 put httpMethod at
		// the top level; so do ALB (whose requestContext holds "elb"),
		// REQUEST authorizers (which name the "methodArn") and WebSocket
		// APIs (whose requestContext holds a "connectionId"). AWS always
		// sends a requestContext, but hand-written test events often leave
		// it out, so it is not required.
		match: func(s *signature) bool {
			return s.has("httpMethod") &&
				!s.contextHas("elb") && !s.has("methodArn") && !s.contextHas("connectionId")
		},
		decode: decodeAs[events.APIGatewayProxyRequest],
	})
	register(APIGatewayV2, spec{
		name: "apigateway-v2",
		http: true,
		// Payload format 2.0 has version "2.0" and requestContext.http;
		// function URLs share the format and differ by their domain, and
		// authorizer requests name the "routeArn".
		match: func(s *signature) bool {
			return isHTTPv2(s) && !isFunctionURLDomain(s.domainName)
		},
		decode: decodeAs[events.APIGatewayV2HTTPRequest],
	})
}

// isHTTPv2 reports whether s is an HTTP request in payload format 2.0.
func isHTTPv2(s *signature) bool {
	return string(s.version) == "2.0" && s.contextHas("http") && !s.has("routeArn")
}
