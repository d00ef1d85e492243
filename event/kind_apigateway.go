package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(APIGatewayV1, spec{
		name: "apigateway-v1",
		http: true,
		// REST APIs and HTTP APIs in payload format 1.0 always send
		// httpMethod and path at the top level. So do ALB (whose
		// requestContext holds "elb"), REQUEST authorizers (which name the
		// "methodArn" and their "type") and WebSocket APIs (whose
		// requestContext holds a "connectionId"); Bedrock agents send
		// httpMethod with an "apiPath" and no path. AWS always sends a
		// requestContext, but hand-written test events often leave it out,
		// so it is not required.
		match: func(s *signature) bool {
			return s.has(keyHTTPMethod) && s.has(keyPath) &&
				!s.contextHas(ctxELB) && !isAuthorizer(s) && !s.contextHas(ctxConnectionID)
		},
		decode: decodeAs[events.APIGatewayProxyRequest],
	})
	register(APIGatewayV2, spec{
		name: "apigateway-v2",
		http: true,
		// Payload format 2.0 has version "2.0" and requestContext.http;
		// function URLs share the format and differ by their domain.
		match: func(s *signature) bool {
			return isHTTPv2(s) && !isFunctionURLDomain(s.domainName)
		},
		decode: decodeAs[events.APIGatewayV2HTTPRequest],
	})
}

// isHTTPv2 reports whether s is an HTTP request in payload format 2.0, and
// not an authorizer's request in that format. Payload format 2.0 carries the
// method in requestContext.http, never a top-level httpMethod: a payload
// with one is left to the REST kinds, so that no payload is of two kinds.
func isHTTPv2(s *signature) bool {
	return string(s.version) == "2.0" && s.contextHas(ctxHTTP) && !isAuthorizer(s) && !s.has(keyHTTPMethod)
}

// isAuthorizer reports whether s is the request of a Lambda authorizer: a
// REST API's TOKEN or REQUEST authorizer, or an HTTP API's in either payload
// format. Its answer is a policy or a verdict, never an HTTP response, so it
// is of no HTTP kind, although the REQUEST forms carry an HTTP request's
// fields. Authorizers name the ARN of the method or route they guard, and
// their "type"; HTTP events have neither at the top level.
func isAuthorizer(s *signature) bool {
	return s.has(keyMethodARN) || s.has(keyRouteARN) || s.has(keyType)
}
