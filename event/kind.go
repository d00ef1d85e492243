package event

import "strconv"

// Kind is the kind of an event: which AWS source sent it, and so which type
// it decodes into.
type Kind uint8

// The kinds of event funcify recognises. Each is described, with the type it
// decodes into, in a file of its own.
const (
	// Unknown is the kind of a payload no other kind matches.
	Unknown Kind = iota
	// APIGatewayV1 is an API Gateway REST API proxy event, or an HTTP API
	// event in payload format 1.0: [events.APIGatewayProxyRequest]. The
	// two differ by [Event.Version], "1.0" for an HTTP API, and by their
	// path: a REST API passes it percent-encoded, an HTTP API decoded.
	APIGatewayV1
	// APIGatewayV2 is an API Gateway HTTP API event in payload format 2.0:
	// [events.APIGatewayV2HTTPRequest]. Its rawPath is percent-decoded.
	APIGatewayV2
	// FunctionURL is a Lambda function URL event:
	// [events.LambdaFunctionURLRequest]. It has the shape of an HTTP API
	// 2.0 event, but comes from a domain of the form
	// <url-id>.lambda-url.<region>.on.aws and its rawPath is
	// percent-encoded.
	FunctionURL
	// ALB is an Application Load Balancer target group event, with single
	// or multi-value headers: [events.ALBTargetGroupRequest].
	ALB
	// S3 is an S3 event notification: [events.S3Event].
	S3

	numKinds
)

// String returns the kind's short name, such as "apigateway-v1".
func (k Kind) String() string {
	if k < numKinds && specs[k].name != "" {
		return specs[k].name
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// IsHTTP reports whether events of this kind are HTTP requests that expect an
// HTTP response.
func (k Kind) IsHTTP() bool {
	return k < numKinds && specs[k].http
}

// spec describes one kind: its name, how to recognise it from a payload's
// signature, and how to decode it. The matchers of different kinds must be
// mutually exclusive, so their order does not matter.
type spec struct {
	name   string
	http   bool
	match  func(*signature) bool
	decode func(payload []byte) (any, error)
}

// specs holds every kind's spec, indexed by kind. Each kind's file fills its
// entry in an init function.
var specs = [numKinds]spec{Unknown: {name: "unknown"}}

// register records the spec of a kind. It is called only from init functions
// of this package.
func register(k Kind, s spec) {
	if specs[k].match != nil {
		panic("event: kind " + s.name + " registered twice")
	}
	specs[k] = s
}

// kindOf returns the kind whose matcher accepts sig, or Unknown.
func kindOf(sig *signature) Kind {
	for k := Kind(1); k < numKinds; k++ {
		if m := specs[k].match; m != nil && m(sig) {
			return k
		}
	}
	return Unknown
}
